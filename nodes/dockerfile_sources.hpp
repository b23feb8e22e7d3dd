// Remote sources of a repository's Dockerfile: `ADD <url> ...` makes the Docker
// daemon fetch the URL from the host's network, where the cloud metadata
// service (169.254.169.254), other apps' published ports and private services
// answer. Such an ADD is refused before the build when its host is an IP
// literal, a name of this machine, or resolves to a loopback, link-local or
// private address (unless private targets are allowed).
//
// What it cannot see: a URL that redirects (the daemon follows redirects), a
// name that resolves elsewhere when the daemon looks it up (DNS rebinding),
// and RUN steps (curl, wget) — build containers share the daemon's network.
// README "Security" says so.
#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>

#include "nodes/host_resolver.hpp"

namespace gilgal {

/// One source of an ADD instruction that names a remote location.
struct dockerfile_remote_source {
  int line = 0;         // 1-based line of the instruction
  std::string source;   // as written
};

/// The ADD (and ONBUILD ADD) sources that are URLs ("scheme://..." or
/// "git@host:..."), after line continuations, comments, the escape directive,
/// flags and the JSON form; quotes and escape characters are removed before
/// the test, as the builder removes them. A source with a variable ('$') is
/// listed too: its value cannot be known here.
std::vector<dockerfile_remote_source> remote_sources(const std::string& dockerfile);

/// errc::build_failed naming the line and the source for the first remote
/// source that is refused (a variable in an ADD source, no host, or a host
/// refused by resolve_target). Resolves names (blocking).
caf::error check_remote_sources(const std::string& dockerfile, bool allow_private,
                                const host_resolver& resolve = {});

} // namespace gilgal
