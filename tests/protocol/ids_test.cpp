#define CAF_SUITE protocol.ids
#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "protocol/ids.hpp"

using namespace gilgal;

CAF_TEST(uuids are v4 and distinct) {
  auto a = new_uuid();
  auto b = new_uuid();
  CAF_CHECK(is_uuid(a));
  CAF_CHECK_NOT_EQUAL(a, b);
  CAF_CHECK_EQUAL(a[14], '4');
  CAF_CHECK(!is_uuid("not-a-uuid"));
  CAF_CHECK(!is_uuid(a.substr(1) + "g"));
}

CAF_TEST(timestamps round trip) {
  auto s = now_rfc3339();
  std::chrono::system_clock::time_point t;
  CAF_REQUIRE(parse_rfc3339(s, t));
  CAF_CHECK_EQUAL(to_rfc3339(t), s);
  CAF_CHECK(!parse_rfc3339("yesterday", t));
}

CAF_TEST(uuids do not repeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i)
    CAF_CHECK(seen.insert(new_uuid()).second);
}

// IDs and secrets come from libsodium: no predictable generator anywhere in
// the product's sources (the name is split so that this file does not match
// itself).
CAF_TEST(no mersenne twister in the sources) {
  namespace fs = std::filesystem;
  const std::string needle = std::string{"mt"} + "19937";
  std::vector<std::string> found;
  size_t scanned = 0;
  fs::path root{GILGAL_SOURCE_DIR};
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    auto name = it->path().filename().string();
    // Tests, benchmarks and fuzz targets may use any generator (timing jitter).
    if (it->is_directory()
        && (name.rfind("build", 0) == 0 || name.front() == '.'
            || (it.depth() == 0 && (name == "tests" || name == "bench" || name == "fuzz")))) {
      it.disable_recursion_pending();
      continue;
    }
    auto ext = it->path().extension().string();
    if (!it->is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h"))
      continue;
    ++scanned;
    std::ifstream in{it->path()};
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(needle) != std::string::npos)
      found.push_back(it->path().string());
  }
  CAF_CHECK_GREATER(scanned, 50u);
  for (auto& f : found)
    CAF_ERROR("uses " << needle << ": " << f);
}
