// ternctl: control a running ternd through its control socket (see ternctl(8)).
//   ternctl [-s SOCKET | -c CONFIG] [--json] [-t SECONDS] COMMAND [ARG...]
// Exit status: 0 done, 1 ternd refused or failed the command, 2 usage error,
// 3 ternd could not be reached (not running, no permission, timeout).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control_client.hpp"
#include "render.hpp"

#include "config/loader.hpp"

namespace {

constexpr const char* kDefaultSocket = "/run/tern/control.sock";
constexpr const char* kDefaultConfig = "/etc/tern/ternd.yaml";

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: ternctl [-s SOCKET | -c CONFIG] [--json] [-t SECONDS] COMMAND [ARG...]\n"
               "\n"
               "commands:\n"
               "  status                 version, uptime, queries served, cache size\n"
               "  stats                  counters (a table; --json for JSON)\n"
               "  reload                 re-read the configuration (like SIGHUP)\n"
               "  flush                  empty the whole cache\n"
               "  flush NAME             drop NAME (every type) from the cache\n"
               "  flush NAME subtree     drop NAME and everything below it\n"
               "  cache dump FILE        write the cache to FILE\n"
               "  cache load FILE        add the unexpired entries of FILE to the cache\n"
               "  lookup NAME TYPE       what the cache holds for NAME/TYPE\n"
               "  log-level LEVEL        trace, debug, info, warn, error, critical or off\n"
               "  help                   the commands this ternd understands\n"
               "\n"
               "options:\n"
               "  -s SOCKET   control socket (default: control.socket from the config, else %s)\n"
               "  -c CONFIG   read control.socket from this ternd config (default %s)\n"
               "  -t SECONDS  how long to wait for an answer (default 30)\n"
               "  --json      print the result as JSON\n",
               kDefaultSocket, kDefaultConfig);
}

// Arity checks for the commands ternctl knows, so a typo fails here with usage, not as a
// round trip. Unknown commands go to ternd, which may know more (its `help`).
bool arity_ok(const std::string& cmd, const std::vector<std::string>& args) {
  size_t n = args.size();
  if (cmd == "status" || cmd == "stats" || cmd == "reload" || cmd == "help") return n == 0;
  if (cmd == "flush") return n <= 1 || (n == 2 && args[1] == "subtree");
  if (cmd == "cache") return n == 2 && (args[0] == "dump" || args[0] == "load");
  if (cmd == "lookup") return n == 2;
  if (cmd == "log-level") return n == 1;
  return true;
}

// ternd resolves FILE in its own working directory (/): make it absolute here.
std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket, config;
  bool json = false;
  int timeout_s = 30;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-s" || a == "--socket") {
      if (++i >= argc) { usage(stderr); return 2; }
      socket = argv[i];
    } else if (a == "-c" || a == "--config") {
      if (++i >= argc) { usage(stderr); return 2; }
      config = argv[i];
    } else if (a == "-t" || a == "--timeout") {
      if (++i >= argc) { usage(stderr); return 2; }
      char* end = nullptr;
      long t = std::strtol(argv[i], &end, 10);
      if (!end || *end != '\0' || t < 1 || t > 3600) {
        std::fprintf(stderr, "ternctl: -t wants seconds between 1 and 3600\n");
        return 2;
      }
      timeout_s = static_cast<int>(t);
    } else if (a == "--json" || a == "-j") {
      json = true;
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("ternctl %s\n", TERN_VERSION);
      return 0;
    } else if (a == "--") {
      ++i;
      break;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "ternctl: unknown option %s\n", a.c_str());
      usage(stderr);
      return 2;
    } else {
      break;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  std::string cmd = argv[i++];
  std::vector<std::string> args(argv + i, argv + argc);
  // `stats --json` reads naturally; accept the flag after the command too.
  for (auto it = args.begin(); it != args.end();) {
    if (*it == "--json") { json = true; it = args.erase(it); } else { ++it; }
  }
  if (!arity_ok(cmd, args)) {
    std::fprintf(stderr, "ternctl: wrong arguments for %s\n", cmd.c_str());
    usage(stderr);
    return 2;
  }
  if (cmd == "cache") args[1] = absolute(args[1]);

  if (!socket.empty() && !config.empty()) {
    std::fprintf(stderr, "ternctl: give -s or -c, not both\n");
    return 2;
  }
  if (socket.empty()) {
    const bool explicit_config = !config.empty();
    if (!explicit_config) config = kDefaultConfig;
    if (explicit_config || ::access(config.c_str(), R_OK) == 0) {
      auto loaded = tern::config::load_file(config);
      if (!loaded) {
        for (const auto& e : loaded.error())
          std::fprintf(stderr, "ternctl: %s\n", e.to_string().c_str());
        return 2;
      }
      socket = loaded->control.socket;
    } else {
      socket = kDefaultSocket;
    }
  }

  auto r = tern::ternctl::call(socket, cmd, args, timeout_s * 1000);
  if (!r) {
    std::fprintf(stderr, "ternctl: %s\n", r.error().message.c_str());
    return 3;
  }
  if (!r->ok) {
    std::fprintf(stderr, "ternctl: %s: %s\n", cmd.c_str(), r->error.c_str());
    return 1;
  }
  std::string out = json ? r->result.dump() + "\n" : tern::ternctl::render_table(r->result);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
