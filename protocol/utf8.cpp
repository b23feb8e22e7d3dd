#include "protocol/utf8.hpp"

namespace gilgal {

namespace {

constexpr const char* replacement = "\xEF\xBF\xBD"; // U+FFFD

/// The length of the well-formed sequence at `at`, or 0 with `bad` set to the
/// length of its maximal invalid subpart (at least 1).
size_t sequence_length(std::string_view s, size_t at, size_t& bad) noexcept {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(at);
  bad = 1;
  if (lead < 0x80)
    return 1;
  size_t need;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0)
      lo = 0xA0; // no overlong forms
    else if (lead == 0xED)
      hi = 0x9F; // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0)
      lo = 0x90;
    else if (lead == 0xF4)
      hi = 0x8F; // nothing above U+10FFFF
  } else {
    return 0; // a continuation byte, C0, C1 or F5..FF as a lead
  }
  for (size_t k = 1; k <= need; ++k) {
    if (at + k >= s.size())
      return bad = k, 0;
    auto c = byte(at + k);
    auto min = k == 1 ? lo : static_cast<unsigned char>(0x80);
    auto max = k == 1 ? hi : static_cast<unsigned char>(0xBF);
    if (c < min || c > max)
      return bad = k, 0;
  }
  return need + 1;
}

void append_hex(std::string& out, const char* prefix, unsigned value) {
  static const char* digits = "0123456789abcdef";
  out += prefix;
  out += digits[(value >> 4) & 0xF];
  out += digits[value & 0xF];
}

} // namespace

bool is_valid_utf8(std::string_view text) noexcept {
  size_t bad = 0;
  for (size_t i = 0; i < text.size();) {
    auto n = sequence_length(text, i, bad);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

std::string sanitize_log_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t bad = 0;
  for (size_t i = 0; i < text.size();) {
    auto n = sequence_length(text, i, bad);
    if (n == 0) {
      out += replacement;
      i += bad;
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\t') {
      if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else
        append_hex(out, "\\x", c);
    } else if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      // C1 controls (U+0080..U+009F): some terminals act on them, e.g. CSI.
      append_hex(out, "\\u00", static_cast<unsigned char>(text[i + 1]));
    } else {
      out.append(text.data() + i, n);
    }
    i += n;
  }
  return out;
}

bool truncate_utf8(std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes)
    return false;
  size_t cut = max_bytes;
  // Back up over continuation bytes to the start of the cut character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  text.resize(cut);
  return true;
}

} // namespace gilgal
