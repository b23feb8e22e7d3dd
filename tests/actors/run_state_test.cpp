// An environment's run state from its container's Docker state.
#define CAF_SUITE actors.run_state
#include <caf/test/unit_test.hpp>

#include "actors/run_state.hpp"

using namespace gilgal;

namespace {

container_health health(const std::string& state, bool running) {
  container_health h;
  h.container_id = "c1";
  h.state = state;
  h.running = running;
  h.exit_code = 3;
  h.restart_count = 2;
  h.started_at = "2026-01-02T03:04:05Z";
  return h;
}

} // namespace

CAF_TEST(docker states map to the four states of the API) {
  CAF_CHECK_EQUAL(run_state_of(health("running", true)).state, "running");
  CAF_CHECK_EQUAL(run_state_of(health("exited", false)).state, "stopped");
  CAF_CHECK_EQUAL(run_state_of(health("created", false)).state, "stopped");
  auto crashing = run_state_of(health("restarting", false));
  CAF_CHECK_EQUAL(crashing.state, "restarting");
  CAF_CHECK(crashing.reason.find("exited with code 3") != std::string::npos);
  auto dead = run_state_of(health("dead", false));
  CAF_CHECK_EQUAL(dead.state, "failed");
  CAF_CHECK(!dead.reason.empty());
  CAF_CHECK_EQUAL(run_state_of(health("running", true)).started_at, "2026-01-02T03:04:05Z");
  CAF_CHECK_EQUAL(run_state_of(health("running", true)).container_id, "c1");
}
