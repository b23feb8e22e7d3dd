// The log-line sanitiser: every byte string comes out as valid UTF-8 with
// control characters visible, whatever a container or a build printed.
#define CAF_SUITE protocol.utf8
#include <caf/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "protocol/utf8.hpp"

using namespace gilgal;

namespace {

const std::string fffd = "\xEF\xBF\xBD";

} // namespace

CAF_TEST(valid text passes unchanged) {
  for (std::string s : {"", "hello", "tab\there", "gr\xC3\xBC\xC3\x9F" "e", "\xE2\x82\xAC 5",
                        "\xF0\x9F\x9A\x80 launch", "\xEF\xBF\xBD"}) {
    CAF_CHECK(is_valid_utf8(s));
    CAF_CHECK_EQUAL(sanitize_log_text(s), s);
  }
}

CAF_TEST(invalid bytes become U+FFFD) {
  CAF_CHECK(!is_valid_utf8("\xff"));
  CAF_CHECK_EQUAL(sanitize_log_text("a\xff" "b"), "a" + fffd + "b");
  CAF_CHECK_EQUAL(sanitize_log_text("\xC0\xAF"), fffd + fffd);          // overlong '/'
  CAF_CHECK_EQUAL(sanitize_log_text("\xED\xA0\x80"), fffd + fffd + fffd); // a surrogate
  CAF_CHECK_EQUAL(sanitize_log_text("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);
  // A truncated sequence is one U+FFFD (its maximal subpart), then the rest.
  CAF_CHECK_EQUAL(sanitize_log_text("\xE2\x82" "x"), fffd + "x");
  CAF_CHECK_EQUAL(sanitize_log_text("end\xF0\x9F\x9A"), "end" + fffd);
  CAF_CHECK_EQUAL(sanitize_log_text("\x80\x80"), fffd + fffd);
  for (int b = 0; b < 256; ++b) {
    std::string s(3, static_cast<char>(b));
    auto out = sanitize_log_text(s);
    CAF_CHECK(is_valid_utf8(out));
    // The strict JSON dump that killed the server does not throw.
    CAF_CHECK_EQUAL(nlohmann::json(out).dump().empty(), false);
  }
}

CAF_TEST(control characters other than tab are escaped) {
  CAF_CHECK_EQUAL(sanitize_log_text("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  CAF_CHECK_EQUAL(sanitize_log_text("a\rb\nc\td"), "a\\rb\\nc\td");
  CAF_CHECK_EQUAL(sanitize_log_text(std::string{"nul\0x", 5}), "nul\\x00x");
  CAF_CHECK_EQUAL(sanitize_log_text("del\x7f"), "del\\x7f");
  CAF_CHECK_EQUAL(sanitize_log_text("csi\xC2\x9B" "2J"), "csi\\u009b2J"); // C1 CSI
  CAF_CHECK_EQUAL(sanitize_log_text("nbsp\xC2\xA0"), "nbsp\xC2\xA0");   // not a control
}

CAF_TEST(truncation keeps whole characters) {
  std::string s = "ab\xE2\x82\xAC";
  CAF_CHECK(!truncate_utf8(s, 5));
  CAF_CHECK(truncate_utf8(s, 4));
  CAF_CHECK_EQUAL(s, "ab");
  std::string t = "abc";
  CAF_CHECK(truncate_utf8(t, 1));
  CAF_CHECK_EQUAL(t, "a");
}
