// The scenario engine: simulated visitors and agents on one io thread.
//
//   visitor: connect -> hello -> (wait for an agent) -> say x N with think times,
//            maybe drop the socket once and resume (resending what was not acked)
//            -> wait for the agent's replies -> hold -> close
//   dialogue visitor (walk_dialogues): connect -> hello -> each bot prompt answered after a
//            think time (an offered option, or a capture filled) -> quiet -> close;
//            with book_meetings, a meeting card's times are answered with `book` (one of
//            those offered, at random: visitors race), again from fresh times when taken
//   agent:   connect -> hello -> available -> accept offers -> reply to each visitor
//            message after a think time -> end the chat after the last reply
//
// Each message text starts with a token carrying the time the message was due
// (steady_clock, which on Linux is the system-wide CLOCK_MONOTONIC), so the receiving
// side - in this process or another - measures delivery latency from that moment, and
// the delivery checker sees every acked seq arrive exactly once, in order.
#include "scenario_run.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "delivery_checker.hpp"
#include "histogram.hpp"
#include "launcher.hpp"
#include "report_util.hpp"
#include "ws_peer.hpp"

namespace dynchat::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

struct world {
  const scenario& sc;
  const run_options& opts;
  peer_context& ctx;
  std::mt19937_64 rng;
  tally t;
  std::uint64_t active = 0;      // visitors between arrival and finish
  std::uint64_t agent_unacked = 0; // agent replies sent and not yet acked
  std::uint64_t connections = 0; // opened so far: picks the next source address
  clock_type::time_point start{}; // arrivals begin

  clock_type::duration think(const think_time& tt) {
    double s = tt.mean_seconds;
    if (tt.kind == think_time::shape::uniform) s = std::uniform_real_distribution<double>{0.5 * s, 1.5 * s}(rng);
    if (tt.kind == think_time::shape::exponential && s > 0) s = std::exponential_distribution<double>{1.0 / s}(rng);
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  }
  std::string page_url() const { return run_page_url(opts.run_tag); }
  tcp::endpoint next_source() {
    return {asio::ip::address_v4{source_address_v4(opts.proc_index, connections++, opts.source_addresses)}, 0};
  }
  // "@<due ns>[!] xxxx": when the message was due, and "!" on a visitor's last message.
  std::string make_text(bool last, clock_type::time_point intended) const {
    std::string text = "@" + std::to_string(intended.time_since_epoch().count()) + (last ? "! " : " ");
    if (text.size() < sc.text_bytes) text.append(sc.text_bytes - text.size(), 'x');
    return text;
  }
  // Records a received text's delivery latency; true when it was a visitor's last message.
  static bool take_token(const std::string& text, latency_histogram& h) {
    if (text.size() < 2 || text[0] != '@') return false;
    clock_type::rep due = 0;
    auto [end, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), due);
    if (ec != std::errc{}) return false;
    h.record(micros_since(clock_type::time_point{clock_type::duration{due}}));
    return end != text.data() + text.size() && *end == '!';
  }
};

// A simulated client of this run: a websocket that counts into the run's tally.
class sim_peer : public ws_peer {
public:
  explicit sim_peer(world& w) : ws_peer(w.ctx), w_(w) {}

protected:
  void on_connect_failed() override { w_.t.connect_failures++; }
  void on_undecodable_frame() override { w_.t.errors["undecodable_frame"]++; }
  world& w_;
};

class sim_visitor final : public sim_peer {
public:
  using sim_peer::sim_peer;
  void start(clock_type::time_point intended_arrival) {
    started_ = intended_arrival;
    will_drop_ = std::bernoulli_distribution{w_.sc.resume_share}(w_.rng);
    if (!w_.sc.leads.empty() && std::bernoulli_distribution{w_.sc.known_share}(w_.rng))
      email_ = w_.sc.leads[std::uniform_int_distribution<std::size_t>{0, w_.sc.leads.size() - 1}(w_.rng)];
    connect("/v1/visitor");
  }

private:
  void on_open() override {
    json hello{{"type", "hello"}, {"page_url", w_.page_url()}};
    if (!email_.empty()) hello["email"] = email_;
    if (!resume_token_.empty()) {
      hello["resume_token"] = resume_token_;
      hello["last_seq"] = last_seq_;
    }
    bot_due_ = slots_due_ = clock_type::now(); // the session starts: its first bot message is due one delay later
    send(hello);
  }

  void on_frame(const json& f) override {
    const std::string type = f.value("type", "");
    if (type == "welcome") {
      if (resume_token_.empty()) {
        w_.t.setup.record(micros_since(started_));
        w_.t.connected++;
        conversation_ = f.value("conversation_id", "");
        if (f.value("known", false)) w_.t.known++;
        else if (!email_.empty()) w_.t.errors["known_lead_not_recognised"]++;
        resume_token_ = f.value("resume_token", "");
        if (w_.sc.walk_dialogues) {
          if (f.contains("dialogue")) w_.t.dialogues_met++;
          else w_.t.errors["no_dialogue_met"]++;
          walking_ = f.contains("dialogue");
          if (!walking_) finish_now();
          return;
        }
        if (!w_.sc.wait_for_agent) schedule_next();
      } else {
        w_.t.resumed++;
        for (auto& [id, frame] : unacked_) send(frame); // the server dedups what it already has
      }
    } else if (type == "message") {
      const auto seq = f.value("seq", std::uint64_t{0});
      last_seq_ = std::max(last_seq_, seq);
      const std::string from = f.value("from", "");
      if (walking_ && from == "bot") return on_bot(f);
      if (from == "system" && f.contains("agent") && !agent_joined_) {
        agent_joined_ = true;
        w_.t.agent_wait.record(micros_since(started_));
        if (w_.sc.wait_for_agent) schedule_next();
      } else if (from == "agent") {
        w_.t.checker.delivered(conversation_, "visitor", seq);
        world::take_token(f.value("text", ""), w_.t.to_visitor);
        replies_++;
        maybe_finish();
      }
    } else if (type == "ack") {
      const std::string id = f.value("client_msg_id", "");
      auto it = unacked_.find(id);
      if (it == unacked_.end()) return; // a repeat ack after a resend: harmless
      w_.t.visitor_ack.record(micros_since(due_.at(id)));
      // With no agents there is no other end to deliver to: acks are all there is to check.
      if (w_.sc.agents > 0) w_.t.checker.acked(conversation_, f.value("seq", std::uint64_t{0}));
      w_.t.acked++;
      unacked_.erase(it);
      if (will_drop_ && !dropped_) return drop_and_resume();
      maybe_finish();
    } else if (type == "ended") {
      ended_ = true;
      maybe_finish();
    } else if (type == "error") {
      w_.t.errors[f.value("code", "?")]++;
    }
  }

  void on_closed() override {
    if (!done_ && !dropped_now_ && !w_.ctx.stopping) w_.t.closed_early++; // the server closed it
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
      w_.t.sent++;
      send(say);
      schedule_next();
    });
  }

  // A bot message: its latency beyond the configured delay (counted from when the session
  // started or the visitor's last answer was sent), then the answer its prompt asks for.
  void on_bot(const json& f) {
    if (booking_) return on_booking_answer(f); // fresh times, or the card after it, follow
    const bool times = f.contains("prompt") && f["prompt"].contains("slots") && !f["prompt"]["slots"].empty();
    if (w_.sc.book_meetings && (awaiting_times_ || first_bot_) && !times) w_.t.no_times_left++; // the card's fallback
    awaiting_times_ = false;
    if (bot_due_ != clock_type::time_point{}) {
      const auto delay = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(w_.sc.bot_delay_seconds));
      const auto beyond = clock_type::now() - bot_due_ - delay;
      (first_bot_ ? w_.t.bot_first : w_.t.bot_reply)
        .record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(beyond).count())));
      first_bot_ = false;
      bot_due_ = {};
    }
    const auto quiet_gen = ++quiet_gen_;
    if (!f.contains("prompt")) {
      // Nothing asked: the dialogue goes on by itself or has ended. Quiet for a while: done.
      const auto wait = std::chrono::duration<double>(w_.sc.bot_delay_seconds + 2.0);
      after(std::chrono::duration_cast<clock_type::duration>(wait), [this, quiet_gen] {
        if (quiet_gen == quiet_gen_) finish_now();
      });
      return;
    }
    const auto& prompt = f["prompt"];
    json answer;
    const std::string id = "d" + std::to_string(answers_++);
    const std::string input = prompt.value("input", "");
    if (w_.sc.book_meetings && prompt.contains("slots") && !prompt["slots"].empty()) {
      w_.t.meeting_slots.record(micros_since(slots_due_));
      if (booking_attempts_++ >= w_.sc.booking_attempts) return finish_now();
      const auto& slots = prompt["slots"];
      const auto pick = std::uniform_int_distribution<std::size_t>{0, slots.size() - 1}(w_.rng);
      booked_slot_ = slots[pick].value("id", "");
      answer = {{"type", "book"}, {"client_msg_id", id}, {"slot", booked_slot_}};
      auto when = clock_type::now() + w_.think(w_.sc.visitor_think);
      if (w_.sc.book_together && booking_attempts_ == 1) // everyone's first booking at one instant, after the last arrival
        when = std::max(when, w_.start + std::chrono::duration_cast<clock_type::duration>(
                                           std::chrono::duration<double>(w_.sc.duration_seconds + 1.0)));
      at(when, [this, answer, id] {
        due_[id] = clock_type::now();
        unacked_[id] = answer;
        w_.t.sent++;
        w_.t.bookings_sent++;
        booking_ = true;
        booking_sent_ = bot_due_ = clock_type::now();
        send(answer);
      });
      return;
    }
    if (prompt.contains("options") && !prompt["options"].empty()) {
      const auto& options = prompt["options"];
      const auto pick = std::uniform_int_distribution<std::size_t>{0, options.size() - 1}(w_.rng);
      answer = {{"type", "choose"}, {"client_msg_id", id}, {"option", options[pick].value("value", "")}};
    } else {
      std::string text = "load answer";
      if (input == "email") text = "load" + std::to_string(w_.t.dialogues_met) + "-" + id + "@acme.example";
      else if (input == "phone") text = "+1 555 0100";
      answer = {{"type", "say"}, {"client_msg_id", id}, {"text", text}};
    }
    at(clock_type::now() + w_.think(w_.sc.visitor_think), [this, answer, id] {
      due_[id] = clock_type::now();
      unacked_[id] = answer;
      w_.t.sent++;
      w_.t.dialogue_answers++;
      bot_due_ = clock_type::now();
      send(answer);
    });
  }

  // The bot's first word after a `book`: booked (the slot is this visitor's: the report
  // counts any slot two visitors were given), taken (fresh times follow), or no times.
  void on_booking_answer(const json& f) {
    booking_ = false;
    w_.t.meeting_booking.record(micros_since(booking_sent_));
    const std::string text = f.value("text", "");
    if (text.rfind("You're booked", 0) == 0) {
      w_.t.meetings_booked++;
      w_.t.booked_slots.push_back(booked_slot_);
    } else if (text.find("just taken") != std::string::npos) {
      w_.t.bookings_refused++;
      slots_due_ = booking_sent_;
      awaiting_times_ = true;
    } else {
      w_.t.errors["booking_answer_unexpected"]++;
    }
    bot_due_ = {};
    // Booked: the dialogue goes on (or ends); quiet for a while means done.
    const auto quiet_gen = ++quiet_gen_;
    after(std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(w_.sc.bot_delay_seconds + 2.0)),
          [this, quiet_gen] {
            if (quiet_gen == quiet_gen_) finish_now();
          });
  }

  void finish_now() {
    if (done_) return;
    done_ = true;
    w_.t.finished++;
    w_.active--;
    drop();
  }

  void drop_and_resume() {
    dropped_ = true;
    dropped_now_ = true;
    drop();
    after(std::chrono::milliseconds{100}, [this] { connect("/v1/visitor"); });
  }

  void maybe_finish() {
    if (walking_) return; // a dialogue walker finishes when the bot falls quiet
    if (done_ || sent_ < w_.sc.messages_per_visitor || !unacked_.empty()) return;
    const bool replies_due = w_.sc.agents > 0 && w_.sc.agent_replies && !ended_;
    if (replies_due && replies_ < w_.sc.messages_per_visitor) return;
    done_ = true;
    const auto hold = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(w_.sc.idle_hold_seconds));
    after(hold, [this] {
      w_.t.finished++;
      w_.active--;
      drop();
    });
  }

  clock_type::time_point started_;
  clock_type::time_point next_due_{};
  std::string conversation_, resume_token_, email_;
  std::uint64_t last_seq_ = 0;
  std::uint32_t sent_ = 0, replies_ = 0;
  std::map<std::string, json> unacked_;
  std::map<std::string, clock_type::time_point> due_;
  bool agent_joined_ = false, will_drop_ = false, dropped_ = false, dropped_now_ = false, ended_ = false, done_ = false;
  // walking a dialogue
  bool walking_ = false, first_bot_ = true;
  clock_type::time_point bot_due_{};
  std::uint64_t quiet_gen_ = 0;
  std::uint32_t answers_ = 0;
  // booking a meeting
  bool booking_ = false, awaiting_times_ = false;
  std::string booked_slot_;
  clock_type::time_point booking_sent_{}, slots_due_{};
  std::uint32_t booking_attempts_ = 0;
};

class sim_agent final : public sim_peer {
public:
  sim_agent(world& w, std::string token) : sim_peer(w), token_(std::move(token)) {}
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
    } else if (type == "chat" &&
               from_another_run(f.value("/visitor/page_url"_json_pointer, std::string{}), w_.opts.run_tag)) {
      // Left waiting by an earlier run: take it out of the line and end it, uncounted;
      // a strict FIFO would otherwise hold this run's visitors behind it.
      foreign_.insert(conv);
      send(json{{"type", "end"}, {"conversation_id", conv}});
    } else if (foreign_.count(conv)) {
      if (type == "ended") foreign_.erase(conv);
    } else if (type == "chat") {
      // What the visitor wrote before the agent joined arrives once, in the transcript.
      for (const auto& m : f.value("transcript", json::array()))
        if (m.value("from", "") == "visitor") on_visitor_message(conv, m);
    } else if (type == "message" && f.value("from", "") == "visitor") {
      on_visitor_message(conv, f);
    } else if (type == "ack") {
      const std::string id = f.value("client_msg_id", "");
      if (auto it = due_.find(id); it != due_.end()) {
        w_.t.agent_ack.record(micros_since(it->second));
        due_.erase(it);
        w_.agent_unacked--;
      }
      w_.t.checker.acked(conv, f.value("seq", std::uint64_t{0}));
      w_.t.acked++;
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
      w_.t.errors[f.value("code", "?")]++;
    }
  }

  // A visitor message reached this agent: check it in, and answer after a think time.
  void on_visitor_message(const std::string& conv, const json& m) {
    w_.t.checker.delivered(conv, "agent", m.value("seq", std::uint64_t{0}));
    const bool last = world::take_token(m.value("text", ""), w_.t.to_agent);
    if (!w_.sc.agent_replies) return;
    if (last) last_seen_.insert(conv);
    replies_pending_[conv]++;
    const auto intended = clock_type::now() + w_.think(w_.sc.agent_think);
    at(intended, [this, conv, intended] {
      const std::string id = "a" + std::to_string(next_id_++);
      due_[id] = intended;
      reply_conv_[id] = conv;
      w_.t.sent++;
      w_.agent_unacked++;
      send(json{{"type", "say"}, {"conversation_id", conv}, {"client_msg_id", id}, {"text", w_.make_text(false, intended)}});
    });
  }

  void on_closed() override {
    // A real agent app would reconnect; this one reports it, because what the server sent
    // meanwhile would be missing from its view (the server drops clients that do not read).
    if (!w_.ctx.stopping) w_.t.errors["agent_socket_closed_by_server"]++;
  }

  std::string token_;
  std::uint64_t next_id_ = 0;
  std::map<std::string, clock_type::time_point> due_;
  std::map<std::string, std::string> reply_conv_;            // reply client_msg_id -> conversation
  std::map<std::string, std::uint32_t> replies_pending_;     // conversation -> replies not yet acked
  std::set<std::string> last_seen_;                          // conversations whose last message arrived
  std::set<std::string> foreign_;                            // chats of an earlier run, being ended
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

double run_bound_seconds(const scenario& sc, const run_options& o) {
  if (o.max_seconds > 0) return o.max_seconds;
  return sc.ramp_up_seconds + sc.duration_seconds + sc.idle_hold_seconds +
         sc.messages_per_visitor * (sc.visitor_think.mean_seconds + sc.agent_think.mean_seconds) * 4 + 15;
}

tally run_share(const scenario& sc, const run_options& o, double& elapsed_seconds) {
  const auto addr = asio::ip::make_address(o.host);
  asio::io_context ioc{1};
  peer_context ctx{ioc, tcp::endpoint{addr, o.port}, sc.msgpack, {}};
  world w{sc, o, ctx, std::mt19937_64{o.seed + o.proc_index}, {}};
  ctx.next_source = [&w] { return w.next_source(); };
  std::vector<std::shared_ptr<sim_agent>> agents;
  for (auto& token : create_agents(o, ctx.server, sc.agents, sc.agent_max_chats)) {
    agents.push_back(std::make_shared<sim_agent>(w, token));
    agents.back()->start();
  }
  const double bound = run_bound_seconds(sc, o);
  const auto t0 = o.start_at_ns > 0 ? clock_type::time_point{clock_type::duration{o.start_at_ns}}
                                    : clock_type::now() + std::chrono::milliseconds{300}; // agents log in first
  w.start = t0;
  const auto at_seconds = [t0](double s) {
    return t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  };
  std::vector<std::shared_ptr<sim_visitor>> visitors;
  const bool alone = o.procs <= 1; // else the launcher decides when everyone is done

  asio::steady_timer arrivals{ioc}, ticker{ioc};
  auto stop = [&] {
    w.ctx.stopping = true;
    arrivals.cancel();
    ticker.cancel();
    for (auto& v : visitors) v->drop();
    for (auto& a : agents) a->drop();
  };

  // Arrivals: every 5 ms, start the visitors that are due by now; each one's set-up
  // latency counts from its own due time, not from this tick. Split over processes,
  // this one takes every procs-th arrival of the whole run.
  std::function<void()> arrive = [&] {
    const double t = std::chrono::duration<double>(clock_type::now() - t0).count();
    const auto due = own_arrivals(static_cast<std::uint64_t>(std::max(0.0, arrivals_due(sc, t))), o.procs, o.proc_index);
    while (w.t.arrived < due) {
      w.t.arrived++;
      if (w.active >= sc.max_concurrent) {
        w.t.capped++;
        continue;
      }
      w.active++;
      visitors.push_back(std::make_shared<sim_visitor>(w));
      const auto n = global_arrival(w.t.arrived, o.procs, o.proc_index);
      visitors.back()->start(at_seconds(arrival_time(sc, n)));
    }
    if (t < sc.duration_seconds) {
      arrivals.expires_after(std::chrono::milliseconds{5});
      arrivals.async_wait([&](beast::error_code e) { if (!e) arrive(); });
    }
  };
  arrivals.expires_at(t0);
  arrivals.async_wait([&](beast::error_code e) { if (!e) arrive(); });

  asio::signal_set done_signal{ioc};
  if (!alone) {
    done_signal.add(SIGUSR1);
    done_signal.async_wait([&](beast::error_code e, int) { if (!e && !w.ctx.stopping) stop(); });
  }

  // A sample each second, on whole seconds from t0 so that children's timelines line up.
  std::uint64_t last_acked = 0, last_connected = 0;
  unsigned second = 0;
  std::function<void()> tick = [&] {
    second++;
    const double t = second;
    w.t.acked_per_second.push_back(w.t.acked - last_acked);
    w.t.visitors_per_second.push_back(w.active);
    w.t.connected_per_second.push_back(w.t.connected - last_connected);
    last_acked = w.t.acked;
    last_connected = w.t.connected;
    // Done when every visitor finished and every agent reply was acked.
    const bool all_done = t >= sc.duration_seconds && w.active == 0 && w.agent_unacked == 0;
    std::uint64_t errors = 0;
    for (auto& [code, n] : w.t.errors) errors += n;
    if (alone) {
      std::fprintf(stderr, "[%5.0fs] visitors %llu/%llu  new sessions/s %llu  acked/s %llu  p99 ack %.1f ms  in flight %llu  errors %llu\n", t,
                   static_cast<unsigned long long>(w.active), static_cast<unsigned long long>(w.t.arrived),
                   static_cast<unsigned long long>(w.t.connected_per_second.back()),
                   static_cast<unsigned long long>(w.t.acked_per_second.back()), w.t.visitor_ack.quantile(0.99) / 1000.0,
                   static_cast<unsigned long long>(w.t.sent - w.t.acked), static_cast<unsigned long long>(errors));
    } else {
      write_line(o.progress_fd, json{{"progress",
                                      {{"second", second}, {"active", w.active}, {"arrived", w.t.arrived}, {"connected", w.t.connected},
                                       {"sent", w.t.sent}, {"acked", w.t.acked}, {"errors", errors},
                                       {"p99_ack_us", w.t.visitor_ack.quantile(0.99)}, {"done", all_done}}}}
                                    .dump());
    }
    if (t >= bound) w.t.timed_out = 1;
    if (t >= bound || (alone && all_done)) {
      done_signal.cancel();
      return stop();
    }
    if (w.ctx.stopping) return;
    ticker.expires_at(at_seconds(second + 1));
    ticker.async_wait([&](beast::error_code e) { if (!e) tick(); });
  };
  ticker.expires_at(at_seconds(1));
  ticker.async_wait([&](beast::error_code e) { if (!e) tick(); });
  ioc.run();
  elapsed_seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  return std::move(w.t);
}

run_result run_scenario(const scenario& sc, const run_options& o) {
  if (!is_loopback_v4(o.host)) {
    std::cerr << "dynchat-load: the host must be a loopback address in 127.0.0.0/8\n";
    return {2, {}};
  }
  if (sc.agents > 0 && o.admin_token.empty()) {
    std::cerr << "dynchat-load: this scenario has agents; give --admin-token to create them\n";
    return {2, {}};
  }
  // Checked here, so each capacity step (a higher arrival rate) is checked too.
  if (const auto shortfall = seat_shortfall(sc); !shortfall.empty())
    std::cerr << "dynchat-load: warning: " << shortfall << "\n";
  run_options tagged = o;
  if (tagged.run_tag.empty()) tagged.run_tag = std::to_string(std::random_device{}()) + std::to_string(std::random_device{}());
  if (o.procs > 1) return run_in_processes(sc, tagged);
  try {
    double elapsed = 0;
    const tally t = run_share(sc, tagged, elapsed);
    const auto report = make_report(t, sc, elapsed, o.slo, 1);
    return {report["ok"].get<bool>() ? 0 : 1, report.dump(2)};
  } catch (const std::exception& e) {
    std::cerr << "dynchat-load: " << e.what() << "\n";
    return {2, {}};
  }
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
                     {"p99_visitor_ack_us", j["latency"]["visitor_ack"]["p99_us"]},
                     {"p99_visitor_to_agent_us", j["latency"]["visitor_to_agent"]["p99_us"]},
                     {"p99_agent_to_visitor_us", j["latency"]["agent_to_visitor"]["p99_us"]},
                     {"p99_agent_wait_us", j["latency"]["agent_wait"]["p99_us"]}, {"lost", j["lost"]},
                     {"duplicated", j["duplicated"]}, {"reordered", j["reordered"]}, {"errors", j["errors"]},
                     {"not_ok_because", j.value("not_ok_because", json::array())}});
    if (r.exit_code != 0) break;
    held = s.arrival_rate;
  }
  json out{{"scenario", s.name}, {"mode", "capacity"}, {"slo_p99_ack_ms", o.slo.p99_ack_ms},
           {"slo_p99_delivery_ms", o.slo.p99_delivery_ms}, {"slo_p99_agent_wait_ms", o.slo.p99_agent_wait_ms},
           {"highest_arrival_rate_held", held}, {"steps", steps}};
  return {held > 0 ? 0 : 1, out.dump(2)};
}

} // namespace dynchat::load
