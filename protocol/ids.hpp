// Identifiers and timestamps in their wire formats.
#pragma once

#include <chrono>
#include <string>

namespace gilgal {

/// A random UUID v4, lower-case hex with dashes. Its 122 random bits come from
/// libsodium's randombytes_buf (the OS's CSPRNG): IDs are not guessable.
std::string new_uuid();

/// True if `s` is a UUID in the form new_uuid() produces (any version).
bool is_uuid(const std::string& s);

/// The current UTC time as RFC 3339 with milliseconds: "2026-11-27T04:31:17.123Z".
std::string now_rfc3339();

/// `t` as RFC 3339 UTC with milliseconds.
std::string to_rfc3339(std::chrono::system_clock::time_point t);

/// Parses what to_rfc3339 produces (also accepts no fraction, "+00:00" or a
/// space instead of 'T'). Returns false on anything else.
bool parse_rfc3339(const std::string& s, std::chrono::system_clock::time_point& out);

} // namespace gilgal
