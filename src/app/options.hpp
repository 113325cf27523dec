#pragma once
// dynchatd's command line: defaults < config file < environment < flags.
#include <optional>
#include <string>

#include "dynchat/core/settings.hpp"

namespace dynchat::app {

struct launch_options {
  settings cfg;
  std::string config_path;
  std::string port_file; // written with the bound port once listening (for scripts and tests)
  std::string import_file; // `import-leads FILE`: import, then exit (the server does not start)
  bool import_progress = true;
};

/// nullopt when --help was printed. Throws std::runtime_error on bad input.
std::optional<launch_options> parse_command_line(int argc, char** argv);

} // namespace dynchat::app
