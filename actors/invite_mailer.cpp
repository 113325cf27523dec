// The mailer: it keeps the pending invites in memory (loaded at start, then handed over
// by the scheduler once committed), sends those due, and records each outcome before it
// forgets the invite. An invite is marked sent only after the relay took it; a crash
// between the two sends it again, with the same Message-ID.
#include "actors/invite_mailer.hpp"

#include <map>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/meeting_messages.hpp"
#include "actors/messages.hpp"
#include "dynchat/calendar/invite_mail.hpp"
#include "dynchat/core/ids.hpp"
#include "dynchat/mail/smtp.hpp"
#include "dynchat/store/meetings.hpp"

namespace dynchat {
namespace {

struct mailer_state {
  actor_context ctx;
  mail::smtp_relay relay;
  std::map<std::string, store::invite_delivery> pending; // by outbox key
  std::set<std::string> recording; // outcomes whose write is in flight: not sent again meanwhile
  std::int64_t wake_at = 0;        // the wake-up armed, 0: none
  static inline const char* name = "invite_mailer";
};
using mailer_ptr = invite_mailer_actor::stateful_pointer<mailer_state>;

std::string key_of(const store::invite_delivery& d) { return store::invite_delivery_key(d.meeting_id, d.sequence, d.recipient); }

void arm(mailer_ptr self) {
  auto& st = self->state;
  if (st.relay.url.empty()) return;
  std::int64_t next = 0;
  for (const auto& [key, d] : st.pending)
    if (!st.recording.count(key) && (next == 0 || d.next_attempt_ms < next)) next = d.next_attempt_ms;
  if (next == 0 || (st.wake_at != 0 && st.wake_at <= next)) return;
  st.wake_at = next;
  self->delayed_send(self, std::chrono::milliseconds{std::max<std::int64_t>(0, next - now_ms())}, msg::wake_atom::value);
}

void record(mailer_ptr self, store::invite_delivery d) {
  const auto key = key_of(d);
  self->state.recording.insert(key);
  store::write_batch batch;
  store::writes::put_invite_delivery(batch, d);
  self->request(self->state.ctx.writer, caf::infinite, msg::write_atom::value, std::move(batch))
    .then(
      [self, key, d](std::uint64_t) {
        auto& st = self->state;
        st.recording.erase(key);
        if (d.status == "pending") st.pending[key] = d; // a retry, due later
        else st.pending.erase(key);
        arm(self);
      },
      [self, key](caf::error& e) {
        // Not recorded: the invite stays as it was, and goes again (a sent one, once more).
        spdlog::error("invite mailer: an outcome could not be stored: {}", caf::to_string(e));
        self->state.recording.erase(key);
        arm(self);
      });
}

void deliver_due(mailer_ptr self) {
  auto& st = self->state;
  st.wake_at = 0;
  const auto now = now_ms();
  const auto& cfg = st.ctx.cfg->meetings;
  for (auto& [key, d] : st.pending) {
    if (st.recording.count(key) || d.next_attempt_ms > now) continue;
    auto outcome = mail::send_mail(st.relay, cfg.smtp_from, d.recipient, calendar::invite_email(d, cfg.smtp_from, now_ms()));
    auto done = d;
    done.attempts += 1;
    if (outcome.sent) {
      done.status = "sent";
      done.sent_ms = now_ms();
      done.last_error.clear();
      spdlog::info("invite for meeting {} sent to {}", d.meeting_id, d.recipient);
    } else {
      done.last_error = outcome.error;
      done.status = done.attempts >= cfg.smtp_max_attempts ? "failed" : "pending";
      done.next_attempt_ms = calendar::next_attempt_ms(now_ms(), done.attempts,
                                                       std::chrono::duration_cast<std::chrono::milliseconds>(cfg.smtp_retry_base).count());
      spdlog::warn("invite for meeting {} to {}: attempt {} failed: {}", d.meeting_id, d.recipient, done.attempts, outcome.error);
    }
    record(self, std::move(done));
  }
  arm(self);
}

} // namespace

invite_mailer_actor spawn_invite_mailer(caf::actor_system& sys, const actor_context& ctx) {
  return sys.spawn<caf::detached>([ctx](mailer_ptr self) -> invite_mailer_actor::behavior_type {
    auto& st = self->state;
    st.ctx = ctx;
    const auto& cfg = ctx.cfg->meetings;
    st.relay = {cfg.smtp_url, cfg.smtp_user, cfg.smtp_password, cfg.smtp_starttls, cfg.smtp_ca_file, cfg.smtp_timeout};
    guard_store(
      [&] {
        for (auto& d : store::load_invite_deliveries(st.ctx.db->read()))
          if (d.status == "pending") st.pending.emplace(key_of(d), std::move(d));
      },
      [](const store::store_error& e) { spdlog::error("invite mailer: the outbox could not be read: {}", e.what()); });
    if (st.relay.url.empty() && !st.pending.empty())
      spdlog::warn("{} invites wait in the outbox: set meetings.smtp_url to send them", st.pending.size());
    self->send(self, msg::wake_atom::value);
    return {
      [=](msg::mail_atom, std::vector<store::invite_delivery>& fresh) {
        for (auto& d : fresh) self->state.pending[key_of(d)] = std::move(d); // a newer one of the same key replaces it
        arm(self);
      },
      [=](msg::wake_atom) { deliver_due(self); },
      [=](msg::shutdown_atom) { self->quit(); },
    };
  });
}

} // namespace dynchat
