#pragma once
// What one socket has been sent of one conversation. Messages must reach a socket in
// seq order, each once. A socket is either live (the next live message is sent at once)
// or behind (it catches up from the store a page at a time, paced by its outbound
// queue, and live messages meanwhile are left for those pages). Live messages that the
// socket already has from a page are dropped; one past a gap sends it back to catching up.
#include <cstdint>

namespace dynchat {

class delivery_cursor {
public:
  /// Has everything up to `sent` and takes live messages from there.
  static delivery_cursor live_after(std::uint64_t sent) { return delivery_cursor{sent, true}; }
  /// Has everything up to `sent` and must catch up from the store first.
  static delivery_cursor behind(std::uint64_t sent) { return delivery_cursor{sent, false}; }

  enum class verdict {
    send,        // send it now
    skip,        // already sent, or a page will bring it
    catch_up,    // a gap: the socket is behind now; start paging
  };

  /// A message committed with this seq is being delivered live.
  verdict on_live(std::uint64_t seq) noexcept {
    if (seq <= sent_) return verdict::skip;
    if (!live_) return verdict::skip;
    if (seq != sent_ + 1) {
      live_ = false;
      return verdict::catch_up;
    }
    sent_ = seq;
    return verdict::send;
  }

  /// A page from the store was sent, ending at `last` (0: it was empty); `more` says
  /// the store had messages beyond it.
  void on_page(std::uint64_t last, bool more) noexcept {
    if (last > sent_) sent_ = last;
    live_ = !more;
  }

  std::uint64_t sent() const noexcept { return sent_; }
  bool live() const noexcept { return live_; }

private:
  delivery_cursor(std::uint64_t sent, bool live) : sent_(sent), live_(live) {}
  std::uint64_t sent_ = 0;
  bool live_ = false;
};

} // namespace dynchat
