#include "options.hpp"

#include <CLI/CLI.hpp>

namespace dynchat::app {

std::optional<launch_options> parse_command_line(int argc, char** argv) {
  CLI::App cli{"dynchatd: durable real-time visitor <-> agent chat server"};
  std::string config_path;
  std::optional<std::string> listen, data_dir, admin_token, log_level, port_file;
  std::optional<unsigned> io_threads, actor_threads;
  bool no_seed = false;
  std::vector<std::string> overrides;
  cli.add_option("-c,--config", config_path, "TOML config file (every key and its default: config/dynchat.toml)")
    ->envname("DYNCHAT_CONFIG");
  cli.add_option("--listen", listen, "host:port to listen on (default 127.0.0.1:8080)")->envname("DYNCHAT_LISTEN");
  cli.add_option("--data-dir", data_dir, "LMDB data folder (default ./data)")->envname("DYNCHAT_DATA_DIR");
  cli.add_option("--admin-token", admin_token, "admin bearer token for /v1 (default: generated on first start)")
    ->envname("DYNCHAT_ADMIN_TOKEN");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")->envname("DYNCHAT_LOG_LEVEL");
  cli.set_version_flag("--version", "dynchatd " DYNCHAT_VERSION);
  cli.add_option("--io-threads", io_threads, "socket threads");
  cli.add_option("--actor-threads", actor_threads, "actor scheduler threads");
  cli.add_flag("--no-seed", no_seed, "do not create demo agents on an empty data folder");
  cli.add_option("--port-file", port_file, "write the bound port to this file once listening");
  cli.add_option("--set", overrides, "override any config key: --set section.key=value (repeatable)");
  std::string import_file;
  bool no_progress = false;
  auto* import = cli.add_subcommand("import-leads", "import leads from a CSV file in Marketo's export format, then exit "
                                                    "(the data folder's dynchatd must be stopped)");
  import->add_option("file", import_file, "the CSV file: a header row of Marketo field names (id among them), null for empty")
    ->required();
  import->add_flag("--no-progress", no_progress, "no progress bar");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    cli.exit(e);
    return std::nullopt;
  } catch (const CLI::CallForVersion& e) {
    cli.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw std::runtime_error(std::string{e.what()} + " (dynchatd --help lists the flags)");
  }

  launch_options out;
  out.config_path = config_path;
  if (!config_path.empty()) out.cfg = load_settings_file(config_path, out.cfg);
  for (const auto& kv : overrides) {
    auto eq = kv.find('=');
    auto dot = kv.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
      throw std::runtime_error("--set wants section.key=value, got '" + kv + "'");
    // Through the same loader as the file, so every key is checked the same way.
    out.cfg = load_settings_text("[" + kv.substr(0, dot) + "]\n" + kv.substr(dot + 1, eq - dot - 1) + " = " +
                                   kv.substr(eq + 1) + "\n",
                                 out.cfg);
  }
  if (listen) out.cfg.server.listen = *listen;
  if (data_dir) out.cfg.server.data_dir = *data_dir;
  if (admin_token) out.cfg.server.admin_token = *admin_token;
  if (log_level) out.cfg.server.log_level = *log_level;
  if (io_threads) out.cfg.server.io_threads = *io_threads;
  if (actor_threads) out.cfg.server.actor_threads = *actor_threads;
  if (no_seed) out.cfg.server.seed_demo = false;
  if (port_file) out.port_file = *port_file;
  out.import_file = import_file;
  out.import_progress = !no_progress;
  validate(out.cfg);
  return out;
}

} // namespace dynchat::app
