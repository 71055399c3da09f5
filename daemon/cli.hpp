// The ternd command line: what the operator asked for (run, check a config, print the version
// or help) and which config file. parse_cli() never exits or prints; main() decides. The config
// helpers here are shared by --check-config and the normal start so both judge a file the same.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "util/expected.hpp"

namespace tern::daemon {

enum class CliAction : uint8_t { Run, CheckConfig, Version, Help };

struct CliOptions {
  CliAction action = CliAction::Run;
  std::optional<std::string> config_path;  // unset: built-in defaults
};

// argv[0] is the program name. Errors (unknown flag, missing FILE, stray argument) come back as
// one line of text without the program name.
util::Expected<CliOptions, std::string> parse_cli(int argc, const char* const* argv);

std::string usage_text(std::string_view program);
std::string version_text();

// The configuration the options name: the file from -c, or the built-in defaults.
config::LoadResult load_config(const CliOptions& options);

// --check-config: prints "ok" to `out`, or every error to `err` one per line. Returns the exit
// status: 0 when the configuration is valid, 1 otherwise.
int check_config(const CliOptions& options, std::ostream& out, std::ostream& err);

// One error per line, as `file:line:col: key: message`.
void print_errors(const std::vector<config::ConfigError>& errors, std::ostream& err);

}  // namespace tern::daemon
