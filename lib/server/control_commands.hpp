// The standard ternctl commands, registered on a ControlServer in one call so the daemon's
// wiring stays short: status, stats, flush, lookup, cache dump|load, plus reload and
// log-level, which only the daemon can carry out and so arrive as callbacks.
//
// Caller: daemon/run.cpp after the Server and Metrics exist. Everything runs on the loop
// thread (ControlServer calls handlers there), so handlers touch the cache directly.
// Invariant: a handler never leaves the cache half-changed on bad input: names and types are
// parsed before anything is flushed, a dump goes to FILE.tmp and is renamed only when complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/message_cache.hpp"
#include "server/control_json.hpp"
#include "server/control_server.hpp"
#include "server/metrics.hpp"
#include "util/clock.hpp"
#include "util/expected.hpp"

namespace tern::server {

struct ControlContext {
  cache::MessageCache* cache = nullptr;  // required
  const Metrics* metrics = nullptr;      // optional: query counters in status/stats
  // optional: the "queries" of status when metrics is not fed by the pipeline
  std::function<uint64_t()> queries_served;
  const util::Clock* clock = nullptr;    // required: uptime, remaining TTLs
  std::string version;
  int64_t started_at = 0;  // wall seconds
  // `reload`: re-read and apply the configuration; warnings on success, the errors otherwise.
  std::function<util::Expected<std::vector<std::string>, std::string>()> reload;
  // `log-level LEVEL`: LEVEL as typed; an error names the accepted levels.
  std::function<util::Expected<void, std::string>(std::string_view level)> set_log_level;
  // Extra members appended to the status / stats objects (listeners, pipeline counters...).
  std::function<void(JsonWriter&)> status_extra;
  std::function<void(JsonWriter&)> stats_extra;
};

void register_standard_commands(ControlServer& server, ControlContext ctx);

}  // namespace tern::server
