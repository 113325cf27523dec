#include <exception>

#include <spdlog/spdlog.h>

#include "daemon.hpp"
#include "import_leads.hpp"

int main(int argc, char** argv) {
  try {
    auto opts = dynchat::app::parse_command_line(argc, argv);
    if (!opts) return 0;
    if (!opts->import_file.empty()) return dynchat::app::import_leads(opts->cfg, {opts->import_file, ',', opts->import_progress});
    return dynchat::app::run_daemon(*opts);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
