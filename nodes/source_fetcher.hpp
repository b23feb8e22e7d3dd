// Fetches the source of a project at one commit with `git`, run with an
// argument vector (never a shell), a timeout per git call, and retries with
// exponential backoff on network-class failures only.
//
// Every input is validated again here (defence in depth behind the HTTP
// edge): no leading '-', no control characters, a branch made of
// [A-Za-z0-9._/-] following git's ref rules, a commit of 7..40 hex digits.
//
// git runs with nothing of the server's: no system or global git config
// (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null), a temporary empty HOME, no
// credential helpers, no terminal prompts, no redirects, only the https, ssh
// (and, for local sources, file) transports, and an environment of allow-listed
// variables (nodes/process). Before every network call the remote's host is
// resolved and refused when it is an IP literal or any of its addresses is
// loopback, link-local or private (unless allow_private_targets); for https,
// git is pinned to the addresses checked (http.curloptResolve), so a DNS
// answer that changes in between cannot send it elsewhere. ssh resolves the
// name itself: there a rebinding name keeps a window between check and connect.
//
// Private repositories: a token (https) or a deploy key (ssh) reaches git
// through nodes/git_credentials, for the duration of one git call; git never
// gets the server's own credentials (no ssh agent, no ~/.ssh, no credential
// helpers).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/host_resolver.hpp"

namespace gilgal {

struct fetch_options {
  /// Limit of each git invocation (a timeout counts as a network failure).
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  /// Attempts of a network operation in total (>= 1).
  int attempts = 3;
  /// Delay before the second attempt; doubled before each further one.
  std::chrono::milliseconds backoff{std::chrono::seconds(1)};
  /// Accept local paths and file:// URLs (server flag --allow-local-sources).
  bool allow_local = false;
  /// Accept remotes on loopback, link-local or private addresses and IP
  /// literals (server flag --allow-private-targets).
  bool allow_private_targets = false;
  /// Looks up remote hosts; empty: the system resolver.
  host_resolver resolve;
  /// HTTPS token of a private repository ("TOKEN" or "USER:TOKEN"), given to
  /// https remotes only. Never logged, never in argv or the URL.
  std::string repository_token;
  /// OpenSSH private key given to ssh remotes. Never logged.
  std::string deploy_key;
  /// The project's ssh known_hosts, in and out: each ssh call starts from
  /// it, a host seen for the first time is recorded into it, a host whose
  /// key changed is refused. Null: every call starts from none.
  std::string* known_hosts = nullptr;
  /// PEM bundle git trusts for https remotes instead of the system's (empty:
  /// the system's).
  std::string ca_file;
  /// Where git's temporary HOME and credential files are created (empty:
  /// $TMPDIR or /tmp).
  std::string temp_dir;
  /// The git program.
  std::string git = "git";
  /// Stops a git call at once and cuts a retry pause short: errc::cancelled.
  std::shared_ptr<abort_signal> abort;
  /// Receives progress lines ("Fetching ...", "retrying in 2s ...") for the
  /// deployment log. Never receives credentials.
  std::function<void(const std::string&)> on_log;
};

struct fetched_commit {
  std::string sha;      // full 40-hex commit id that is checked out
  std::string message;  // its subject line (git log -1 --format=%s)
};

/// True for an absolute path, a relative path starting with '.', or file://.
bool is_local_source(const std::string& url);

/// Validation used by the fetcher (errc::invalid_argument naming the field).
caf::error check_repository_url(const std::string& url, bool allow_local);
caf::error check_branch(const std::string& branch);
caf::error check_commit(const std::string& sha_or_prefix);

/// The full sha of refs/heads/<branch> at `url` (git ls-remote).
/// errc::not_found when the branch does not exist; errc::unavailable after
/// the retries when the remote cannot be reached; errc::invalid_argument for
/// bad input or a repository that does not exist / refuses access.
caf::expected<std::string> resolve_head(const std::string& url, const std::string& branch,
                                        const fetch_options& options = {});

/// Initialises a repository in `work_dir` (which must exist and be empty),
/// fetches `commit` (a full sha: that commit alone, depth 1; a prefix: the
/// branch's history, shallow first) and checks it out detached.
/// errc::not_found when the commit does not exist (no retries for that).
caf::expected<fetched_commit> fetch_commit(const std::string& url, const std::string& branch,
                                           const std::string& commit,
                                           const std::string& work_dir,
                                           const fetch_options& options = {});

/// A fresh directory (mkdtemp under `parent`), removed with everything in it
/// when the object is destroyed — whatever happened in between.
class scoped_work_dir {
public:
  /// Creates PARENT/PREFIX.XXXXXX (and PARENT itself if missing).
  static caf::expected<scoped_work_dir> create(const std::string& parent,
                                               const std::string& prefix = "gilgal-src");

  scoped_work_dir(scoped_work_dir&& other) noexcept;
  scoped_work_dir& operator=(scoped_work_dir&& other) noexcept;
  scoped_work_dir(const scoped_work_dir&) = delete;
  scoped_work_dir& operator=(const scoped_work_dir&) = delete;
  ~scoped_work_dir();

  const std::string& path() const { return path_; }

  /// Removes the directory now (idempotent).
  void remove();

private:
  explicit scoped_work_dir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

/// Removes a directory tree without following symbolic links (rm -rf).
void remove_directory_tree(const std::string& path);

} // namespace gilgal
