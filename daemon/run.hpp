// run(): ternd's life once the command line and the configuration are settled: logging to
// stderr, the configuration turned into each module's options, the server and the resolver on
// one libuv loop, and the signals (TERM/INT: graceful stop; HUP: reload the file).
// Returns the process exit status.
#pragma once

#include "cli.hpp"
#include "config/config.hpp"
#include "server/server.hpp"

namespace tern::daemon {

int run(const CliOptions& cli, const config::Config& cfg);

// The server's options from a configuration (pure; unit-testable).
server::ServerOptions server_options(const config::Config& cfg);

}  // namespace tern::daemon
