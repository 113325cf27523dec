// The "limit" baseline: a minimal visitor <-> agent relay on Beast with no actors and
// no storage, speaking the subset of protocol v1 that dynchat-load's scenarios use
// (hello/welcome, offer/accept/chat, say/ack/message, end/ended, POST /v1/agents).
// Acks are sent at once: nothing is durable. One io thread, like dynchatd's default.
// Usage: beast_relay <port>   (binds 127.0.0.1 only)
#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "dynchat/protocol/codec.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
namespace protocol = dynchat::protocol;

namespace {

class ws_session;
struct conversation {
  std::weak_ptr<ws_session> visitor, agent;
  std::string agent_name;
  std::uint64_t seq = 0;
  json visitor_summary = json::object(); // what the agent sees of the visitor, as in dynchat
};
struct relay_state {
  std::unordered_map<std::string, conversation> conversations;
  std::vector<std::weak_ptr<ws_session>> agents;
  std::size_t next_agent = 0;
  std::uint64_t ids = 0;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(tcp::socket&& s, relay_state& st, bool agent) : ws_(std::move(s)), st_(st), agent_(agent) {}
  void run(http::request<http::string_body> req) {
    ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) { if (!ec) self->read(); });
  }
  void send(const json& frame) {
    queue_.push_back(protocol::serialize(frame, binary_ ? protocol::encoding::msgpack : protocol::encoding::json));
    if (queue_.size() == 1) write();
  }
  std::string name;

private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->binary_ = self->ws_.got_binary();
      auto data = self->buffer_.cdata();
      auto f = protocol::parse({static_cast<const char*>(data.data()), data.size()},
                               self->binary_ ? protocol::encoding::msgpack : protocol::encoding::json);
      self->buffer_.consume(self->buffer_.size());
      if (f) self->agent_ ? self->on_agent(*f) : self->on_visitor(*f);
      self->read();
    });
  }
  void write() {
    ws_.binary(binary_);
    ws_.async_write(asio::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->queue_.pop_front();
      if (!self->queue_.empty()) self->write();
    });
  }
  std::shared_ptr<ws_session> pick_agent() {
    for (std::size_t i = 0; i < st_.agents.size(); ++i) {
      auto a = st_.agents[st_.next_agent++ % st_.agents.size()].lock();
      if (a) return a;
    }
    return nullptr;
  }
  void on_visitor(const json& f) {
    const std::string type = f.value("type", "");
    if (type == "hello") {
      conv_ = "c" + std::to_string(++st_.ids);
      auto& c = st_.conversations[conv_];
      c.visitor = weak_from_this();
      if (f.contains("page_url")) c.visitor_summary["page_url"] = f["page_url"];
      send({{"type", "welcome"}, {"visitor_id", "v" + conv_}, {"conversation_id", conv_}, {"resume_token", "t" + conv_},
            {"known", false}, {"phase", "waiting"}, {"last_seq", 0}, {"config", json::object()}});
      if (auto a = pick_agent())
        a->send({{"type", "offer"}, {"conversation_id", conv_}, {"visitor", c.visitor_summary}, {"transcript", json::array()},
                 {"expires_in", 100}});
    } else if (type == "say") {
      auto& c = st_.conversations[conv_];
      const auto seq = ++c.seq;
      send({{"type", "ack"}, {"conversation_id", conv_}, {"client_msg_id", f.value("client_msg_id", "")}, {"seq", seq}});
      if (auto a = c.agent.lock())
        a->send({{"type", "message"}, {"conversation_id", conv_}, {"seq", seq}, {"from", "visitor"},
                 {"text", f.value("text", "")}, {"ts", now_ms()}});
    }
  }
  void on_agent(const json& f) {
    const std::string type = f.value("type", "");
    const std::string conv = f.value("conversation_id", "");
    if (type == "hello") {
      name = "agent-" + std::to_string(++st_.ids);
      st_.agents.push_back(weak_from_this());
      send({{"type", "welcome"}, {"agent_id", name}, {"name", name}, {"status", "offline"}, {"max_chats", 10},
            {"conversations", json::array()}});
    } else if (type == "status") {
      send({{"type", "status"}, {"status", f.value("status", "")}});
    } else if (type == "accept") {
      auto& c = st_.conversations[conv];
      c.agent = weak_from_this();
      send({{"type", "chat"}, {"conversation_id", conv}, {"visitor", c.visitor_summary}, {"transcript", json::array()}});
      if (auto v = c.visitor.lock())
        v->send({{"type", "message"}, {"conversation_id", conv}, {"seq", ++c.seq}, {"from", "system"},
                 {"agent", name}, {"text", name + " joined the chat."}, {"ts", now_ms()}});
    } else if (type == "say") {
      auto& c = st_.conversations[conv];
      const auto seq = ++c.seq;
      send({{"type", "ack"}, {"conversation_id", conv}, {"client_msg_id", f.value("client_msg_id", "")}, {"seq", seq}});
      if (auto v = c.visitor.lock())
        v->send({{"type", "message"}, {"conversation_id", conv}, {"seq", seq}, {"from", "agent"}, {"agent", name},
                 {"text", f.value("text", "")}, {"ts", now_ms()}});
    } else if (type == "end") {
      auto it = st_.conversations.find(conv);
      if (it == st_.conversations.end()) return;
      json ended{{"type", "ended"}, {"conversation_id", conv}, {"reason", "agent_ended"}};
      send(ended);
      if (auto v = it->second.visitor.lock()) v->send(ended);
      st_.conversations.erase(it);
    }
  }
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  relay_state& st_;
  bool agent_;
  bool binary_ = false;
  std::string conv_;
};

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& s, relay_state& st) : stream_(std::move(s)), st_(st) {}
  void run() {
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      const std::string target{self->req_.target()};
      if (websocket::is_upgrade(self->req_)) {
        return std::make_shared<ws_session>(self->stream_.release_socket(), self->st_, target == "/v1/agent")->run(std::move(self->req_));
      }
      auto res = std::make_shared<http::response<http::string_body>>(http::status::created, 11);
      res->set(http::field::content_type, "application/json");
      res->body() = json{{"id", "a" + std::to_string(++self->st_.ids)}, {"token", "relay-token"}}.dump();
      res->prepare_payload();
      http::async_write(self->stream_, *res, [self, res](beast::error_code, std::size_t) {
        beast::error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    });
  }

private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  relay_state& st_;
};

void accept_loop(tcp::acceptor& acceptor, relay_state& st) {
  acceptor.async_accept([&](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<http_session>(std::move(s), st)->run();
    }
    accept_loop(acceptor, st);
  });
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: beast_relay <port>\n";
    return 2;
  }
  asio::io_context ioc{1};
  relay_state st;
  tcp::acceptor acceptor{ioc, tcp::endpoint{asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(argv[1]))}};
  accept_loop(acceptor, st);
  ioc.run();
}
