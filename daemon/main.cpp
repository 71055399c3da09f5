// ternd: the tern resolver daemon. The command line lives in cli.cpp, the daemon's life in
// run.cpp; this file only decides which of them to call.
#include <iostream>

#include "cli.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
  using namespace tern::daemon;
  auto opts = parse_cli(argc, argv);
  if (!opts) {
    std::cerr << "ternd: " << opts.error() << '\n';
    return 2;
  }
  switch (opts->action) {
    case CliAction::Help: std::cout << usage_text(argc > 0 ? argv[0] : "ternd"); return 0;
    case CliAction::Version: std::cout << version_text() << '\n'; return 0;
    case CliAction::CheckConfig: return check_config(*opts, std::cout, std::cerr);
    case CliAction::Run: break;
  }
  auto cfg = load_config(*opts);
  if (!cfg) {
    print_errors(cfg.error(), std::cerr);
    return 1;
  }
  return run(*opts, *cfg);
}
