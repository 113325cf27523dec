#include "dynchat/calendar/invite_mail.hpp"

#include <algorithm>
#include <ctime>

namespace dynchat::calendar {
namespace {

std::string rfc5322_date(std::int64_t ms) {
  const std::time_t t = ms / 1000;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char out[40];
  std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return out;
}

// A header value on one line: CR and LF would start a header of the sender's choosing.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\r', ' ');
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

} // namespace

std::string invite_email(const store::invite_delivery& d, const std::string& from, std::int64_t date_ms) {
  const bool cancel = d.ics.find("METHOD:CANCEL") != std::string::npos;
  const std::string boundary = "dynchat-" + d.meeting_id + "-" + std::to_string(d.sequence);
  std::string m;
  m += "From: " + one_line(from) + "\r\n";
  m += "To: " + one_line(d.recipient) + "\r\n";
  m += "Subject: " + one_line(d.subject) + "\r\n";
  m += "Date: " + rfc5322_date(date_ms) + "\r\n";
  m += "Message-ID: <" + d.meeting_id + "." + std::to_string(d.sequence) + "." +
       std::to_string(std::hash<std::string>{}(d.recipient)) + "@dynchat>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  m += one_line(d.subject) + (cancel ? "\r\nThis meeting was cancelled.\r\n" : "\r\nThe invitation is attached.\r\n");
  m += "\r\n--" + boundary + "\r\n";
  m += std::string{"Content-Type: text/calendar; charset=utf-8; method="} + (cancel ? "CANCEL" : "REQUEST") + "\r\n";
  m += "Content-Disposition: attachment; filename=\"invite.ics\"\r\n\r\n";
  m += d.ics; // libical's output: CRLF lines, folded at 75 octets
  if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  m += "--" + boundary + "--\r\n";
  return m;
}

std::int64_t next_attempt_ms(std::int64_t now_ms, std::uint32_t attempts, std::int64_t base_ms) {
  constexpr std::int64_t hour_ms = 3'600'000;
  std::int64_t wait = base_ms;
  for (std::uint32_t i = 1; i < attempts && wait < hour_ms; ++i) wait *= 2;
  return now_ms + std::min(wait, hour_ms);
}

} // namespace dynchat::calendar
