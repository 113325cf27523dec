#pragma once
// A frame_sink for actor tests: records frames as a JSON client reads them, and checks
// at the moment of every ack that its message is already stored. Its queue drains at
// once unless told to hold (then a drain waiter runs only on release()).
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dynchat/net/frame_sink.hpp"
#include "dynchat/protocol/codec.hpp"
#include "dynchat/store/tables.hpp"

namespace dynchat::testing {

class recording_sink final : public net::frame_sink {
public:
  recording_sink(std::shared_ptr<store::database> db, std::uint64_t id) : db_(std::move(db)), id_(id) {}
  std::uint64_t id() const noexcept override { return id_; }
  void send(const protocol::outbound_frame& out) override {
    auto decoded = protocol::parse(*out.bytes(protocol::encoding::json), protocol::encoding::json);
    REQUIRE(decoded);
    const auto& frame = *decoded;
    if (frame["type"] == "ack") {
      auto txn = db_->read();
      auto key = store::message_key(frame["conversation_id"].get<std::string>(), frame["seq"].get<std::uint64_t>());
      acked_before_commit += !txn.get(store::table::messages, key);
    }
    frames.push_back(frame);
    ++since_drain;
  }
  void close(std::uint16_t code, std::string) override { closed_with = code; }
  void post(std::function<void()> fn) override { fn(); }
  void hello_completed() override { hello_done = true; }
  void when_drained(std::function<void()> fn) override {
    if (hold) waiter = std::move(fn);
    else fn();
  }
  const std::string& remote_address() const noexcept override { return address; }
  const std::string& origin() const noexcept override { return origin_header; }

  /// The client reads what was sent: a waiting replay may go on.
  void release() {
    since_drain = 0;
    if (auto fn = std::move(waiter)) {
      waiter = nullptr;
      fn();
    }
  }

  std::vector<nlohmann::json> of_type(const std::string& t) const {
    std::vector<nlohmann::json> out;
    for (auto& f : frames)
      if (f["type"] == t) out.push_back(f);
    return out;
  }

  std::vector<nlohmann::json> frames;
  int acked_before_commit = 0;
  std::uint16_t closed_with = 0;
  bool hello_done = false;
  bool hold = false;
  std::size_t since_drain = 0;
  std::function<void()> waiter;
  std::string address = "127.0.0.1";
  std::string origin_header;

private:
  std::shared_ptr<store::database> db_;
  std::uint64_t id_;
};

} // namespace dynchat::testing
