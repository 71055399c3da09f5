#include "cli.hpp"

#include <ostream>

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

namespace tern::daemon {

util::Expected<CliOptions, std::string> parse_cli(int argc, const char* const* argv) {
  CliOptions o;
  bool help = false, version = false, check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i] ? argv[i] : "";
    if (a == "-h" || a == "--help") {
      help = true;
    } else if (a == "--version") {
      version = true;
    } else if (a == "--check-config") {
      check = true;
    } else if (a == "-c" || a == "--config" || a.rfind("--config=", 0) == 0) {
      std::string path;
      if (a.rfind("--config=", 0) == 0) {
        path = std::string(a.substr(9));
      } else {
        if (i + 1 >= argc || argv[i + 1] == nullptr)
          return util::unexpected("option " + std::string(a) + " needs a FILE");
        path = argv[++i];
      }
      if (path.empty()) return util::unexpected(std::string("the config FILE is empty"));
      if (o.config_path)
        return util::unexpected("more than one config file given ('" + *o.config_path + "' and '" +
                                path + "')");
      o.config_path = path;
    } else if (!a.empty() && a[0] == '-') {
      return util::unexpected("unknown option '" + std::string(a) + "' (see --help)");
    } else {
      return util::unexpected("unexpected argument '" + std::string(a) + "' (see --help)");
    }
  }
  // Help and version answer even next to other flags, like most daemons.
  if (help)
    o.action = CliAction::Help;
  else if (version)
    o.action = CliAction::Version;
  else if (check)
    o.action = CliAction::CheckConfig;
  return o;
}

std::string usage_text(std::string_view program) {
  const std::string p(program.empty() ? "ternd" : program);
  return "usage: " + p +
         " [-c FILE]                 run in the foreground\n"
         "       " +
         p +
         " --check-config [-c FILE] validate the configuration and exit\n"
         "       " +
         p +
         " --version | -h | --help\n"
         "\n"
         "  -c, --config FILE  configuration file (YAML); without it the built-in\n"
         "                     defaults apply (see conf/ternd.yaml)\n"
         "  --check-config     print \"ok\", or every error as file:line:col: key: message,\n"
         "                     and exit 0 if valid, 1 if not\n"
         "  --version          print the version and exit\n"
         "  -h, --help         print this help and exit\n";
}

std::string version_text() { return std::string("ternd ") + TERN_VERSION; }

config::LoadResult load_config(const CliOptions& options) {
  if (options.config_path) return config::load_file(*options.config_path);
  // No file: the defaults are the config; loading an empty document also runs validation.
  return config::load_string("", "<built-in defaults>");
}

void print_errors(const std::vector<config::ConfigError>& errors, std::ostream& err) {
  for (const config::ConfigError& e : errors) err << e.to_string() << '\n';
}

int check_config(const CliOptions& options, std::ostream& out, std::ostream& err) {
  auto cfg = load_config(options);
  if (!cfg) {
    print_errors(cfg.error(), err);
    return 1;
  }
  out << "ok\n";
  return 0;
}

}  // namespace tern::daemon
