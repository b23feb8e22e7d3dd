#define CAF_SUITE protocol.validation
#include <caf/test/unit_test.hpp>

#include "protocol/error.hpp"
#include "protocol/validation.hpp"

using namespace gilgal;

/// CAF_CHECK with a note printed when it fails.
#define CHECK_WHY(cond, what)                                                  \
  do {                                                                         \
    if (cond) {                                                                \
      CAF_CHECK(true);                                                         \
    } else {                                                                   \
      CAF_ERROR(std::string{#cond} + " failed for: " + std::string{what});     \
    }                                                                          \
  } while (false)

namespace {

/// True if `err` is invalid_argument and its message starts with "field:".
bool names(const caf::error& err, const std::string& field) {
  return err && code_of(err) == errc::invalid_argument
         && message_of(err).rfind(field + ":", 0) == 0;
}

const std::string hostile[] = {"$(reboot)", ";rm -rf /", "-oProxyCommand=x",
                               "a`id`",     "a|b",       "a&&b",
                               "a\nb",      std::string{"a\0b", 3}, "a b",
                               "a>b",       "a'b"};

} // namespace

CAF_TEST(names) {
  CAF_CHECK(!validate_name("name", "My App"));
  CAF_CHECK(!validate_name("name", "api-v2.prod_1"));
  CAF_CHECK(names(validate_name("name", ""), "name"));
  CAF_CHECK(names(validate_name("name", std::string(101, 'a')), "name"));
  CAF_CHECK(!validate_name("name", std::string(100, 'a')));
  CAF_CHECK(names(validate_name("name", "-app"), "name"));
  CAF_CHECK(names(validate_name("name", "app "), "name"));
  CAF_CHECK(names(validate_name("name", "$(reboot)"), "name"));
  CAF_CHECK(names(validate_name("name", ";rm -rf /"), "name"));
  CAF_CHECK(names(validate_name("name", "a\nb"), "name"));
  CAF_CHECK(names(validate_name("name", std::string{"a\0b", 3}), "name"));
}

CAF_TEST(repository urls) {
  for (auto ok : {"https://github.com/org/repo.git", "https://git.example.com:8443/a/b",
                  "git@github.com:org/repo.git", "ssh://git@host.example/org/repo",
                  "ssh://host:2222/repo"})
    CHECK_WHY(!validate_repository_url("repositoryUrl", ok, false), ok);
  for (auto bad : {"http://github.com/org/repo", "ftp://host/x", "github.com/org/repo",
                   "https://", "https://host", "https://host/", "https://-host/x",
                   "https://host/$(reboot)", "https://host/a;rm -rf /", "-oProxyCommand=x",
                   "git@host:-oProxyCommand=x", "ssh://-oProxyCommand=x/y",
                   "https://host/a\nb", "https://host/a b", "https://host:99999/x",
                   "https://host/../etc", "git@host:path/../../x", "https://user@host/x"})
    CHECK_WHY(names(validate_repository_url("repositoryUrl", bad, true),
                            "repositoryUrl"),
                      bad);
  // Local sources only when allowed.
  for (auto local : {"/srv/git/app", "file:///srv/git/app"}) {
    CAF_CHECK(names(validate_repository_url("repositoryUrl", local, false), "repositoryUrl"));
    CAF_CHECK(!validate_repository_url("repositoryUrl", local, true));
  }
  CAF_CHECK(names(validate_repository_url("repositoryUrl", "file://relative", true),
                  "repositoryUrl"));
  CAF_CHECK(names(validate_repository_url("repositoryUrl", "/srv/../etc", true),
                  "repositoryUrl"));
  CAF_CHECK(names(validate_repository_url("repositoryUrl", "/srv/$(reboot)", true),
                  "repositoryUrl"));
}

CAF_TEST(branches) {
  for (auto ok : {"main", "feature/x-1", "release/1.2.3", "v1_0"})
    CHECK_WHY(!validate_branch("branch", ok), ok);
  for (auto bad : {"", "-x", "a..b", "a//b", "/a", "a/", "a.", ".hidden", "a/.b", "x.lock",
                   "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "@{1}", ";rm -rf /",
                   "$(reboot)"})
    CHECK_WHY(names(validate_branch("branch", bad), "branch"), bad);
  CAF_CHECK(names(validate_branch("branch", std::string(256, 'a')), "branch"));
  for (auto h : hostile)
    CAF_CHECK(names(validate_branch("branch", h), "branch"));
}

CAF_TEST(frameworks and types) {
  for (auto f : known_frameworks)
    CAF_CHECK(!validate_framework("framework", f));
  CAF_CHECK(names(validate_framework("framework", "rails"), "framework"));
  CAF_CHECK(names(validate_framework("framework", "Auto"), "framework"));
  for (auto t : known_environment_types)
    CAF_CHECK(!validate_environment_type("type", t));
  CAF_CHECK(names(validate_environment_type("type", "prod"), "type"));
}

CAF_TEST(domains) {
  for (auto ok : {"myapp.gilgal.dev", "localhost", "a-b.example.com", "x1.io"})
    CHECK_WHY(!validate_domain("domain", ok), ok);
  for (auto bad : {"", "-a.com", "a-.com", "a..com", ".a.com", "a.com.", "a_b.com",
                   "a b.com", "a.com/x", "$(reboot).com", "a\n.com"})
    CHECK_WHY(names(validate_domain("domain", bad), "domain"), bad);
  CAF_CHECK(names(validate_domain("domain", std::string(64, 'a') + ".com"), "domain"));
}

CAF_TEST(variables) {
  CAF_CHECK(!validate_variable_name("v", "NODE_ENV"));
  CAF_CHECK(!validate_variable_name("v", "_x9"));
  for (auto bad : {"", "9X", "A-B", "A B", "A=B", "$(reboot)", "A\nB"})
    CHECK_WHY(names(validate_variable_name("v", bad), "v"), bad);
  CAF_CHECK(!validate_variable_name("v", std::string(256, 'A')));
  CAF_CHECK(names(validate_variable_name("v", std::string(257, 'A')), "v"));
  CAF_CHECK(!validate_variable_value("v", std::string(32 * 1024, 'x')));
  CAF_CHECK(!validate_variable_value("v", "multi\nline"));
  CAF_CHECK(names(validate_variable_value("v", std::string(32 * 1024 + 1, 'x')), "v"));
  CAF_CHECK(names(validate_variable_value("v", std::string{"a\0b", 3}), "v"));
  std::map<std::string, std::string> many;
  for (int i = 0; i < 200; ++i)
    many["V" + std::to_string(i)] = "x";
  CAF_CHECK(!validate_variables("environmentVariables", many));
  many["V200"] = "x";
  CAF_CHECK(names(validate_variables("environmentVariables", many), "environmentVariables"));
}

CAF_TEST(environment settings) {
  environment_settings s;
  CAF_CHECK(!validate_environment_settings(s));
  s.memory_mb = 512;
  s.cpus = 0.5;
  s.pids = 128;
  s.health_check_path = "/health?x=1";
  s.health_check_timeout_seconds = 30;
  CAF_CHECK(!validate_environment_settings(s));
  auto with = [&](auto f, const std::string& field) {
    auto t = s;
    f(t);
    return names(validate_environment_settings(t), field);
  };
  CAF_CHECK(with([](auto& t) { t.memory_mb = 8; }, "resources.memoryMb"));
  CAF_CHECK(with([](auto& t) { t.memory_mb = -1; }, "resources.memoryMb"));
  CAF_CHECK(with([](auto& t) { t.cpus = 1000; }, "resources.cpus"));
  CAF_CHECK(with([](auto& t) { t.pids = 1; }, "resources.pids"));
  CAF_CHECK(with([](auto& t) { t.health_check_path = "health"; }, "healthCheck.path"));
  CAF_CHECK(with([](auto& t) { t.health_check_path = "/a b"; }, "healthCheck.path"));
  CAF_CHECK(with([](auto& t) { t.health_check_timeout_seconds = 0 - 5; },
                 "healthCheck.timeoutSeconds"));
  CAF_CHECK(with([](auto& t) { t.health_check_timeout_seconds = 3601; },
                 "healthCheck.timeoutSeconds"));
  CAF_CHECK(with([](auto& t) { t.build_labels = {{"-x", "1"}}; }, "buildNodeLabels"));
  CAF_CHECK(with([](auto& t) { t.run_labels = {{"x", "a/b"}}; }, "runNodeLabels.x"));
}

CAF_TEST(node labels) {
  for (auto key : {"a", "arch", "gilgal.dev/gpu", "A_b-c.d", "9"})
    CHECK_WHY(!validate_node_label_key("labels", key), key);
  for (auto key : {"", "-a", ".a", "/a", "_a", "a b", "a=b", "a:b", "é"})
    CHECK_WHY(names(validate_node_label_key("labels", key), "labels"), key);
  CAF_CHECK(!validate_node_label_key("labels", std::string(63, 'k')));
  CAF_CHECK(names(validate_node_label_key("labels", std::string(64, 'k')), "labels"));
  for (auto value : {"", "amd64", "-", "1.2_3-x"})
    CHECK_WHY(!validate_node_label_value("labels.k", value), value);
  for (auto value : {"a/b", "a b", "a=b", "a,b"})
    CHECK_WHY(names(validate_node_label_value("labels.k", value), "labels.k"), value);
  CAF_CHECK(!validate_node_label_value("labels.k", std::string(63, 'v')));
  CAF_CHECK(names(validate_node_label_value("labels.k", std::string(64, 'v')), "labels.k"));
  std::map<std::string, std::string> labels;
  for (int i = 0; i < 16; ++i)
    labels["k" + std::to_string(i)] = "v";
  CAF_CHECK(!validate_node_labels("labels", labels));
  labels["one-more"] = "v";
  CAF_CHECK(names(validate_node_labels("labels", labels), "labels"));
  CAF_CHECK(names(validate_node_labels("labels", {{"ok", "bad value"}}), "labels.ok"));
}

CAF_TEST(pagination parameters) {
  auto parse = [](const char* page, const char* limit) {
    std::string p = page ? page : "";
    std::string l = limit ? limit : "";
    return parse_page_request(page ? &p : nullptr, limit ? &l : nullptr);
  };
  auto def = parse(nullptr, nullptr);
  CAF_REQUIRE(def);
  CAF_CHECK_EQUAL(def->page, 1);
  CAF_CHECK_EQUAL(def->limit, 20);
  auto ok = parse("3", "100");
  CAF_REQUIRE(ok);
  CAF_CHECK_EQUAL(ok->page, 3);
  CAF_CHECK_EQUAL(ok->limit, 100);
  CAF_CHECK_EQUAL(ok->offset(), 200);
  for (auto bad : {"0", "-1", "abc", "1.5", "", " 1", "+1", "1e3", "9999999999"})
    CHECK_WHY(names(parse(bad, nullptr).error(), "page"), bad);
  for (auto bad : {"0", "101", "-1", "abc", "1.5", ""})
    CHECK_WHY(names(parse(nullptr, bad).error(), "limit"), bad);
}

CAF_TEST(commit shas messages and idempotency keys) {
  for (auto ok : {"abcdef1", "ABCDEF1234", "0123456789abcdef0123456789abcdef01234567"})
    CHECK_WHY(!validate_commit_sha("commitSha", ok), ok);
  for (auto bad : {"", "abc", "abcdefg", "0123456789abcdef0123456789abcdef012345678",
                   "-abcdef1", "abcdef1 "})
    CHECK_WHY(names(validate_commit_sha("commitSha", bad), "commitSha"), bad);
  CAF_CHECK(!validate_commit_message("commitMessage", "Fix it\twell"));
  CAF_CHECK(names(validate_commit_message("commitMessage", "a\nb"), "commitMessage"));
  CAF_CHECK(names(validate_commit_message("commitMessage", std::string(1001, 'x')),
                  "commitMessage"));
  CAF_CHECK(!validate_idempotency_key("Idempotency-Key", "retry-42"));
  for (auto bad : {"", "a b", "caf\xc3\xa9"})
    CHECK_WHY(names(validate_idempotency_key("Idempotency-Key", bad), "Idempotency-Key"), bad);
  CAF_CHECK(names(validate_idempotency_key("Idempotency-Key", std::string(256, 'k')),
                  "Idempotency-Key"));
}

CAF_TEST(resources above the server maxima) {
  resource_maxima max; // 2048 MiB, 2 CPUs, 512 pids
  environment_settings s;
  CAF_CHECK(!validate_resource_maxima(s, max)); // zero: the server default
  s.memory_mb = 2048;
  s.cpus = 2;
  s.pids = 512;
  CAF_CHECK(!validate_resource_maxima(s, max));
  s.memory_mb = 2049;
  auto err = validate_resource_maxima(s, max);
  CAF_CHECK(names(err, "resources.memoryMb"));
  CAF_CHECK_EQUAL(message_of(err),
                  "resources.memoryMb: must be at most 2048 (this server's maximum)");
  s.memory_mb = 16;
  s.cpus = 2.5;
  err = validate_resource_maxima(s, max);
  CAF_CHECK(names(err, "resources.cpus"));
  CAF_CHECK(message_of(err).find("at most 2 ") != std::string::npos);
  max.cpus = 1.5;
  s.cpus = 1.75;
  CAF_CHECK(message_of(validate_resource_maxima(s, max)).find("at most 1.5 ")
            != std::string::npos);
  s.cpus = 1;
  s.pids = 100000;
  err = validate_resource_maxima(s, max);
  CAF_CHECK(names(err, "resources.pids"));
  CAF_CHECK(message_of(err).find("512") != std::string::npos);
}

CAF_TEST(repository hosts on this machine or private networks) {
  for (auto url : {"https://127.0.0.1/x.git", "https://[::1]/x.git", "git@10.0.0.1:x.git",
                   "ssh://git@169.254.169.254/x.git", "https://localhost/x.git",
                   "https://LOCALHOST./x.git", "https://foo.localhost/x.git",
                   "https://2130706433/x.git", "https://0x7f.1/x.git", "https://8.8.8.8/x.git",
                   "ssh://u@192.168.1.10:2222/x.git"}) {
    auto err = validate_repository_target("repositoryUrl", url, false);
    CHECK_WHY(names(err, "repositoryUrl"), url);
    CHECK_WHY(!validate_repository_target("repositoryUrl", url, true), url);
  }
  CAF_CHECK(message_of(validate_repository_target("repositoryUrl",
                                                  "https://169.254.169.254/x", false))
              .find("link-local")
            != std::string::npos);
  for (auto url : {"https://github.com/a/b.git", "git@gitlab.com:a/b.git",
                   "ssh://git@host.example:22/a/b.git", "/srv/repo", "file:///srv/repo"})
    CHECK_WHY(!validate_repository_target("repositoryUrl", url, false), url);
}

CAF_TEST(notification urls events and targets) {
  for (auto url : {"https://hooks.example.com/gilgal", "http://hooks.example.com:8080/a?b=c",
                   "HTTPS://Hooks.Example.com/"})
    CHECK_WHY(!validate_notification_url("notifications[0].url", url), url);
  for (auto url : {"", "ftp://hooks.example.com/", "hooks.example.com/x",
                   "https://hooks.example.com/a b", "https:///path", "git@host:x.git",
                   "https://hooks.example.com/\xc3\xa9"})
    CHECK_WHY(names(validate_notification_url("notifications[0].url", url),
                    "notifications[0].url"),
              url);
  CAF_CHECK(validate_notification_url("u", "https://h.example/" + std::string(2048, 'a')));
  for (auto ev : {"deployment.started", "deployment.succeeded", "deployment.failed",
                  "deployment.cancelled"})
    CHECK_WHY(is_notification_event(ev), ev);
  for (auto ev : {"", "deployment", "deployment.success", "Deployment.failed"})
    CHECK_WHY(!is_notification_event(ev), ev);
  // Where it points: the rules of repository URLs.
  for (auto url : {"http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/",
                   "http://169.254.169.254/latest", "http://10.1.2.3/", "http://2130706433/",
                   "https://8.8.8.8/"}) {
    CHECK_WHY(names(validate_notification_target("notifications[2].url", url, false),
                    "notifications[2].url"),
              url);
    CHECK_WHY(!validate_notification_target("notifications[2].url", url, true), url);
  }
  CAF_CHECK(!validate_notification_target("n", "https://hooks.example.com/x", false));
}
