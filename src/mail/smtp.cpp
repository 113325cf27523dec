#include "dynchat/mail/smtp.hpp"

#include <cstring>
#include <memory>
#include <mutex>

#include <curl/curl.h>

namespace dynchat::mail {
namespace {

struct upload {
  const std::string& text;
  std::size_t at = 0;
};

std::size_t read_message(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<upload*>(user);
  const std::size_t n = std::min(size * count, u->text.size() - u->at);
  std::memcpy(buffer, u->text.data() + u->at, n);
  u->at += n;
  return n;
}

// "Name <a@b>" or "a@b": the address the envelope needs.
std::string envelope_address(const std::string& s) {
  const auto open = s.rfind('<');
  const auto close = s.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) return s.substr(open, close - open + 1);
  return "<" + s + ">";
}

} // namespace

smtp_outcome send_mail(const smtp_relay& relay, const std::string& from, const std::string& to,
                       const std::string& message) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), &curl_easy_cleanup};
  if (!curl) return {false, "libcurl could not start"};
  char error[CURL_ERROR_SIZE] = {};
  upload body{message};
  const auto sender = envelope_address(from);
  curl_slist* recipients = curl_slist_append(nullptr, envelope_address(to).c_str());
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, relay.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, sender.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(c, CURLOPT_READDATA, &body);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(relay.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<std::int64_t>(relay.timeout.count(), 10)));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (relay.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!relay.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, relay.ca_file.c_str());
  if (!relay.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, relay.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, relay.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(recipients);
  if (rc == CURLE_OK) return {true, {}};
  long response = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
  std::string why = error[0] ? error : curl_easy_strerror(rc);
  if (response) why += " (SMTP " + std::to_string(response) + ")";
  return {false, why};
}

} // namespace dynchat::mail
