#pragma once
// Logging through a log_throttle: for warnings a hostile client can trigger at will.
// Header-only; for the targets that link spdlog (actors, net).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dynchat/core/log_throttle.hpp"

namespace dynchat {

template <class... Args>
void log_throttled(log_throttle& throttle, spdlog::level::level_enum level, fmt::format_string<Args...> format,
                   Args&&... args) {
  if (!spdlog::should_log(level)) return;
  auto held = throttle.allow();
  if (!held) return;
  auto line = fmt::format(format, std::forward<Args>(args)...);
  if (*held) line += fmt::format(" ({} more like it held back)", *held);
  spdlog::log(level, "{}", line);
}

} // namespace dynchat
