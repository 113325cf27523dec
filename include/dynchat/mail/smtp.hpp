#pragma once
// One email through an SMTP relay, with libcurl: STARTTLS on smtp:// (required unless
// turned off), TLS from the first byte on smtps://, optional login. Blocking: call it from
// a thread of its own (the invite mailer is a detached actor), never an I/O thread.
#include <chrono>
#include <string>

namespace dynchat::mail {

struct smtp_relay {
  std::string url;      // smtp://host:port or smtps://host:port
  std::string user, password;
  bool starttls = true; // on smtp://: refuse to send in clear text
  std::string ca_file;  // further CAs (PEM) to trust; empty: the system's
  std::chrono::seconds timeout{30};
};

struct smtp_outcome {
  bool sent = false;
  std::string error; // the relay's refusal or what failed: for the outbox's last_error
};

smtp_outcome send_mail(const smtp_relay& relay, const std::string& from, const std::string& to,
                       const std::string& message);

} // namespace dynchat::mail
