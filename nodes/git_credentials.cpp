#include "nodes/git_credentials.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

/// Writes `content` to a new file of mode 0600 (never through a symlink,
/// never over an existing file).
caf::error write_private_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(errc::internal, "cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    auto n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      auto why = std::string{std::strerror(errno)};
      ::close(fd);
      return make_error(errc::internal, "cannot write " + path + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0)
    return make_error(errc::internal, "cannot write " + path + ": " + std::strerror(errno));
  return {};
}

/// A path as one word of GIT_SSH_COMMAND (git hands that to sh -c): single
/// quotes, and no path that could break out of them.
caf::expected<std::string> shell_word(const std::string& path) {
  for (unsigned char c : path)
    if (c == '\'' || c < 0x20 || c == 0x7f)
      return make_error(errc::internal, "unusable temporary directory for git: " + path);
  return "'" + path + "'";
}

std::string base64(const std::string& bytes) {
  std::string b64(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.size() - 1);
  return b64;
}

/// "https://host[:port]/" of an https URL, without user information; empty
/// for any other URL.
std::string https_origin(const std::string& url) {
  if (url.compare(0, 8, "https://") != 0)
    return {};
  auto end = url.find_first_of("/?#", 8);
  auto authority = url.substr(8, end == std::string::npos ? std::string::npos : end - 8);
  if (auto at = authority.rfind('@'); at != std::string::npos)
    authority = authority.substr(at + 1);
  if (authority.empty())
    return {};
  return "https://" + authority + "/";
}

} // namespace

bool is_ssh_remote(const std::string& url) {
  if (url.compare(0, 6, "ssh://") == 0 || url.compare(0, 10, "git+ssh://") == 0
      || url.compare(0, 10, "ssh+git://") == 0)
    return true;
  if (url.find("://") != std::string::npos || url.empty() || url[0] == '/' || url[0] == '.')
    return false;
  // scp-like syntax: a colon before any slash.
  auto colon = url.find(':');
  auto slash = url.find('/');
  return colon != std::string::npos && colon > 0 && (slash == std::string::npos || colon < slash);
}

caf::expected<git_credentials> git_credentials::prepare(const std::string& url,
                                                        const std::string& token,
                                                        const std::string& deploy_key,
                                                        const std::string& known_hosts,
                                                        const std::string& parent) {
  auto dir = scoped_work_dir::create(parent, "gilgal-git-auth");
  if (!dir)
    return dir.error();
  bool ssh = is_ssh_remote(url);
  auto hosts_path = dir->path() + "/known_hosts";
  git_credentials out{std::move(*dir), ssh ? hosts_path : std::string{}, known_hosts};
  if (ssh) {
    if (auto err = write_private_file(hosts_path, known_hosts))
      return err;
    auto key_path = out.dir_.path() + "/deploy_key";
    if (!deploy_key.empty())
      if (auto err = write_private_file(key_path, deploy_key))
        return err;
    auto key_word = shell_word(key_path);
    auto hosts_word = shell_word(hosts_path);
    if (!key_word)
      return key_word.error();
    if (!hosts_word)
      return hosts_word.error();
    // -F /dev/null: no ssh_config (ssh finds ~/.ssh through the password
    // database, not $HOME); an IdentityFile given means no default ones.
    out.env_["GIT_SSH_COMMAND"] =
      "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none"
      " -o IdentityFile=" + *key_word + " -o UserKnownHostsFile=" + *hosts_word
      + " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=accept-new"
        " -o UpdateHostKeys=no -o HashKnownHosts=no -o ControlMaster=no -o ControlPath=none"
        " -o ConnectTimeout=30";
    out.env_["GIT_SSH_VARIANT"] = "ssh";
    return out;
  }
  auto origin = https_origin(url);
  if (!token.empty() && !origin.empty()) {
    auto colon = token.find(':');
    auto user_pass = colon == std::string::npos ? "x-access-token:" + token : token;
    out.env_["GIT_CONFIG_COUNT"] = "1";
    out.env_["GIT_CONFIG_KEY_0"] = "http." + origin + ".extraHeader";
    out.env_["GIT_CONFIG_VALUE_0"] = "Authorization: Basic " + base64(user_pass);
    sodium_memzero(user_pass.data(), user_pass.size());
  }
  return out;
}

std::string git_credentials::known_hosts() const {
  if (known_hosts_path_.empty())
    return given_known_hosts_;
  std::ifstream in(known_hosts_path_, std::ios::binary);
  if (!in)
    return given_known_hosts_;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace gilgal
