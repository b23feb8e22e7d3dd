#define CAF_SUITE protocol.ids
#include <caf/test/unit_test.hpp>

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
