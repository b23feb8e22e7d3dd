#define CAF_SUITE protocol.type_ids
#include <caf/test/unit_test.hpp>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "protocol/interfaces.hpp"

using namespace gilgal;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  fixture() : sys(init(cfg)) {}
  static caf::actor_system_config& init(caf::actor_system_config& c) {
    add_message_types(c);
    return c;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(type_ids_tests, fixture)

CAF_TEST(a deployment survives a serialisation round trip) {
  deployment d;
  d.id = "d1";
  d.status = deployment_status::building;
  d.duration_seconds = 12.5;
  d.port = 20001;
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(d));
  deployment out;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(out));
  CAF_CHECK_EQUAL(out.id, "d1");
  CAF_CHECK_EQUAL(out.status, deployment_status::building);
  CAF_REQUIRE(out.duration_seconds);
  CAF_CHECK_EQUAL(*out.duration_seconds, 12.5);
  CAF_CHECK_EQUAL(out.port, 20001);
}

CAF_TEST(a run job carries its variables) {
  run_job job;
  job.variables["SECRET"] = "x";
  job.settings.memory_mb = 256;
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(job));
  run_job out;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(out));
  CAF_CHECK_EQUAL(out.variables.at("SECRET"), "x");
  CAF_CHECK_EQUAL(out.settings.memory_mb, 256);
}

CAF_TEST(a batch of container log lines survives a round trip) {
  container_log_batch b;
  b.lines.push_back(container_log_line{"2026-01-02T03:04:05.123456789Z", "stderr", "oops"});
  b.ended = true;
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  CAF_REQUIRE(!sink(b));
  container_log_batch out;
  caf::binary_deserializer source{sys, buf};
  CAF_REQUIRE(!source(out));
  CAF_REQUIRE_EQUAL(out.lines.size(), 1u);
  CAF_CHECK_EQUAL(out.lines[0].stream, "stderr");
  CAF_CHECK_EQUAL(out.lines[0].message, "oops");
  CAF_CHECK(out.ended);
}

CAF_TEST_FIXTURE_SCOPE_END()
