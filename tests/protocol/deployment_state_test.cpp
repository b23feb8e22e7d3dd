#define CAF_SUITE protocol.deployment_state
#include <caf/test/unit_test.hpp>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/expected.hpp>

#include "protocol/model.hpp"

using namespace gilgal;

namespace {

/// `d` through CAF's binary format, as it travels between actors and nodes.
caf::expected<deployment> round_trip(deployment d) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (auto err = sink(d))
    return err;
  deployment out;
  caf::binary_deserializer source{nullptr, buf};
  if (auto err = source(out))
    return err;
  return out;
}

} // namespace

CAF_TEST(every status keeps its stored spelling) {
  CAF_CHECK_EQUAL(std::string{to_string(deployment_status::pending)}, "pending");
  CAF_CHECK_EQUAL(std::string{to_string(deployment_status::building)}, "building");
  CAF_CHECK_EQUAL(std::string{to_string(deployment_status::success)}, "success");
  CAF_CHECK_EQUAL(std::string{to_string(deployment_status::failed)}, "failed");
  CAF_CHECK_EQUAL(std::string{to_string(deployment_status::cancelled)}, "cancelled");
  for (auto x : all_deployment_statuses)
    CAF_CHECK_EQUAL(parse_deployment_status(to_string(x)), x);
}

CAF_TEST(every kind keeps its stored spelling) {
  for (auto [x, text] : {std::pair{deployment_kind::deploy, "deploy"},
                         std::pair{deployment_kind::rollback, "rollback"},
                         std::pair{deployment_kind::config, "config"}}) {
    CAF_CHECK_EQUAL(std::string{to_string(x)}, text);
    CAF_CHECK_EQUAL(parse_deployment_kind(text), x);
  }
}

CAF_TEST(unknown text is refused) {
  for (auto text : {"", "Success", "succeeded", " pending", "pending ", "deploy", "unknown"})
    CAF_CHECK(!parse_deployment_status(text));
  for (auto text : {"", "Deploy", "redeploy", "rollback ", "success", "api"})
    CAF_CHECK(!parse_deployment_kind(text));
}

CAF_TEST(terminal statuses are success failed and cancelled) {
  CAF_CHECK(!is_terminal(deployment_status::pending));
  CAF_CHECK(!is_terminal(deployment_status::building));
  CAF_CHECK(is_terminal(deployment_status::success));
  CAF_CHECK(is_terminal(deployment_status::failed));
  CAF_CHECK(is_terminal(deployment_status::cancelled));
}

CAF_TEST(status and kind survive a message round trip) {
  for (auto status : all_deployment_statuses)
    for (auto kind : {deployment_kind::deploy, deployment_kind::rollback,
                      deployment_kind::config}) {
      deployment d;
      d.id = "d1";
      d.status = status;
      d.kind = kind;
      auto out = round_trip(d);
      CAF_REQUIRE(out);
      CAF_CHECK_EQUAL(out->status, status);
      CAF_CHECK_EQUAL(out->kind, kind);
    }
}

CAF_TEST(an out of range status or kind in a message is refused) {
  deployment d;
  d.id = "d1";
  d.status = static_cast<deployment_status>(5);
  CAF_CHECK(!round_trip(d));
  d.status = deployment_status::success;
  d.kind = static_cast<deployment_kind>(200);
  CAF_CHECK(!round_trip(d));
}

CAF_TEST(logs and test output show the spelling) {
  deployment d;
  d.status = deployment_status::cancelled;
  d.kind = deployment_kind::rollback;
  auto text = caf::deep_to_string(d);
  CAF_CHECK(text.find("cancelled") != std::string::npos);
  CAF_CHECK(text.find("rollback") != std::string::npos);
}
