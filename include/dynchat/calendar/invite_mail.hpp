#pragma once
// An invite as an email (docs/meetings.md, "Invites by email"): a text part for people
// and the iCalendar part calendar apps act on (text/calendar; method=REQUEST or CANCEL),
// and the back-off between delivery attempts. Pure.
#include <cstdint>
#include <string>

#include "dynchat/store/meetings.hpp"

namespace dynchat::calendar {

/// RFC 5322 with CRLF line ends. Its Message-ID is the same for every attempt of one
/// delivery, so a relay or mailbox that sees it twice (a crash between sending and
/// recording it) can tell.
std::string invite_email(const store::invite_delivery& d, const std::string& from, std::int64_t date_ms);

/// When the next attempt is due after `attempts` failed ones: base, doubling, at most an hour.
std::int64_t next_attempt_ms(std::int64_t now_ms, std::uint32_t attempts, std::int64_t base_ms);

} // namespace dynchat::calendar
