// Reading Docker's progress streams: members of unexpected types are ignored,
// never thrown on (cases found by fuzz/docker_progress_fuzz.cpp).
#define CAF_SUITE nodes.docker_progress
#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

#include "nodes/docker_progress.hpp"

using namespace gilgal;

namespace {

struct reading {
  std::vector<std::string> lines;
  std::string error;
};

reading read(const std::string& stream) {
  reading r;
  docker_progress p{[&](std::string_view l) { r.lines.emplace_back(l); }};
  p.feed(stream);
  p.finish();
  r.error = p.error();
  return r;
}

} // namespace

CAF_TEST(an error message of the wrong type falls back to the error member) {
  auto r = read("{\"errorDetail\":{\"message\":1},\"error\":\"build failed\"}\n");
  CAF_CHECK_EQUAL(r.error, "build failed");
  CAF_CHECK_EQUAL(r.lines, std::vector<std::string>{"build failed"});
}

CAF_TEST(an error without any usable message is still an error) {
  auto r = read("{\"errorDetail\":\"x\",\"error\":[\"y\"]}\n");
  CAF_CHECK_EQUAL(r.error, "unknown docker error");
}

CAF_TEST(members of other types are skipped) {
  auto r = read("{\"stream\":7,\"status\":null,\"aux\":{\"ID\":[]},\"id\":1}\n"
                "{\"stream\":\"ok\\n\"}\n");
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.lines, std::vector<std::string>{"ok"});
}
