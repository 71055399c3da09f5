// Operations: everything ternd does for its operators around the server, behind a handful of
// calls for daemon/run.cpp: the systemd notify protocol (READY=1 after every listener is bound,
// RELOADING=1/READY=1 around reloads, STOPPING=1, a STATUS= line every few seconds), the
// control socket with the standard ternctl commands, the Prometheus endpoint, cache
// persistence (cache.persist: loaded at start with expired entries skipped, dumped at stop),
// and the privilege drop to server.user after every socket is bound.
//
// Order in run.cpp: server start (listeners bound) -> start() -> ready(); on SIGHUP
// reloading() ... reloaded(); on SIGTERM stop(done) before or while the server stops.
// Invariant: start() either succeeds with every configured piece running and the privileges
// dropped, or returns the first error having closed what it opened (after stop(); the
// caller then exits). No handle stays open after stop()'s callback.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cache/message_cache.hpp"
#include "config/config.hpp"
#include "net/endpoint.hpp"
#include "server/control_json.hpp"
#include "server/control_server.hpp"
#include "server/metrics.hpp"
#include "server/metrics_http.hpp"
#include "support/sd_notify.hpp"
#include "util/clock.hpp"
#include "util/expected.hpp"

namespace tern::daemon {

// How often the STATUS= line is refreshed (systemctl status shows the latest).
inline constexpr uint64_t kStatusIntervalMs = 5000;

struct OperationsHooks {
  // `ternctl reload`: re-read the configuration and apply it; warnings or the error.
  std::function<util::Expected<std::vector<std::string>, std::string>()> reload;
  // `ternctl log-level`: the level is already parsed and valid.
  std::function<void(config::LogLevel)> set_log_level;
  // Queries served, for STATUS= and `ternctl status`, when the pipeline does not report its
  // replies to metrics() (then ternctl leaves the per-query sections out); unset: metrics()
  // totals.
  std::function<uint64_t()> queries_served;
  // Extra members for `ternctl status` / `ternctl stats` (listeners, pipeline counters...).
  std::function<void(server::JsonWriter&)> status_extra;
  std::function<void(server::JsonWriter&)> stats_extra;
};

class Operations {
 public:
  // Reads $NOTIFY_SOCKET now.
  Operations(uv_loop_t* loop, const util::Clock& clock, std::string version);
  ~Operations();
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  // Counters for the pipeline/listeners/clients to increment; rendered at /metrics.
  server::Metrics& metrics() { return metrics_; }

  util::Expected<void, std::string> start(const config::Config& cfg, cache::MessageCache& cache,
                                          OperationsHooks hooks);
  void ready();
  void reloading();
  void reloaded();
  // STOPPING=1 (once): call when shutdown begins; stop() sends it too if this was not called.
  void stopping();
  // STOPPING=1, dump the cache (cache.persist), close the control socket and the metrics
  // endpoint; done runs once their handles are closed.
  void stop(std::function<void()> done);

  // "serving: 12 queries, 3 cache entries" (the STATUS= text).
  std::string status_line() const;
  // The metrics endpoint actually bound (port 0 resolved), when configured.
  std::optional<net::Endpoint> metrics_endpoint() const;
  // Entries loaded from cache.persist-file by start().
  size_t loaded_entries() const { return loaded_; }

 private:
  void send_status();
  void maybe_done();

  uv_loop_t* loop_;
  const util::Clock& clock_;
  std::string version_;
  int64_t started_at_;
  Notifier notifier_;
  server::Metrics metrics_;
  cache::MessageCache* cache_ = nullptr;
  OperationsHooks hooks_;
  bool persist_ = false;
  std::string persist_file_;
  size_t loaded_ = 0;
  std::unique_ptr<server::ControlServer> control_;
  std::unique_ptr<server::MetricsHttpServer> http_;
  uv_timer_t status_timer_{};
  bool timer_open_ = false;
  bool started_ = false;  // start() succeeded: only then is the cache dumped at stop
  bool stopping_sent_ = false;
  int closing_ = 0;  // handles/servers still closing during stop()
  std::function<void()> on_stopped_;
};

// The log level named as in the config (trace, debug, info, warn, error, critical, off).
std::optional<config::LogLevel> parse_log_level(std::string_view text);

}  // namespace tern::daemon
