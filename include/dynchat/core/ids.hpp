#pragma once
// Identifiers and secrets. Ids are 32 lowercase hex characters: 48 bits of
// milliseconds, a 16-bit in-process counter, then 64 random bits, so key order is
// creation order even within one millisecond. Ids are not secrets; tokens are.
#include <cstdint>
#include <string>
#include <string_view>

namespace dynchat {

std::string new_id();
/// `bytes` bytes of CSPRNG output as lowercase hex (16 -> a 128-bit token).
std::string new_secret(std::size_t bytes = 16);
std::string sha256_hex(std::string_view data);
bool is_id(std::string_view s) noexcept;
std::int64_t now_ms() noexcept;
/// Compares without an early exit, for secrets.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

} // namespace dynchat
