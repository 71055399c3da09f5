// ternd: the tern resolver daemon. The command line lives in cli.cpp; this file only decides
// what to do with it.
#include <iostream>

#include "cli.hpp"

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
  std::cout << "ternd: configuration loaded; serving is not wired yet\n";
  return 0;
}
