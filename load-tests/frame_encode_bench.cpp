// Microbenchmark: CPU to encode what the server sends per chat message — one `message`
// frame and one `ack` — as JSON, with the compare scenario's 64-byte texts.
// Usage: build/frame-encode-bench [pairs]   (prints µs per pair; run old and new builds
// alternately, the machine is shared)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dynchat/protocol/frames.hpp"
#include "dynchat/protocol/outbound.hpp"

int main(int argc, char** argv) {
  using namespace dynchat::protocol;
  const long pairs = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  if (pairs <= 0) {
    std::fprintf(stderr, "usage: frame-encode-bench [pairs > 0]\n");
    return 2;
  }
  const std::string text = "@1234567890123456789 " + std::string(43, 'x');
  const std::string conversation = "01a22b12990500006eb1ee0b1c08237b";
  std::size_t bytes = 0; // printed, so the work cannot be optimised away
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < pairs; ++i) {
    const auto seq = static_cast<std::uint64_t>(i);
    bytes += outbound_frame::message({conversation, seq, "visitor", text, 1764480000000, ""}).bytes(encoding::json)->size();
    bytes += outbound_frame::ack(conversation, {"v12"}, seq).bytes(encoding::json)->size();
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("%.3f us per message+ack pair (%ld pairs, %zu bytes)\n", took.count() * 1e6 / static_cast<double>(pairs),
              pairs, bytes);
}
