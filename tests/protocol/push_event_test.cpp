#define CAF_SUITE protocol.push_event
#include <caf/test/unit_test.hpp>

#include "protocol/error.hpp"
#include "protocol/push_event.hpp"

using namespace gilgal;
using nlohmann::json;

namespace {

const std::string sha = "0123456789abcdef0123456789abcdef01234567";
const std::string zeros(40, '0');

} // namespace

CAF_TEST(a github push names its branch commit and head commit subject) {
  auto ev = parse_push_event(json{{"ref", "refs/heads/feature/x"},
                                  {"after", "0123456789ABCDEF0123456789ABCDEF01234567"},
                                  {"head_commit", {{"id", sha}, {"message", "Fix it\r\n\nBody"}}}});
  CAF_REQUIRE(ev);
  CAF_CHECK_EQUAL(ev->branch, "feature/x");
  CAF_CHECK_EQUAL(ev->commit_sha, sha);
  CAF_CHECK_EQUAL(ev->commit_message, "Fix it");
  CAF_CHECK(ev->deploys());
}

CAF_TEST(without head_commit the message comes from the commit named by after) {
  auto ev = parse_push_event(
    json{{"ref", "refs/heads/main"},
         {"after", sha},
         {"commits", {{{"id", std::string(40, 'a')}, {"message", "older"}},
                      {{"id", sha}, {"message", "newest\x1b[31m"}}}}});
  CAF_REQUIRE(ev);
  CAF_CHECK_EQUAL(ev->commit_message, "newest\\x1b[31m");
  auto none = parse_push_event(json{{"ref", "refs/heads/main"}, {"after", sha}});
  CAF_REQUIRE(none);
  CAF_CHECK_EQUAL(none->commit_message, "");
  auto long_message = parse_push_event(
    json{{"ref", "refs/heads/main"}, {"after", sha},
         {"head_commit", {{"message", std::string(5000, 'x')}}}});
  CAF_REQUIRE(long_message);
  CAF_CHECK_EQUAL(long_message->commit_message.size(), 1000u);
}

CAF_TEST(tags and deleted branches do not deploy) {
  auto tag = parse_push_event(json{{"ref", "refs/tags/v1"}, {"after", sha}});
  CAF_REQUIRE(tag);
  CAF_CHECK_EQUAL(tag->branch, "");
  CAF_CHECK(!tag->deploys());
  auto deleted = parse_push_event(json{{"ref", "refs/heads/main"}, {"after", zeros}});
  CAF_REQUIRE(deleted);
  CAF_CHECK(deleted->deletes_ref);
  CAF_CHECK_EQUAL(deleted->commit_sha, "");
  CAF_CHECK(!deleted->deploys());
  auto flagged = parse_push_event(
    json{{"ref", "refs/heads/main"}, {"after", sha}, {"deleted", true}});
  CAF_REQUIRE(flagged);
  CAF_CHECK(!flagged->deploys());
  auto bare = parse_push_event(json{{"ref", "refs/heads/"}, {"after", sha}});
  CAF_REQUIRE(bare);
  CAF_CHECK(!bare->deploys());
}

CAF_TEST(what is not a push payload is refused naming the field) {
  auto field_of = [](const json& body) {
    auto ev = parse_push_event(body);
    if (ev)
      return std::string{"accepted"};
    auto msg = message_of(ev.error());
    return msg.substr(0, msg.find(':'));
  };
  CAF_CHECK_EQUAL(field_of(json::array()), "body");
  CAF_CHECK_EQUAL(field_of(json{{"after", sha}}), "ref");
  CAF_CHECK_EQUAL(field_of(json{{"ref", 7}, {"after", sha}}), "ref");
  CAF_CHECK_EQUAL(field_of(json{{"ref", "refs/heads/main"}}), "after");
  CAF_CHECK_EQUAL(field_of(json{{"ref", "refs/heads/main"}, {"after", "abc1234"}}), "after");
  CAF_CHECK_EQUAL(field_of(json{{"ref", "refs/heads/main"}, {"after", "$(reboot)"}}), "after");
  CAF_CHECK_EQUAL(field_of(json{{"ref", "refs/heads/main"}, {"after", std::string(64, 'a')}}),
                  "after");
}
