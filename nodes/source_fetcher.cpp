#include "nodes/source_fetcher.hpp"

#include "nodes/ascii_text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/deploy_key.hpp"
#include "nodes/git_credentials.hpp"
#include "nodes/process.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

constexpr size_t max_url_length = 2048;
constexpr size_t max_branch_length = 255;
constexpr size_t error_tail_lines = 4;

bool has_control_or_space(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == ' ';
  });
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  if (from.empty())
    return text;
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

bool contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The URL without user information (credentials never reach a log).
std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return url;
  auto host_begin = scheme + 3;
  auto slash = url.find('/', host_begin);
  auto at = url.rfind('@', slash == std::string::npos ? url.size() : slash);
  if (at == std::string::npos || at < host_begin)
    return url;
  return url.substr(0, host_begin) + "***@" + url.substr(at + 1);
}

/// Replaces every occurrence of the raw URL in git's output by its redacted form.
std::string redact_in(std::string text, const std::string& url) {
  auto safe = redact_url(url);
  if (safe == url || url.empty())
    return text;
  for (auto pos = text.find(url); pos != std::string::npos; pos = text.find(url, pos + safe.size()))
    text.replace(pos, url.size(), safe);
  return text;
}

/// How a failed git call should be treated.
enum class failure_kind { network, not_found, repository, other };

failure_kind classify(const process_result& r) {
  if (r.timed_out)
    return failure_kind::network;
  auto err = ascii_lower(r.err);
  // Definite answers from the remote first: these never get better by retrying.
  for (auto* p : {"not our ref", "unknown revision", "couldn't find remote ref",
                  "unadvertised object", "no such ref", "bad object", "invalid refspec"})
    if (contains(err, p))
      return failure_kind::not_found;
  for (auto* p : {"does not appear to be a git repository", "repository not found",
                  "not found", "authentication failed", "permission denied",
                  "could not read username", "could not read password", "terminal prompts disabled",
                  "returned error: 401", "returned error: 403", "returned error: 404",
                  "host key verification failed", "unsupported protocol", "transport '"})
    if (contains(err, p))
      return failure_kind::repository;
  for (auto* p : {"could not resolve host", "temporary failure in name resolution",
                  "failed to connect", "couldn't connect", "connection refused",
                  "connection timed out", "connection reset", "timed out", "early eof",
                  "the remote end hung up", "rpc failed", "network is unreachable",
                  "no route to host", "unable to access", "gnutls", "ssl", "tls",
                  "returned error: 5", "could not read from remote repository",
                  "ssh: connect to host", "broken pipe"})
    if (contains(err, p))
      return failure_kind::network;
  return failure_kind::other;
}

/// Variables git may take from the server's environment: proxy settings.
/// Everything else is left behind (nodes/process): the server's ssh agent,
/// askpass helpers, GIT_* overrides and trace switches never reach a tenant's
/// git call.
const std::vector<std::string> git_inherited_env = {
  "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
  "NO_PROXY",   "ALL_PROXY"};

std::string temp_parent(const fetch_options& opts) {
  if (!opts.temp_dir.empty())
    return opts.temp_dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp == '/' ? std::string{tmp} : std::string{"/tmp"};
}

/// Runs git calls with the fetcher's environment, timeout and retry policy.
class git_runner {
public:
  git_runner(const std::string& url, const fetch_options& opts) : url_(url), opts_(opts) {
    popts_.timeout = opts.timeout;
    popts_.abort = opts.abort;
    popts_.max_output_bytes = 4 << 20;
    popts_.inherit_env = git_inherited_env;
    popts_.env["GIT_TERMINAL_PROMPT"] = "0";
    popts_.env["GIT_CONFIG_NOSYSTEM"] = "1";
    popts_.env["GIT_CONFIG_GLOBAL"] = "/dev/null";
    popts_.env["LC_ALL"] = "C";
    popts_.env["GIT_PROTOCOL_FROM_USER"] = "0";
    auto home = scoped_work_dir::create(temp_parent(opts), "gilgal-git-home");
    if (home) {
      popts_.env["HOME"] = home->path();
      popts_.env["XDG_CONFIG_HOME"] = home->path() + "/.config";
      home_ = std::make_unique<scoped_work_dir>(std::move(*home));
    } else {
      home_error_ = home.error();
    }
    // The environment wins over git's configuration.
    if (!opts.ca_file.empty())
      popts_.env["GIT_SSL_CAINFO"] = opts.ca_file;
  }

  void log(const std::string& line) const {
    if (opts_.on_log)
      opts_.on_log(line);
  }

  /// argv for `git <safety options> args...`.
  std::vector<std::string> command(std::initializer_list<std::string> args) const {
    std::vector<std::string> argv{opts_.git,
                                  "-c", "core.hooksPath=/dev/null",
                                  "-c", "advice.detachedHead=false",
                                  "-c", "init.defaultBranch=gilgal",
                                  "-c", "credential.helper=",
                                  "-c", "protocol.allow=never",
                                  "-c", "protocol.https.allow=always",
                                  "-c", "protocol.ssh.allow=always"};
    if (is_local_source(url_)) {
      argv.insert(argv.end(), {"-c", "protocol.file.allow=always"});
    } else {
      argv.insert(argv.end(), {"-c", "protocol.file.allow=never"});
    }
    // A redirect could lead anywhere, including to addresses refused below.
    if (!opts_.allow_private_targets)
      argv.insert(argv.end(), {"-c", "http.followRedirects=false"});
    argv.insert(argv.end(), args);
    return argv;
  }

  /// One git call; a spawn failure or cancellation is an error, a non-zero
  /// exit is left to the caller.
  caf::expected<process_result> once(const std::vector<std::string>& argv,
                                     const std::string& cwd) const {
    if (!home_)
      return home_error_;
    auto popts = popts_;
    popts.cwd = cwd;
    if (is_local_source(url_)) {
      auto r = run_process(argv, popts);
      if (r)
        r->err = redact_in(std::move(r->err), url_);
      return r;
    }
    // The credentials exist for this call only.
    auto before = opts_.known_hosts != nullptr ? *opts_.known_hosts : std::string{};
    auto creds = git_credentials::prepare(url_, opts_.repository_token, opts_.deploy_key, before,
                                          temp_parent(opts_));
    if (!creds)
      return creds.error();
    for (auto& [name, value] : creds->env())
      popts.env[name] = value;
    auto r = run_process(argv, popts);
    if (!r)
      return r.error();
    r->err = redact_in(std::move(r->err), url_);
    if (!opts_.repository_token.empty())
      r->err = replace_all(std::move(r->err), opts_.repository_token, "***");
    if (opts_.known_hosts != nullptr) {
      auto after = creds->known_hosts();
      if (after != before && after.compare(0, before.size(), before) == 0) {
        // ssh appended a host it met for the first time.
        log_new_hosts(after.substr(before.size()));
        *opts_.known_hosts = after;
      }
    }
    return r;
  }

  /// A network git call with retries and exponential backoff. Returns the
  /// last result (success or a failure that is not network-class), or
  /// errc::unavailable when every attempt failed on the network.
  caf::expected<process_result> with_retries(const std::vector<std::string>& argv,
                                             const std::string& cwd,
                                             const std::string& what) const {
    auto attempts = std::max(1, opts_.attempts);
    auto delay = opts_.backoff;
    std::string last;
    for (int i = 1; i <= attempts; ++i) {
      auto pins = target_pins();
      if (!pins && code_of(pins.error()) != errc::unavailable)
        return pins.error();
      if (pins) {
        auto pinned = argv;
        pinned.insert(pinned.begin() + 1, pins->begin(), pins->end());
        auto r = once(pinned, cwd);
        if (!r)
          return r.error();
        if (r->exit_code == 0 && !r->timed_out)
          return r;
        if (classify(*r) != failure_kind::network)
          return r;
        last = r->timed_out ? "timed out after " + std::to_string(opts_.timeout.count()) + " ms"
                            : tail_lines(r->err, error_tail_lines);
      } else {
        // The name does not resolve (now): a network failure like git's own.
        last = message_of(pins.error());
      }
      if (i == attempts)
        break;
      log(what + " failed (attempt " + std::to_string(i) + " of " + std::to_string(attempts)
          + "), retrying in " + std::to_string(delay.count()) + " ms: " + tail_lines(last, 1));
      if (auto err = sleep_for(delay))
        return err;
      delay *= 2;
    }
    return make_error(errc::unavailable, what + ": repository " + redact_url(url_)
                                             + " unreachable after " + std::to_string(attempts)
                                             + " attempts: " + last);
  }

  const std::string& url() const { return url_; }

  /// The refusal of the remote's host, if it is refused (a name that does not
  /// resolve now is left to the retries of the network calls).
  caf::error refused_target() const {
    auto pins = target_pins();
    if (!pins && code_of(pins.error()) != errc::unavailable)
      return pins.error();
    return {};
  }

  /// Checks the remote's host (see the header) and returns the options that
  /// pin git's https connections to the addresses checked. Local sources
  /// need nothing.
  caf::expected<std::vector<std::string>> target_pins() const {
    std::vector<std::string> pins;
    if (is_local_source(url_))
      return pins;
    auto target = parse_url_target(url_);
    if (!target)
      return make_error(errc::invalid_argument, "repositoryUrl: has no host");
    auto addresses = resolve_target("repositoryUrl", target->host, opts_.allow_private_targets,
                                    opts_.resolve);
    if (!addresses)
      return addresses.error();
    if (opts_.allow_private_targets || target->scheme != "https"
        || parse_ip_literal(target->host))
      return pins;
    std::string value = target->host + ":" + std::to_string(target->port) + ":";
    for (size_t i = 0; i < addresses->size(); ++i) {
      auto& a = (*addresses)[i];
      value += (i > 0 ? "," : "") + (a.v6 ? "[" + a.to_string() + "]" : a.to_string());
    }
    pins = {"-c", "http.curloptResolve=" + value};
    return pins;
  }

private:
  void log_new_hosts(const std::string& lines) const {
    size_t begin = 0;
    while (begin < lines.size()) {
      auto end = lines.find('\n', begin);
      auto line = lines.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      begin = end == std::string::npos ? lines.size() : end + 1;
      auto space = line.find(' ');
      if (line.empty() || line[0] == '#' || space == std::string::npos)
        continue;
      log("SSH host " + line.substr(0, space) + " seen for the first time: its key "
          + ssh_fingerprint(line.substr(space + 1))
          + " is recorded for this project; a different key will be refused");
    }
  }

  caf::error sleep_for(std::chrono::milliseconds d) const {
    if (wait_or_abort(d, opts_.abort))
      return make_error(errc::cancelled, "source fetch cancelled");
    return {};
  }

  std::string url_;
  const fetch_options& opts_;
  process_options popts_;
  std::unique_ptr<scoped_work_dir> home_; // git's HOME, removed with the runner
  caf::error home_error_;
};

/// What a refusal of the remote means for the user, or empty when git's
/// output shows none of the known refusals.
std::string explain_refusal(const std::string& err) {
  auto e = ascii_lower(err);
  if (contains(e, "remote host identification has changed")
      || (contains(e, "host key for") && contains(e, "has changed")))
    return "the SSH host key of the repository's server has changed since Gilgal first "
           "connected to it, so the fetch was refused (this is what a man-in-the-middle looks "
           "like). If the server's key really changed, forget the recorded keys with "
           "DELETE /api/projects/:id/known-hosts and deploy again";
  if (contains(e, "host key verification failed"))
    return "the SSH host key of the repository's server could not be verified";
  if (contains(e, "permission denied (publickey"))
    return "the server refused the project's deploy key (Permission denied (publickey)): add "
           "its public key (POST /api/projects/:id/deploy-key) to the repository with read "
           "access";
  if (contains(e, "returned error: 403"))
    return "the server refused the repository token (HTTP 403): it has no read access to this "
           "repository";
  if (contains(e, "could not read username") || contains(e, "could not read password")
      || contains(e, "authentication failed") || contains(e, "returned error: 401"))
    return "the server asks for credentials (HTTP 401) and refused the project's "
           "repositoryToken, or the project has none";
  return {};
}

/// The error for a failed git call that is not worth retrying.
caf::error git_failure(const process_result& r, const std::string& what, const std::string& url) {
  auto detail = tail_lines(r.err, error_tail_lines);
  if (detail.empty())
    detail = "git exited with status " + std::to_string(r.exit_code);
  switch (classify(r)) {
    case failure_kind::repository:
      if (auto why = explain_refusal(r.err); !why.empty())
        return make_error(errc::unavailable, what + ": repository " + redact_url(url)
                                               + " cannot be read: " + why);
      return make_error(errc::unavailable, what + ": repository " + redact_url(url)
                                             + " cannot be read: " + detail);
    case failure_kind::not_found:
      return make_error(errc::not_found, what + ": " + detail);
    default:
      return make_error(errc::internal, what + " failed: " + detail);
  }
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
    ++i;
  return s.substr(i);
}

bool dir_is_empty(const std::string& path, bool& exists) {
  exists = false;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr)
    return false;
  exists = true;
  bool empty = true;
  while (auto* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

void remove_tree_at(int parent_fd, const char* name) {
  int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    if (DIR* d = ::fdopendir(fd)) {
      std::vector<std::string> names;
      while (auto* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
          names.emplace_back(e->d_name);
      for (auto& n : names)
        remove_tree_at(::dirfd(d), n.c_str());
      ::closedir(d); // closes fd
    } else {
      ::close(fd);
    }
    ::unlinkat(parent_fd, name, AT_REMOVEDIR);
    return;
  }
  ::unlinkat(parent_fd, name, 0);
}

} // namespace

bool is_local_source(const std::string& url) {
  return !url.empty()
         && (url[0] == '/' || url[0] == '.' || url.compare(0, 7, "file://") == 0);
}

caf::error check_repository_url(const std::string& url, bool allow_local) {
  if (url.empty())
    return make_error(errc::invalid_argument, "repositoryUrl: must not be empty");
  if (url.size() > max_url_length)
    return make_error(errc::invalid_argument, "repositoryUrl: longer than 2048 characters");
  if (url[0] == '-')
    return make_error(errc::invalid_argument, "repositoryUrl: must not start with '-'");
  if (has_control_or_space(url))
    return make_error(errc::invalid_argument,
                      "repositoryUrl: must not contain whitespace or control characters");
  // <transport>::<address> selects a remote helper (ext:: runs commands).
  auto helper = url.find("::");
  if (url.compare(0, 4, "ext:") == 0
      || (helper != std::string::npos && helper > 0
          && std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(helper),
                         [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '+'
                                  || c == '-' || c == '.';
                         })))
    return make_error(errc::invalid_argument, "repositoryUrl: remote helpers are not allowed");
  if (is_local_source(url) && !allow_local)
    return make_error(errc::invalid_argument,
                      "repositoryUrl: local sources need --allow-local-sources");
  return {};
}

caf::error check_branch(const std::string& b) {
  auto bad = [](const std::string& why) {
    return make_error(errc::invalid_argument, "branch: " + why);
  };
  if (b.empty())
    return bad("must not be empty");
  if (b.size() > max_branch_length)
    return bad("longer than 255 characters");
  if (b[0] == '-')
    return bad("must not start with '-'");
  for (char c : b)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/'
          || c == '-'))
      return bad("only letters, digits, '.', '_', '/' and '-' are allowed");
  if (b.front() == '/' || b.back() == '/' || b.back() == '.' || b.find("//") != std::string::npos
      || b.find("..") != std::string::npos || b.find("/.") != std::string::npos
      || b.front() == '.' || b == "@"
      || (b.size() >= 5 && b.compare(b.size() - 5, 5, ".lock") == 0))
    return bad("not a valid git branch name");
  return {};
}

caf::error check_commit(const std::string& sha) {
  if (sha.size() < 7 || sha.size() > 40 || !is_hex(sha))
    return make_error(errc::invalid_argument, "commitSha: must be 7 to 40 hexadecimal characters");
  return {};
}

caf::expected<std::string> resolve_head(const std::string& url, const std::string& branch,
                                        const fetch_options& opts) {
  if (auto err = check_repository_url(url, opts.allow_local))
    return err;
  if (auto err = check_branch(branch))
    return err;
  git_runner git(url, opts);
  if (auto err = git.refused_target())
    return err;
  auto ref = "refs/heads/" + branch;
  auto r = git.with_retries(git.command({"ls-remote", "--", url, ref}), "", "git ls-remote");
  if (!r)
    return r.error();
  if (r->exit_code != 0)
    return git_failure(*r, "git ls-remote", url);
  // Lines: "<sha>\t<ref>"; patterns match ref suffixes, so compare exactly.
  size_t begin = 0;
  const auto& out = r->out;
  while (begin < out.size()) {
    auto end = out.find('\n', begin);
    if (end == std::string::npos)
      end = out.size();
    auto line = out.substr(begin, end - begin);
    auto tab = line.find('\t');
    if (tab == 40 && line.substr(tab + 1) == ref && is_hex(line.substr(0, 40)))
      return ascii_lower(line.substr(0, 40));
    begin = end + 1;
  }
  return make_error(errc::not_found, "branch: '" + branch + "' does not exist in repository "
                                       + redact_url(url));
}

caf::expected<fetched_commit> fetch_commit(const std::string& url, const std::string& branch,
                                           const std::string& commit_in,
                                           const std::string& work_dir,
                                           const fetch_options& opts) {
  if (auto err = check_repository_url(url, opts.allow_local))
    return err;
  if (auto err = check_branch(branch))
    return err;
  if (auto err = check_commit(commit_in))
    return err;
  bool exists = false;
  if (!dir_is_empty(work_dir, exists))
    return make_error(errc::internal, exists ? "work directory is not empty: " + work_dir
                                             : "work directory does not exist: " + work_dir);
  auto commit = ascii_lower(commit_in);
  git_runner git(url, opts);
  if (auto err = git.refused_target()) // before anything is written to work_dir
    return err;
  auto run_local = [&](std::initializer_list<std::string> args,
                       const std::string& what) -> caf::expected<process_result> {
    auto r = git.once(git.command(args), work_dir);
    if (!r)
      return r.error();
    if (r->exit_code != 0 || r->timed_out)
      return git_failure(*r, what, url);
    return r;
  };
  if (auto r = run_local({"init", "-q"}, "git init"); !r)
    return r.error();
  bool have_commit = false;
  if (commit.size() == 40) {
    // The commit alone (servers allow reachable shas with protocol v2).
    auto r = git.with_retries(git.command({"fetch", "--quiet", "--no-tags", "--depth", "1", "--",
                                           url, commit}),
                              work_dir, "git fetch");
    if (!r)
      return r.error();
    have_commit = r->exit_code == 0;
    if (!have_commit && classify(*r) == failure_kind::repository)
      return git_failure(*r, "git fetch", url);
  }
  auto refspec = "+refs/heads/" + branch + ":refs/remotes/origin/" + branch;
  auto rev_parse = [&]() -> std::string {
    auto r = git.once(git.command({"rev-parse", "--verify", "--quiet", "--end-of-options",
                                   commit + "^{commit}"}),
                      work_dir);
    if (!r || r->exit_code != 0)
      return {};
    return trim(r->out);
  };
  std::string full;
  if (have_commit) {
    full = rev_parse();
  } else {
    // A prefix (or a server refusing a bare sha): the branch's recent history
    // first, then all of it.
    auto r = git.with_retries(git.command({"fetch", "--quiet", "--no-tags", "--depth", "50", "--",
                                           url, refspec}),
                              work_dir, "git fetch");
    if (!r)
      return r.error();
    if (r->exit_code != 0) {
      if (classify(*r) == failure_kind::not_found)
        return make_error(errc::not_found, "branch: '" + branch
                                             + "' does not exist in repository "
                                             + redact_url(url));
      return git_failure(*r, "git fetch", url);
    }
    full = rev_parse();
    struct stat st;
    if (full.empty() && ::stat((work_dir + "/.git/shallow").c_str(), &st) == 0) {
      git.log("Commit " + commit + " is not among the last 50 commits; fetching the whole branch");
      r = git.with_retries(git.command({"fetch", "--quiet", "--no-tags", "--unshallow", "--", url,
                                        refspec}),
                           work_dir, "git fetch");
      if (!r)
        return r.error();
      if (r->exit_code != 0)
        return git_failure(*r, "git fetch", url);
      full = rev_parse();
    }
  }
  if (full.size() != 40 || full.compare(0, commit.size(), commit) != 0)
    return make_error(errc::not_found, "commitSha: commit " + commit + " not found on branch '"
                                         + branch + "' of repository " + redact_url(url));
  if (auto r = run_local({"checkout", "--quiet", "--detach", full, "--"}, "git checkout"); !r)
    return r.error();
  auto head = run_local({"rev-parse", "HEAD"}, "git rev-parse");
  if (!head)
    return head.error();
  if (trim(head->out) != full)
    return make_error(errc::internal, "git checkout left HEAD at " + trim(head->out)
                                        + " instead of " + full);
  auto msg = run_local({"log", "-1", "--format=%s", full, "--"}, "git log");
  if (!msg)
    return msg.error();
  return fetched_commit{full, trim(msg->out)};
}

// -- scoped_work_dir ----------------------------------------------------------

caf::expected<scoped_work_dir> scoped_work_dir::create(const std::string& parent,
                                                       const std::string& prefix) {
  if (parent.empty())
    return make_error(errc::invalid_argument, "work directory parent must not be empty");
  // mkdir -p parent
  for (size_t pos = 1; pos <= parent.size(); ++pos) {
    if (pos == parent.size() || parent[pos] == '/') {
      auto part = parent.substr(0, pos);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
        return make_error(errc::internal, "cannot create " + part + ": " + std::strerror(errno));
    }
  }
  std::string tmpl = parent + "/" + prefix + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    return make_error(errc::internal, "cannot create a work directory under " + parent + ": "
                                        + std::strerror(errno));
  return scoped_work_dir(std::string(buf.data()));
}

scoped_work_dir::scoped_work_dir(scoped_work_dir&& other) noexcept
  : path_(std::move(other.path_)) {
  other.path_.clear();
}

scoped_work_dir& scoped_work_dir::operator=(scoped_work_dir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

scoped_work_dir::~scoped_work_dir() {
  remove();
}

void scoped_work_dir::remove() {
  if (!path_.empty())
    remove_directory_tree(path_);
  path_.clear();
}

void remove_directory_tree(const std::string& path) {
  if (path.empty() || path == "/")
    return;
  remove_tree_at(AT_FDCWD, path.c_str());
}

} // namespace gilgal
