// Bytes from outside (Docker, git, containers, repositories) made fit for a
// log line: valid UTF-8 that prints as one line of text on any terminal and
// serialises as JSON without throwing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gilgal {

/// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates,
/// nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

/// `text` as valid UTF-8 text for a log line: every ill-formed sequence
/// becomes U+FFFD (one per maximal invalid subpart, as Unicode recommends),
/// and control characters other than tab are escaped as visible text ("\x1b",
/// "\r", "\u009b"), so output cannot move a terminal's cursor or forge lines.
std::string sanitize_log_text(std::string_view text);

/// Cuts valid UTF-8 `text` to at most `max_bytes` without splitting a
/// character. Returns true when something was cut.
bool truncate_utf8(std::string& text, size_t max_bytes);

} // namespace gilgal
