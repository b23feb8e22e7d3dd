// The credentials of a private repository, handed to ONE git call and gone
// after it.
//
// A private directory (mode 0700) holds, for an ssh remote, the deploy key
// (mode 0600) and the project's known_hosts; git gets GIT_SSH_COMMAND naming
// them, with the server's own ssh setup switched off (no ~/.ssh/config, no
// default identities, no agent, no global known_hosts) and
// StrictHostKeyChecking=accept-new: a host seen first is recorded, a changed
// host key is refused. For an https remote with a token, git gets an
// Authorization header through GIT_CONFIG_COUNT/KEY/VALUE, scoped to the
// remote's origin: never in argv (a process listing), never in the URL.
// Destroying the object removes the directory with everything in it.
#pragma once

#include <map>
#include <string>

#include <caf/expected.hpp>

#include "nodes/source_fetcher.hpp"

namespace gilgal {

/// "ssh://..." or scp-like "[user@]host:path".
bool is_ssh_remote(const std::string& url);

class git_credentials {
public:
  /// Prepares one git call against `url` (validated by the fetcher) in a
  /// fresh directory under `parent`. `token`: "TOKEN" or "USER:TOKEN"
  /// (USER defaults to x-access-token, which GitHub and GitLab accept), used
  /// for https remotes only. `deploy_key`: an OpenSSH private key, used for
  /// ssh remotes only.
  static caf::expected<git_credentials> prepare(const std::string& url, const std::string& token,
                                                const std::string& deploy_key,
                                                const std::string& known_hosts,
                                                const std::string& parent);

  /// Variables for git's environment (secret: never log them).
  const std::map<std::string, std::string>& env() const { return env_; }

  /// The known_hosts as ssh left them after the call (hosts seen for the
  /// first time appended); the given ones for a remote that is not ssh.
  std::string known_hosts() const;

private:
  git_credentials(scoped_work_dir dir, std::string known_hosts_path, std::string known_hosts)
    : dir_(std::move(dir)),
      known_hosts_path_(std::move(known_hosts_path)),
      given_known_hosts_(std::move(known_hosts)) {}

  scoped_work_dir dir_;
  std::string known_hosts_path_; // empty: not an ssh remote
  std::string given_known_hosts_;
  std::map<std::string, std::string> env_;
};

} // namespace gilgal
