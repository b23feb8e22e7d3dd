// Pull request payloads as GitHub, Gitea and GitLab document them (shapes cut
// down to the fields Gilgal reads plus some it must ignore).
#define CAF_SUITE protocol.pull_request_event
#include <caf/test/unit_test.hpp>

#include "protocol/error.hpp"
#include "protocol/pull_request_event.hpp"

using namespace gilgal;
using nlohmann::json;

namespace {

const std::string sha = "0123456789abcdef0123456789abcdef01234567";

/// GitHub's pull_request event (https://docs.github.com/webhooks/webhook-events-and-payloads#pull_request).
json github(const std::string& action, const std::string& head_repo = "acme/shop") {
  return json{
    {"action", action},
    {"number", 42},
    {"pull_request",
     {{"id", 1234567},
      {"number", 42},
      {"state", action == "closed" ? "closed" : "open"},
      {"title", "Add the cart\nmore"},
      {"merged", false},
      {"head",
       {{"label", "acme:feature/cart"},
        {"ref", "feature/cart"},
        {"sha", "0123456789ABCDEF0123456789ABCDEF01234567"},
        {"repo", head_repo.empty() ? json(nullptr) : json{{"full_name", head_repo}}}}},
      {"base",
       {{"ref", "main"},
        {"sha", std::string(40, 'b')},
        {"repo", {{"full_name", "acme/shop"}}}}}}},
    {"repository", {{"full_name", "acme/shop"}}},
    {"sender", {{"login", "octocat"}}}};
}

/// GitLab's Merge Request Hook (https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events).
json gitlab(const std::string& action, int source = 7, int target = 7) {
  return json{
    {"object_kind", "merge_request"},
    {"event_type", "merge_request"},
    {"project", {{"id", target}, {"path_with_namespace", "acme/shop"}}},
    {"object_attributes",
     {{"id", 99001},
      {"iid", 17},
      {"action", action},
      {"state", "opened"},
      {"title", "Draft: the cart"},
      {"source_branch", "feature/cart"},
      {"target_branch", "main"},
      {"source_project_id", source},
      {"target_project_id", target},
      {"last_commit", {{"id", sha}, {"message", "cart\n"}}},
      {"oldrev", std::string(40, 'c')}}}};
}

} // namespace

CAF_TEST(github opened reopened and synchronize deploy the head commit) {
  for (auto action : {"opened", "reopened", "synchronize"}) {
    auto ev = parse_github_pull_request(github(action));
    CAF_REQUIRE(ev);
    CAF_CHECK_EQUAL(ev->kind, pull_request_event::deploy);
    CAF_CHECK_EQUAL(ev->action, action);
    CAF_CHECK_EQUAL(ev->number, 42);
    CAF_CHECK_EQUAL(ev->head_sha, sha); // lower-cased
    CAF_CHECK_EQUAL(ev->head_branch, "feature/cart");
    CAF_CHECK_EQUAL(ev->title, "Add the cart");
    CAF_CHECK(!ev->from_fork);
  }
}

CAF_TEST(github closed removes and other actions are ignored) {
  auto closed = parse_github_pull_request(github("closed"));
  CAF_REQUIRE(closed);
  CAF_CHECK_EQUAL(closed->kind, pull_request_event::close);
  CAF_CHECK_EQUAL(closed->number, 42);
  // A close needs no head commit (a deleted fork's head may be gone).
  auto bare = github("closed");
  bare["pull_request"]["head"].erase("sha");
  CAF_CHECK(parse_github_pull_request(bare));
  for (auto action : {"edited", "labeled", "assigned", "review_requested", "ready_for_review"}) {
    auto ev = parse_github_pull_request(github(action));
    CAF_REQUIRE(ev);
    CAF_CHECK_EQUAL(ev->kind, pull_request_event::ignored);
  }
}

CAF_TEST(gitea synchronized deploys like github synchronize) {
  // Gitea and Forgejo send GitHub's shape with their own action name.
  auto ev = parse_github_pull_request(github("synchronized"));
  CAF_REQUIRE(ev);
  CAF_CHECK_EQUAL(ev->kind, pull_request_event::deploy);
  CAF_CHECK_EQUAL(ev->head_sha, sha);
}

CAF_TEST(pull requests from forks are marked) {
  auto fork = parse_github_pull_request(github("opened", "mallory/shop"));
  CAF_REQUIRE(fork);
  CAF_CHECK(fork->from_fork);
  auto gone = parse_github_pull_request(github("opened", "")); // head repo deleted: null
  CAF_REQUIRE(gone);
  CAF_CHECK(gone->from_fork);
  auto gl = parse_gitlab_merge_request(gitlab("open", 8, 7));
  CAF_REQUIRE(gl);
  CAF_CHECK(gl->from_fork);
}

CAF_TEST(malformed github payloads name the field) {
  auto check = [](json body, const std::string& field) {
    auto ev = parse_github_pull_request(body);
    CAF_REQUIRE(!ev);
    CAF_CHECK_EQUAL(code_of(ev.error()), errc::invalid_argument);
    CAF_CHECK_EQUAL(message_of(ev.error()).rfind(field + ":", 0), 0u);
  };
  auto no_action = github("opened");
  no_action.erase("action");
  check(no_action, "action");
  for (auto number : {json(0), json(-3), json("42"), json(1.5), json(uint64_t{1} << 40)}) {
    auto body = github("opened");
    body["number"] = number;
    check(body, "number");
  }
  for (auto bad : {json("abc"), json(sha.substr(0, 12)), json(sha + "0"), json(nullptr),
                   json("$(reboot)0123456789abcdef0123456789abcdef")}) {
    auto body = github("synchronize");
    body["pull_request"]["head"]["sha"] = bad;
    check(body, "pull_request.head.sha");
  }
  auto no_pr = github("opened");
  no_pr["pull_request"] = "nope";
  check(no_pr, "pull_request");
  check(json::array(), "body");
}

CAF_TEST(head branches git could misread are dropped) {
  for (auto branch : {"-upload-pack=evil", "a..b", "with space", "x\ny"}) {
    auto body = github("opened");
    body["pull_request"]["head"]["ref"] = branch;
    auto ev = parse_github_pull_request(body);
    CAF_REQUIRE(ev);
    CAF_CHECK_EQUAL(ev->head_branch, "");
  }
  auto body = github("opened");
  body["pull_request"]["title"] = "\x1b[31mred\x1b[0m";
  auto ev = parse_github_pull_request(body);
  CAF_REQUIRE(ev);
  CAF_CHECK_EQUAL(ev->title, "\\x1b[31mred\\x1b[0m");
}

CAF_TEST(gitlab open reopen and update deploy the last commit) {
  for (auto action : {"open", "reopen", "update"}) {
    auto ev = parse_gitlab_merge_request(gitlab(action));
    CAF_REQUIRE(ev);
    CAF_CHECK_EQUAL(ev->kind, pull_request_event::deploy);
    CAF_CHECK_EQUAL(ev->number, 17); // the iid, not the global id
    CAF_CHECK_EQUAL(ev->head_sha, sha);
    CAF_CHECK_EQUAL(ev->head_branch, "feature/cart");
    CAF_CHECK(!ev->from_fork);
  }
}

CAF_TEST(gitlab close and merge remove and approvals are ignored) {
  for (auto action : {"close", "merge"}) {
    auto ev = parse_gitlab_merge_request(gitlab(action));
    CAF_REQUIRE(ev);
    CAF_CHECK_EQUAL(ev->kind, pull_request_event::close);
    CAF_CHECK_EQUAL(ev->number, 17);
  }
  for (auto action : {"approved", "unapproved", "approval", ""}) {
    auto ev = parse_gitlab_merge_request(gitlab(action));
    CAF_REQUIRE(ev);
    CAF_CHECK_EQUAL(ev->kind, pull_request_event::ignored);
  }
}

CAF_TEST(malformed gitlab payloads name the field) {
  auto push = gitlab("open");
  push["object_kind"] = "push";
  auto ev = parse_gitlab_merge_request(push);
  CAF_REQUIRE(!ev);
  CAF_CHECK_EQUAL(message_of(ev.error()).rfind("object_kind:", 0), 0u);
  auto no_iid = gitlab("open");
  no_iid["object_attributes"].erase("iid");
  ev = parse_gitlab_merge_request(no_iid);
  CAF_REQUIRE(!ev);
  CAF_CHECK_EQUAL(message_of(ev.error()).rfind("object_attributes.iid:", 0), 0u);
  auto no_commit = gitlab("update");
  no_commit["object_attributes"].erase("last_commit");
  ev = parse_gitlab_merge_request(no_commit);
  CAF_REQUIRE(!ev);
  CAF_CHECK_EQUAL(message_of(ev.error()).rfind("object_attributes.last_commit.id:", 0), 0u);
}
