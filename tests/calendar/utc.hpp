#pragma once
// Instants for calendar tests, written as UTC wall-clock times.
#include <cstdint>

#include <date/date.h>

namespace dynchat::calendar::test {

inline std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  const auto day = date::sys_days{date::year{y} / date::month{m} / date::day{d}};
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count() +
         (static_cast<std::int64_t>(hh) * 60 + mm) * 60'000;
}

} // namespace dynchat::calendar::test

#include <string>

#include <catch2/catch.hpp>

#include "dynchat/calendar/slots.hpp"

namespace Catch {
template <>
struct StringMaker<dynchat::calendar::interval> {
  static std::string convert(const dynchat::calendar::interval& i) {
    return dynchat::calendar::local_iso(i.start_ms, "UTC") + "/" + dynchat::calendar::local_iso(i.end_ms, "UTC");
  }
};
} // namespace Catch
