// Server: the client-facing half of ternd on one libuv loop. Owns the message cache, the
// request pipeline, the timers and one UDP and one TCP listener per `server.listen` endpoint;
// is handed the resolver. The daemon builds ServerOptions from the config (server/ never sees
// YAML), calls start(), and on signals reload() or stop().
// Invariant: start() either binds every endpoint or leaves nothing bound; after stop()'s
// callback ran, the server holds no open libuv handle, so the loop can end and the object be
// destroyed.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cache/message_cache.hpp"
#include "net/endpoint.hpp"
#include "resolver/resolver.hpp"
#include "server/adopted_socket.hpp"
#include "server/pipeline.hpp"
#include "server/tcp_listener.hpp"
#include "server/udp_listener.hpp"
#include "server/uv_scheduler.hpp"
#include "util/clock.hpp"
#include "util/expected.hpp"

namespace tern::server {

struct ServerOptions {
  std::vector<net::Endpoint> listen;
  PipelineOptions pipeline;
  TcpOptions tcp;
  cache::CacheOptions cache;
};

// How often freed heap memory is handed back to the system (malloc_trim). Cache churn under a
// flood of new names leaves free chunks between live ones that glibc keeps (measured: ~7 MiB
// of RSS over an 8 MiB cache); a trim costs about a millisecond of loop time.
inline constexpr uint64_t kTrimIntervalMs = 2000;

// How long a stopping server waits for answers still in flight (SIGTERM): long enough for a
// forwarder's answer, short enough for a service manager's stop timeout.
inline constexpr uint64_t kDefaultStopGraceMs = 2000;

class Server {
 public:
  // The resolver is created by the caller (it may need this server's scheduler, see
  // scheduler()); set_resolver() must be called before start().
  Server(uv_loop_t* loop, ServerOptions opts, const util::Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Scheduler& scheduler() { return scheduler_; }
  cache::MessageCache& cache() { return cache_; }
  Pipeline& pipeline() { return *pipeline_; }
  // Counts queries and TCP connections in `metrics` (which must outlive the server's use of
  // it); call after set_resolver().
  void set_metrics(Metrics* metrics);

  // Installs the resolver; an earlier one is shut down (its waiters get stale data or
  // SERVFAIL) and destroyed.
  void set_resolver(std::unique_ptr<resolver::Resolver> resolver);

  // Serves every `inherited` socket as it is (systemd socket activation; the server owns
  // their fds from here on), then binds every `listen` endpoint (UDP and TCP) that no
  // inherited socket of the same protocol already covers (same address and port, read with
  // getsockname). TCP options, buffers and metrics apply to inherited sockets as to bound
  // ones. On failure returns one message per socket or endpoint that failed, and closes
  // everything, inherited sockets included.
  util::Expected<void, std::vector<std::string>> start(
      const std::vector<AdoptedSocket>& inherited = {});

  // Applies a new configuration. Listen endpoints cannot change without a restart: a change is
  // reported in the returned warnings and the old endpoints stay.
  std::vector<std::string> reload(const ServerOptions& opts);

  // Stops reading, waits (at most grace_ms) for queries in flight to be answered, then shuts
  // the resolver down and closes every handle; `done` runs when all of that is over.
  void stop(uint64_t grace_ms, std::function<void()> done);

  // Every UDP listener's counters, summed.
  UdpStats udp_stats() const;
  std::vector<net::Endpoint> udp_endpoints() const;
  std::vector<net::Endpoint> tcp_endpoints() const;
  // How many of those are inherited sockets (the first ones listed).
  size_t inherited_udp() const { return inherited_udp_; }
  size_t inherited_tcp() const { return inherited_tcp_; }
  bool closed() const;

 private:
  static void on_stop_poll(uv_timer_t* t) noexcept;
  static void on_trim(uv_timer_t* t) noexcept;
  void finish_stop();

  uv_loop_t* loop_;
  ServerOptions opts_;
  const util::Clock& clock_;
  Metrics* metrics_ = nullptr;
  cache::MessageCache cache_;
  UvScheduler scheduler_;
  std::unique_ptr<resolver::Resolver> resolver_;
  std::unique_ptr<Pipeline> pipeline_;
  std::vector<std::unique_ptr<UdpListener>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;
  size_t inherited_udp_ = 0, inherited_tcp_ = 0;  // the first ones in udp_ / tcp_
  uv_timer_t stop_timer_{};
  bool stop_timer_open_ = false;
  uv_timer_t trim_timer_{};
  bool trim_timer_open_ = false;
  bool stopping_ = false;
  uint64_t stop_deadline_ = 0;
  std::function<void()> on_stopped_;
};

}  // namespace tern::server
