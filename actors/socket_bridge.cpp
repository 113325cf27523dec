// A connection's life: awaiting_hello -> binding (the directory finds or spawns the
// owning actor) -> bound (frames go straight to that actor) -> closed. Frames that
// arrive while binding wait in a short bounded buffer and are replayed in order.
#include "actors/socket_bridge.hpp"

#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace dynchat {
namespace {

using protocol::error_code;
constexpr std::size_t max_early_frames = 32;

// The id of a frame that failed to decode, to echo in its error (when it is usable).
protocol::client_msg_id client_msg_id_of(const nlohmann::json& frame) {
  if (!frame.is_object()) return {};
  auto it = frame.find("client_msg_id");
  if (it == frame.end()) return {};
  if (it->is_string() && it->get_ref<const std::string&>().size() <= 128) return {it->get<std::string>(), false};
  if (it->is_number_unsigned()) return {std::to_string(it->get<std::uint64_t>()), true};
  return {};
}

struct visitor_traits {
  using frame = protocol::visitor_frame;
  using hello = protocol::visitor_hello;
  using owner = session_actor;
  using bind = msg::visitor_bind;
  static auto decode(const nlohmann::json& j, const protocol::decode_limits& l) { return protocol::decode_visitor(j, l); }
  static void send_hello(const directory_actor& directory, hello h, net::sink_ptr sink, bind b) {
    caf::anon_send(directory, msg::vhello_atom::value, std::move(h), std::move(sink), std::move(b));
  }
  static void dispatch(const owner& to, std::uint64_t conn, frame& f) {
    std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, protocol::visitor_say>)
          caf::anon_send(to, msg::say_atom::value, conn, std::move(x));
        else if constexpr (std::is_same_v<T, protocol::visitor_choose>)
          caf::anon_send(to, msg::choose_atom::value, conn, std::move(x.id), std::move(x.option));
        else if constexpr (std::is_same_v<T, protocol::visitor_book>)
          caf::anon_send(to, msg::book_atom::value, conn, std::move(x.id), std::move(x.slot), std::move(x.time_zone));
        else if constexpr (std::is_same_v<T, protocol::visitor_typing>)
          caf::anon_send(to, msg::typing_atom::value, conn);
        else if constexpr (std::is_same_v<T, protocol::visitor_history>)
          caf::anon_send(to, msg::history_atom::value, conn, x.page);
        else if constexpr (std::is_same_v<T, protocol::visitor_opened>)
          caf::anon_send(to, msg::opened_atom::value, conn, std::move(x.link));
        else if constexpr (std::is_same_v<T, protocol::visitor_event>)
          caf::anon_send(to, msg::event_atom::value, conn, std::move(x.kind), x.value);
        else if constexpr (std::is_same_v<T, protocol::visitor_trigger>)
          caf::anon_send(to, msg::trigger_atom::value, conn, std::move(x.flow));
      },
      f);
  }
};

struct agent_traits {
  using frame = protocol::agent_frame;
  using hello = protocol::agent_hello;
  using owner = agent_actor;
  using bind = msg::agent_bind;
  static auto decode(const nlohmann::json& j, const protocol::decode_limits& l) { return protocol::decode_agent(j, l); }
  static void send_hello(const directory_actor& directory, hello h, net::sink_ptr sink, bind b) {
    caf::anon_send(directory, msg::ahello_atom::value, std::move(h), std::move(sink), std::move(b));
  }
  static void dispatch(const owner& to, std::uint64_t conn, frame& f) {
    std::visit(
      [&](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, protocol::agent_status>)
          caf::anon_send(to, msg::status_atom::value, std::move(x.status));
        else if constexpr (std::is_same_v<T, protocol::agent_accept>)
          caf::anon_send(to, msg::accept_atom::value, conn, std::move(x.conversation_id));
        else if constexpr (std::is_same_v<T, protocol::agent_decline>)
          caf::anon_send(to, msg::decline_atom::value, conn, std::move(x.conversation_id));
        else if constexpr (std::is_same_v<T, protocol::agent_say>)
          caf::anon_send(to, msg::say_atom::value, conn, std::move(x));
        else if constexpr (std::is_same_v<T, protocol::agent_typing>)
          caf::anon_send(to, msg::typing_atom::value, conn, std::move(x.conversation_id));
        else if constexpr (std::is_same_v<T, protocol::agent_end>)
          caf::anon_send(to, msg::end_atom::value, conn, std::move(x.conversation_id));
        else if constexpr (std::is_same_v<T, protocol::agent_share_calendar>)
          caf::anon_send(to, msg::share_atom::value, conn, std::move(x.conversation_id), std::move(x.agent_id));
        else if constexpr (std::is_same_v<T, protocol::agent_history>)
          caf::anon_send(to, msg::history_atom::value, conn, std::move(x.conversation_id), x.page);
      },
      f);
  }
};

template <class Traits>
class bridged_connection final : public net::connection_handler,
                                 public std::enable_shared_from_this<bridged_connection<Traits>> {
public:
  bridged_connection(directory_actor directory, net::sink_ptr sink, const settings& cfg, metrics& stats)
    : directory_(std::move(directory)), sink_(std::move(sink)), cfg_(cfg), stats_(stats) {}

  void on_frame(std::string_view data, bool binary) override {
    stats_.frames_in++;
    if (stage_ == stage::closed) return;
    auto parsed = protocol::parse(data, binary ? protocol::encoding::msgpack : protocol::encoding::json);
    if (!parsed) return reject(parsed.error().code, parsed.error().message, {});
    auto decoded = Traits::decode(*parsed, cfg_.limits);
    if (!decoded) return reject(decoded.error().code, decoded.error().message, client_msg_id_of(*parsed));
    auto& frame = *decoded;
    const bool is_hello = std::holds_alternative<typename Traits::hello>(frame);
    if (stage_ == stage::awaiting_hello) {
      if (!is_hello) return reject(error_code::hello_required, "the first frame must be hello", {});
      stage_ = stage::binding;
      std::weak_ptr<bridged_connection> weak = this->weak_from_this();
      auto sink = sink_;
      typename Traits::bind bind{[weak, sink](typename Traits::owner owner) {
        sink->post([weak, owner, conn = sink->id()] {
          if (auto self = weak.lock()) self->bound(owner);
          else caf::anon_send(owner, msg::detach_atom::value, conn, false);
        });
      }};
      Traits::send_hello(directory_, std::move(std::get<typename Traits::hello>(frame)), sink_, std::move(bind));
      return;
    }
    if (is_hello) return error(error_code::already_hello, "hello was already sent on this connection", {});
    if (stage_ == stage::binding) {
      if (early_.size() >= max_early_frames) return error(error_code::busy, "wait for welcome", client_msg_id_of(*parsed));
      early_.push_back(std::move(frame));
      return;
    }
    Traits::dispatch(owner_, sink_->id(), frame);
  }

  void on_close(bool by_shutdown) override {
    if (stage_ == stage::bound) caf::anon_send(owner_, msg::detach_atom::value, sink_->id(), by_shutdown);
    stage_ = stage::closed;
    early_.clear();
  }

private:
  enum class stage { awaiting_hello, binding, bound, closed };

  void bound(const typename Traits::owner& owner) {
    if (stage_ == stage::closed) {
      caf::anon_send(owner, msg::detach_atom::value, sink_->id(), false);
      return;
    }
    stage_ = stage::bound;
    owner_ = owner;
    for (auto& f : early_) Traits::dispatch(owner_, sink_->id(), f);
    early_.clear();
  }

  void error(error_code code, std::string_view text, const protocol::client_msg_id& id) {
    sink_->send(protocol::make_error(code, text, id));
    stats_.errors_sent++;
  }

  // Bad input: an error frame; before hello it is a failed hello and closes (1008).
  void reject(error_code code, std::string_view text, const protocol::client_msg_id& id) {
    error(code, text, id);
    if (stage_ == stage::awaiting_hello) {
      stage_ = stage::closed;
      sink_->close(net::close_code::policy, std::string{protocol::to_string(code)});
    }
  }

  directory_actor directory_;
  net::sink_ptr sink_;
  const settings& cfg_;
  metrics& stats_;
  stage stage_ = stage::awaiting_hello;
  typename Traits::owner owner_;
  std::vector<typename Traits::frame> early_;
};

class actor_gateway final : public net::gateway {
public:
  actor_gateway(directory_actor directory, const settings& cfg, metrics& stats)
    : directory_(std::move(directory)), cfg_(cfg), stats_(stats) {}

  std::shared_ptr<net::connection_handler> open(net::endpoint kind, net::sink_ptr sink) override {
    if (kind == net::endpoint::visitor)
      return std::make_shared<bridged_connection<visitor_traits>>(directory_, std::move(sink), cfg_, stats_);
    return std::make_shared<bridged_connection<agent_traits>>(directory_, std::move(sink), cfg_, stats_);
  }

private:
  directory_actor directory_;
  const settings& cfg_;
  metrics& stats_;
};

} // namespace

std::unique_ptr<net::gateway> make_actor_gateway(directory_actor directory, const settings& cfg, metrics& stats) {
  return std::make_unique<actor_gateway>(std::move(directory), cfg, stats);
}

} // namespace dynchat
