#include <exception>

#include <spdlog/spdlog.h>

#include "daemon.hpp"

int main(int argc, char** argv) {
  try {
    auto opts = dynchat::app::parse_command_line(argc, argv);
    if (!opts) return 0;
    return dynchat::app::run_daemon(*opts);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
