#include "dynchat/core/ids.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace dynchat {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = hex_digits[data[i] >> 4];
    out[2 * i + 1] = hex_digits[data[i] & 0x0F];
  }
  return out;
}

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

} // namespace

std::int64_t now_ms() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string new_id() {
  // 48 bits of milliseconds and a 16-bit counter, strictly increasing within the process
  // (so two ids made in the same millisecond still sort by creation), then 64 random bits.
  // The one process-wide variable here is a clock, not shared state anyone reads.
  static std::atomic<std::uint64_t> last{0};
  const auto now = static_cast<std::uint64_t>(now_ms()) << 16;
  std::uint64_t prev = last.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  unsigned char bytes[16];
  for (int i = 7; i >= 0; --i) {
    bytes[i] = static_cast<unsigned char>(next & 0xFF);
    next >>= 8;
  }
  random_bytes(bytes + 8, 8);
  return to_hex(bytes, sizeof bytes);
}

std::string new_secret(std::size_t n) {
  std::string raw(n, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(raw.data()), n);
  return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), n);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return to_hex(digest, len);
}

bool is_id(std::string_view s) noexcept {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace dynchat
