#define CAF_SUITE protocol.bytes
#include <caf/test/unit_test.hpp>

#include <set>

#include "protocol/bytes.hpp"

using namespace gilgal;

CAF_TEST(hex) {
  CAF_CHECK_EQUAL(to_hex(std::string_view{"\x00\x7f\xff", 3}), "007fff");
  CAF_CHECK(is_hex("0aF9"));
  CAF_CHECK(!is_hex(""));
  CAF_CHECK(!is_hex("0g"));
  CAF_CHECK(is_lower_hex("0af9"));
  CAF_CHECK(!is_lower_hex("0aF9"));
}

CAF_TEST(random hex is fresh each time) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto h = random_hex(16);
    CAF_CHECK_EQUAL(h.size(), 32u);
    CAF_CHECK(is_lower_hex(h));
    seen.insert(h);
  }
  CAF_CHECK_EQUAL(seen.size(), 100u);
}

CAF_TEST(sha256 of known texts) {
  CAF_CHECK_EQUAL(sha256_hex(""),
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CAF_CHECK_EQUAL(sha256_hex("abc"),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
