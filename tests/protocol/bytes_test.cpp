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

CAF_TEST(hmac sha256 of RFC 4231 test vectors) {
  // Test case 2: a key shorter than the block size.
  CAF_CHECK_EQUAL(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size (131 bytes of 0xaa).
  CAF_CHECK_EQUAL(hmac_sha256_hex(std::string(131, '\xaa'),
                                  "Test Using Larger Than Block-Size Key - Hash Key First"),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

CAF_TEST(constant time equality compares sizes and bytes) {
  CAF_CHECK(constant_time_equal("", ""));
  CAF_CHECK(constant_time_equal("sha256=ab", "sha256=ab"));
  CAF_CHECK(!constant_time_equal("sha256=ab", "sha256=ac"));
  CAF_CHECK(!constant_time_equal("sha256=ab", "sha256=a"));
  CAF_CHECK(!constant_time_equal("", "x"));
  CAF_CHECK(!constant_time_equal(std::string_view{"a\0b", 3}, std::string_view{"a\0c", 3}));
}
