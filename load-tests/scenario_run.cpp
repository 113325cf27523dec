// The scenario engine: simulated visitors and agents on one io thread.
//
//   visitor: connect -> hello -> (wait for an agent) -> say x N with think times,
//            maybe drop the socket once and resume (resending what was not acked)
//            -> wait for the agent's replies -> hold -> close
//   agent:   connect -> hello -> available -> accept offers -> reply to each visitor
//            message after a think time -> end the chat after the last reply
//
// Each message text starts with a token naming it, so the receiving side (in this same
// process) can measure delivery latency from the moment the message was due, and the
// delivery checker sees every acked seq arrive exactly once, in order.
#include "scenario_run.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "delivery_checker.hpp"
#include "dynchat/protocol/codec.hpp"
#include "histogram.hpp"
#include "report_util.hpp"

namespace dynchat::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

struct world {
  const scenario& sc;
  asio::io_context& ioc;
  tcp::endpoint ep;
  std::mt19937_64 rng;
  latency_histogram setup, visitor_ack, agent_ack, to_agent, to_visitor;
  delivery_checker checker;
  std::map<std::string, std::uint64_t> errors;
  std::unordered_map<std::string, clock_type::time_point> due; // message token -> when it was due
  std::uint64_t next_token = 0;
  std::uint64_t arrived = 0, connected = 0, active = 0, finished = 0, resumed = 0, connect_failures = 0,
                closed_early = 0, capped = 0, sent = 0, acked = 0;
  bool stopping = false;

  clock_type::duration think(const think_time& t) {
    double s = t.mean_seconds;
    if (t.kind == think_time::shape::uniform) s = std::uniform_real_distribution<double>{0.5 * s, 1.5 * s}(rng);
    if (t.kind == think_time::shape::exponential && s > 0) s = std::exponential_distribution<double>{1.0 / s}(rng);
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  }
  // "<token> xxxx": the token names the message for the receiving end, which measures
  // its delivery from `intended`, the time the message was due to be sent.
  std::string make_text(bool last, clock_type::time_point intended) {
    std::string token = "m" + std::to_string(next_token++) + (last ? "!" : "");
    due[token] = intended;
    std::string text = token + " ";
    if (text.size() < sc.text_bytes) text.append(sc.text_bytes - text.size(), 'x');
    return text;
  }
  // The token of a received text; records delivery latency.
  std::string take_token(const std::string& text, latency_histogram& h) {
    auto token = text.substr(0, text.find(' '));
    if (auto it = due.find(token); it != due.end()) h.record(micros_since(it->second));
    return token;
  }
};

// One websocket with a read loop and a write queue; subclasses handle frames.
class peer : public std::enable_shared_from_this<peer> {
public:
  explicit peer(world& w) : w_(w) {}
  virtual ~peer() = default;

  void connect(const std::string& path) {
    ws_.emplace(asio::make_strand(w_.ioc));
    buffer_.clear();
    queue_.clear();
    writing_ = false;
    auto& lowest = beast::get_lowest_layer(*ws_);
    lowest.expires_after(std::chrono::seconds{10});
    lowest.async_connect(w_.ep, [self = shared_from_this(), path](beast::error_code ec) {
      if (ec) return self->on_connect_failed();
      self->ws_->async_handshake("127.0.0.1", path, [self](beast::error_code ec) {
        if (ec) return self->on_connect_failed();
        beast::get_lowest_layer(*self->ws_).expires_never();
        self->ws_->binary(self->w_.sc.msgpack);
        self->open_ = true;
        self->on_open();
        self->read();
      });
    });
  }
  void send(const json& frame) {
    if (!open_) return;
    queue_.push_back(protocol::serialize(frame, w_.sc.msgpack ? protocol::encoding::msgpack : protocol::encoding::json));
    if (!writing_) write_next();
  }
  void drop() { // the TCP connection vanishes, no close frame
    open_ = false;
    beast::error_code ignored;
    if (ws_) beast::get_lowest_layer(*ws_).socket().close(ignored);
  }
  void after(clock_type::duration d, std::function<void()> fn) { at(clock_type::now() + d, std::move(fn)); }
  void at(clock_type::time_point when, std::function<void()> fn) {
    auto t = std::make_shared<asio::steady_timer>(w_.ioc, when);
    t->async_wait([t, fn = std::move(fn), self = shared_from_this()](beast::error_code ec) {
      if (!ec && !self->w_.stopping) fn();
    });
  }

protected:
  virtual void on_open() = 0;
  virtual void on_frame(const json& f) = 0;
  virtual void on_closed() {}
  virtual void on_connect_failed() { w_.connect_failures++; }
  world& w_;
  bool open_ = false;

private:
  void read() {
    ws_->async_read(buffer_, [self = shared_from_this(), ws = &*ws_](beast::error_code ec, std::size_t) {
      if (&*self->ws_ != ws) return; // a newer connection replaced this one
      if (ec) {
        self->open_ = false;
        return self->on_closed();
      }
      auto data = self->buffer_.cdata();
      auto parsed = protocol::parse({static_cast<const char*>(data.data()), data.size()},
                                    ws->got_binary() ? protocol::encoding::msgpack : protocol::encoding::json);
      self->buffer_.consume(self->buffer_.size());
      if (parsed) self->on_frame(*parsed);
      else self->w_.errors["undecodable_frame"]++;
      self->read();
    });
  }
  void write_next() {
    if (queue_.empty() || !open_) return;
    writing_ = true;
    ws_->async_write(asio::buffer(queue_.front()), [self = shared_from_this(), ws = &*ws_](beast::error_code ec, std::size_t) {
      if (&*self->ws_ != ws) return;
      self->writing_ = false;
      if (ec) return;
      self->queue_.erase(self->queue_.begin());
      self->write_next();
    });
  }
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buffer_;
  std::vector<std::string> queue_;
  bool writing_ = false;
};

class sim_visitor final : public peer {
public:
  using peer::peer;
  void start() {
    started_ = clock_type::now();
    will_drop_ = std::bernoulli_distribution{w_.sc.resume_share}(w_.rng);
    connect("/v1/visitor");
  }

private:
  void on_open() override {
    json hello{{"type", "hello"}, {"page_url", "https://load.test/pricing"}};
    if (!resume_token_.empty()) {
      hello["resume_token"] = resume_token_;
      hello["last_seq"] = last_seq_;
    }
    send(hello);
  }

  void on_frame(const json& f) override {
    const std::string type = f.value("type", "");
    if (type == "welcome") {
      if (resume_token_.empty()) {
        w_.setup.record(micros_since(started_));
        w_.connected++;
        conversation_ = f.value("conversation_id", "");
        resume_token_ = f.value("resume_token", "");
        if (!w_.sc.wait_for_agent) schedule_next();
      } else {
        w_.resumed++;
        for (auto& [id, frame] : unacked_) send(frame); // the server dedups what it already has
      }
    } else if (type == "message") {
      const auto seq = f.value("seq", std::uint64_t{0});
      last_seq_ = std::max(last_seq_, seq);
      const std::string from = f.value("from", "");
      if (from == "system" && f.contains("agent") && !agent_joined_) {
        agent_joined_ = true;
        if (w_.sc.wait_for_agent) schedule_next();
      } else if (from == "agent") {
        w_.checker.delivered(conversation_, "visitor", seq);
        w_.take_token(f.value("text", ""), w_.to_visitor);
        replies_++;
        maybe_finish();
      }
    } else if (type == "ack") {
      const std::string id = f.value("client_msg_id", "");
      auto it = unacked_.find(id);
      if (it == unacked_.end()) return; // a repeat ack after a resend: harmless
      w_.visitor_ack.record(micros_since(due_.at(id)));
      w_.checker.acked(conversation_, f.value("seq", std::uint64_t{0}));
      w_.acked++;
      unacked_.erase(it);
      if (will_drop_ && !dropped_) return drop_and_resume();
      maybe_finish();
    } else if (type == "ended") {
      ended_ = true;
      maybe_finish();
    } else if (type == "error") {
      w_.errors[f.value("code", "?")]++;
    }
  }

  void on_closed() override {
    if (!done_ && !dropped_now_) w_.closed_early++;
    dropped_now_ = false;
  }

  // Open model: each message is due one think time after the previous one was *due*,
  // and every latency counts from that intended time. A client or server that falls
  // behind shows up in the figures instead of silently stretching the schedule.
  void schedule_next() {
    if (sent_ >= w_.sc.messages_per_visitor) return maybe_finish();
    if (next_due_ == clock_type::time_point{}) next_due_ = clock_type::now();
    next_due_ += w_.think(w_.sc.visitor_think);
    at(next_due_, [this, intended = next_due_] {
      const bool last = sent_ + 1 == w_.sc.messages_per_visitor;
      const std::string id = "v" + std::to_string(sent_++);
      json say{{"type", "say"}, {"client_msg_id", id}, {"text", w_.make_text(last, intended)}};
      due_[id] = intended;
      unacked_[id] = say;
      w_.sent++;
      send(say);
      schedule_next();
    });
  }

  void drop_and_resume() {
    dropped_ = true;
    dropped_now_ = true;
    drop();
    after(std::chrono::milliseconds{100}, [this] { connect("/v1/visitor"); });
  }

  void maybe_finish() {
    if (done_ || sent_ < w_.sc.messages_per_visitor || !unacked_.empty()) return;
    const bool replies_due = w_.sc.agents > 0 && w_.sc.agent_replies && !ended_;
    if (replies_due && replies_ < w_.sc.messages_per_visitor) return;
    done_ = true;
    const auto hold = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(w_.sc.idle_hold_seconds));
    after(hold, [this] {
      w_.finished++;
      w_.active--;
      drop();
    });
  }

  clock_type::time_point started_;
  clock_type::time_point next_due_{};
  std::string conversation_, resume_token_;
  std::uint64_t last_seq_ = 0;
  std::uint32_t sent_ = 0, replies_ = 0;
  std::map<std::string, json> unacked_;
  std::map<std::string, clock_type::time_point> due_;
  bool agent_joined_ = false, will_drop_ = false, dropped_ = false, dropped_now_ = false, ended_ = false, done_ = false;
};

class sim_agent final : public peer {
public:
  sim_agent(world& w, std::string token) : peer(w), token_(std::move(token)) {}
  void start() { connect("/v1/agent"); }

private:
  void on_open() override { send(json{{"type", "hello"}, {"token", token_}}); }

  void on_frame(const json& f) override {
    const std::string type = f.value("type", "");
    const std::string conv = f.value("conversation_id", "");
    if (type == "welcome") {
      send(json{{"type", "status"}, {"status", "available"}});
    } else if (type == "offer") {
      send(json{{"type", "accept"}, {"conversation_id", conv}});
    } else if (type == "message" && f.value("from", "") == "visitor") {
      w_.checker.delivered(conv, "agent", f.value("seq", std::uint64_t{0}));
      const auto token = w_.take_token(f.value("text", ""), w_.to_agent);
      if (!w_.sc.agent_replies) return;
      const bool last = !token.empty() && token.back() == '!';
      if (last) last_seen_.insert(conv);
      replies_pending_[conv]++;
      const auto intended = clock_type::now() + w_.think(w_.sc.agent_think);
      at(intended, [this, conv, intended] {
        const std::string id = "a" + std::to_string(next_id_++);
        due_[id] = intended;
        reply_conv_[id] = conv;
        w_.sent++;
        send(json{{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", id}, {"text", w_.make_text(false, intended)}});
      });
    } else if (type == "ack") {
      const std::string id = f.value("client_msg_id", "");
      if (auto it = due_.find(id); it != due_.end()) {
        w_.agent_ack.record(micros_since(it->second));
        due_.erase(it);
      }
      w_.checker.acked(conv, f.value("seq", std::uint64_t{0}));
      w_.acked++;
      // End the chat once the visitor's last message and every reply are through.
      if (auto r = reply_conv_.find(id); r != reply_conv_.end()) {
        const auto c = r->second;
        reply_conv_.erase(r);
        if (--replies_pending_[c] == 0 && last_seen_.count(c) && w_.sc.agents_end_chats) {
          send(json{{"type", "end"}, {"conversation_id", c}});
          last_seen_.erase(c);
          replies_pending_.erase(c);
        }
      }
    } else if (type == "error") {
      w_.errors[f.value("code", "?")]++;
    }
  }

  std::string token_;
  std::uint64_t next_id_ = 0;
  std::map<std::string, clock_type::time_point> due_;
  std::map<std::string, std::string> reply_conv_;            // reply client_msg_id -> conversation
  std::map<std::string, std::uint32_t> replies_pending_;     // conversation -> replies not yet acked
  std::set<std::string> last_seen_;                          // conversations whose last message arrived
};

// Creates n agents over REST; returns their login tokens.
std::vector<std::string> create_agents(const run_options& o, const tcp::endpoint& ep, std::uint32_t n, std::uint32_t max_chats) {
  std::vector<std::string> tokens;
  asio::io_context ioc;
  for (std::uint32_t i = 0; i < n; ++i) {
    beast::tcp_stream stream{ioc};
    stream.connect(ep);
    http::request<http::string_body> req{http::verb::post, "/v1/agents", 11};
    req.set(http::field::host, o.host);
    req.set(http::field::authorization, "Bearer " + o.admin_token);
    req.body() = json{{"name", "load-agent-" + std::to_string(i)}, {"max_chats", max_chats}}.dump();
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    if (res.result_int() != 201) throw std::runtime_error("creating agents failed: " + res.body());
    tokens.push_back(json::parse(res.body())["token"].get<std::string>());
  }
  return tokens;
}

} // namespace

run_result run_scenario(const scenario& sc, const run_options& o) {
  if (!is_loopback_v4(o.host)) {
    std::cerr << "dynchat-load: the host must be a loopback address in 127.0.0.0/8\n";
    return {2, {}};
  }
  const auto addr = asio::ip::make_address(o.host);
  asio::io_context ioc{1};
  world w{sc, ioc, tcp::endpoint{addr, o.port}, std::mt19937_64{o.seed}, {}, {}, {}, {}, {}, {}, {}, {}};
  std::vector<std::shared_ptr<sim_agent>> agents;
  if (sc.agents > 0) {
    if (o.admin_token.empty()) {
      std::cerr << "dynchat-load: this scenario has agents; give --admin-token to create them\n";
      return {2, {}};
    }
    try {
      for (auto& token : create_agents(o, w.ep, sc.agents, sc.agent_max_chats)) {
        agents.push_back(std::make_shared<sim_agent>(w, token));
        agents.back()->start();
      }
    } catch (const std::exception& e) {
      std::cerr << "dynchat-load: " << e.what() << "\n";
      return {2, {}};
    }
  }
  const double bound = o.max_seconds > 0 ? o.max_seconds
                                         : sc.ramp_up_seconds + sc.duration_seconds + sc.idle_hold_seconds +
                                             sc.messages_per_visitor * (sc.visitor_think.mean_seconds + sc.agent_think.mean_seconds) * 4 + 15;
  const auto t0 = clock_type::now() + std::chrono::milliseconds{300}; // agents log in first
  std::vector<std::shared_ptr<sim_visitor>> visitors;

  // Arrivals: the rate ramps linearly to arrival_rate over ramp_up, then holds until duration.
  asio::steady_timer arrivals{ioc};
  std::function<void()> arrive = [&] {
    const double t = std::chrono::duration<double>(clock_type::now() - t0).count();
    const double r = sc.arrival_rate, ramp = sc.ramp_up_seconds, end = sc.duration_seconds;
    const double tt = std::min(t, end);
    const double expected = ramp > 0 && tt < ramp ? r * tt * tt / (2 * ramp) : r * (tt - ramp / 2);
    while (w.arrived < static_cast<std::uint64_t>(std::max(0.0, expected))) {
      w.arrived++;
      if (w.active >= sc.max_concurrent) {
        w.capped++;
        continue;
      }
      w.active++;
      visitors.push_back(std::make_shared<sim_visitor>(w));
      visitors.back()->start();
    }
    if (t < end) {
      arrivals.expires_after(std::chrono::milliseconds{5});
      arrivals.async_wait([&](beast::error_code e) { if (!e) arrive(); });
    }
  };
  arrivals.expires_at(t0);
  arrivals.async_wait([&](beast::error_code e) { if (!e) arrive(); });

  asio::steady_timer ticker{ioc};
  std::uint64_t last_acked = 0;
  json timeline = json::array(); // one sample a second: for throughput-over-time plots
  std::function<void()> tick = [&] {
    const double t = std::chrono::duration<double>(clock_type::now() - t0).count();
    timeline.push_back({{"t", t}, {"acked", w.acked - last_acked}, {"visitors", w.active}});
    std::fprintf(stderr, "[%6.1fs] visitors %llu/%llu  acked/s %llu  p99 ack %.1f ms  lost-so-far %llu  errors %zu\n", t,
                 static_cast<unsigned long long>(w.active), static_cast<unsigned long long>(w.arrived),
                 static_cast<unsigned long long>(w.acked - last_acked), w.visitor_ack.quantile(0.99) / 1000.0,
                 static_cast<unsigned long long>(w.checker.lost()), w.errors.size());
    last_acked = w.acked;
    const bool arrivals_over = t >= sc.duration_seconds;
    if (t >= bound || (arrivals_over && w.active == 0)) {
      w.stopping = true;
      arrivals.cancel();
      for (auto& v : visitors) v->drop();
      for (auto& a : agents) a->drop();
      return;
    }
    ticker.expires_after(std::chrono::seconds{1});
    ticker.async_wait([&](beast::error_code e) { if (!e) tick(); });
  };
  ticker.expires_after(std::chrono::seconds{1});
  ticker.async_wait([&](beast::error_code e) { if (!e) tick(); });
  ioc.run();

  const double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
  json report{{"scenario", sc.name},
              {"encoding", sc.msgpack ? "msgpack" : "json"},
              {"seconds", elapsed},
              {"visitors_arrived", w.arrived},
              {"visitors_connected", w.connected},
              {"visitors_finished", w.finished},
              {"visitors_capped", w.capped},
              {"resumed", w.resumed},
              {"connect_failures", w.connect_failures},
              {"closed_early", w.closed_early},
              {"agents", sc.agents},
              {"messages_sent", w.sent},
              {"messages_acked", w.acked},
              {"acked_per_second", elapsed > 0 ? static_cast<double>(w.acked) / elapsed : 0.0},
              {"lost", w.checker.lost()},
              {"duplicated", w.checker.duplicated()},
              {"reordered", w.checker.reordered()},
              {"latency",
               {{"session_setup", histogram_json(w.setup)},
                {"visitor_ack", histogram_json(w.visitor_ack)},
                {"agent_ack", histogram_json(w.agent_ack)},
                {"visitor_to_agent", histogram_json(w.to_agent)},
                {"agent_to_visitor", histogram_json(w.to_visitor)}}},
              {"errors", w.errors},
              {"timeline", timeline}};
  bool ok = w.checker.lost() == 0 && w.checker.duplicated() == 0 && w.checker.reordered() == 0;
  if (o.slo_p99_ack_ms > 0 && w.visitor_ack.quantile(0.99) > o.slo_p99_ack_ms * 1000) {
    report["slo_missed"] = "p99 visitor ack above " + std::to_string(o.slo_p99_ack_ms) + " ms";
    ok = false;
  }
  report["ok"] = ok;
  return {ok ? 0 : 1, report.dump(2)};
}

run_result find_capacity(scenario s, const run_options& o, double factor, unsigned max_steps) {
  json steps = json::array();
  double held = 0;
  const double base = s.arrival_rate;
  for (unsigned k = 0; k < max_steps; ++k) {
    s.arrival_rate = base * std::pow(factor, k);
    std::fprintf(stderr, "capacity step %u: %.1f visitors/s\n", k + 1, s.arrival_rate);
    auto r = run_scenario(s, o);
    if (r.exit_code == 2) return r;
    auto j = json::parse(r.report);
    steps.push_back({{"arrival_rate", s.arrival_rate}, {"ok", r.exit_code == 0}, {"acked_per_second", j["acked_per_second"]},
                     {"p99_visitor_ack_us", j["latency"]["visitor_ack"]["p99_us"]}, {"lost", j["lost"]},
                     {"duplicated", j["duplicated"]}, {"reordered", j["reordered"]}});
    if (r.exit_code != 0) break;
    held = s.arrival_rate;
  }
  json out{{"scenario", s.name}, {"mode", "capacity"}, {"slo_p99_ack_ms", o.slo_p99_ack_ms},
           {"highest_arrival_rate_held", held}, {"steps", steps}};
  return {held > 0 ? 0 : 1, out.dump(2)};
}

} // namespace dynchat::load
