// Bytes as text, random bytes and digests: the one place for hex, randomness
// and SHA-256 (libsodium). IDs, tokens, secrets and nonces take their
// randomness from here; nothing else seeds a generator of its own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gilgal {

/// Lower-case hex of `size` bytes.
std::string to_hex(const void* data, size_t size);
std::string to_hex(std::string_view bytes);

/// Non-empty and only 0-9, a-f, A-F.
bool is_hex(std::string_view s);

/// Non-empty and only 0-9, a-f (what to_hex produces).
bool is_lower_hex(std::string_view s);

/// Fills `out` with bytes from the operating system's CSPRNG (libsodium's
/// randombytes_buf). Aborts if libsodium cannot be initialised.
void random_bytes(void* out, size_t size);

/// `bytes` random bytes as lower-case hex (2 * bytes characters).
std::string random_hex(size_t bytes);

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Lower-case hex HMAC-SHA256 of `data` keyed by `key` (any length).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Equal sizes and equal bytes, in time that depends on the size only (for
/// comparing secrets and MACs received from outside).
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace gilgal
