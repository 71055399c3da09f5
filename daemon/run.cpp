#include "run.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "logging.hpp"
#include "resolver_factory.hpp"
#include "support/listen_fds.hpp"
#include "support/operations.hpp"
#include "support/server_stats.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"


namespace tern::daemon {

namespace {

// Bounded loop turns after the server stopped, to let closing handles (c-ares, timers) finish.
constexpr int kCloseTurns = 64;

uint32_t ms(config::Milliseconds d) { return static_cast<uint32_t>(d.count()); }
uint32_t secs(config::Seconds d) { return static_cast<uint32_t>(d.count()); }

bool resolver_config_changed(const config::Config& a, const config::Config& b) {
  return a.resolver != b.resolver || a.forward != b.forward;
}

struct Daemon {
  uv_loop_t loop{};
  CliOptions cli;
  config::Config cfg;
  std::unique_ptr<server::Server> srv;
  std::unique_ptr<Operations> ops;  // notify, control socket, metrics, cache persistence
  uv_signal_t sigterm{}, sigint{}, sighup{};
  bool stopping = false;

  void on_stop_signal(int signum) {
    if (stopping) return;
    stopping = true;
    spdlog::info("[daemon] {} received: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    ops->stopping();
    srv->stop(server::kDefaultStopGraceMs, [this]() {
      ops->stop([this]() {  // after the last answers: the cache dump (cache.persist) is complete
        for (uv_signal_t* s : {&sigterm, &sigint, &sighup})
          uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
        uv_stop(&loop);
      });
    });
  }

  void on_reload() { (void)reload_notified(); }

  // SIGHUP and `ternctl reload`: RELOADING=1, reload, READY=1 whatever the outcome (systemd
  // waits for READY=1 to end the reload job).
  util::Expected<std::vector<std::string>, std::string> reload_notified() {
    if (stopping) return util::unexpected(std::string("ternd is stopping"));
    ops->reloading();
    auto r = reload();
    ops->reloaded();
    return r;
  }

  // Returns the warnings, or why the previous configuration stays.
  util::Expected<std::vector<std::string>, std::string> reload() {
    if (!cli.config_path) {
      spdlog::warn("[daemon] reload: started without -c FILE, nothing to reload");
      return util::unexpected(std::string("started without -c FILE: nothing to reload"));
    }
    spdlog::info("[daemon] reloading {}", *cli.config_path);
    auto loaded = config::load_file(*cli.config_path);
    if (!loaded) {
      std::string all;
      for (const auto& e : loaded.error()) {
        spdlog::error("[config] {}", e.to_string());
        all += (all.empty() ? "" : "; ") + e.to_string();
      }
      spdlog::error("[daemon] reload failed ({} errors): still serving with the previous "
                    "configuration", loaded.error().size());
      return util::unexpected(all);
    }
    config::Config next = std::move(*loaded);
    std::unique_ptr<resolver::Resolver> resolver;
    if (resolver_config_changed(cfg, next)) {
      try {
        resolver = make_resolver(next, &loop, srv->scheduler(), &ops->metrics());
      } catch (const std::exception& e) {
        spdlog::error("[daemon] reload failed: {}: still serving with the previous configuration",
                      e.what());
        return util::unexpected(std::string(e.what()));
      }
    }
    set_log_level(next.logging.level);
    std::vector<std::string> warnings = srv->reload(server_options(next));
    for (const auto& w : warnings) spdlog::warn("[daemon] {}", w);
    if (next.control != cfg.control || next.metrics != cfg.metrics ||
        next.server.user != cfg.server.user || next.cache.persist != cfg.cache.persist ||
        next.cache.persist_file != cfg.cache.persist_file) {
      warnings.push_back("control, metrics, server.user and cache.persist changes take effect at "
                         "the next restart");
      spdlog::warn("[daemon] {}", warnings.back());
    }
    if (resolver) srv->set_resolver(std::move(resolver));
    cfg = std::move(next);
    spdlog::info("[daemon] configuration reloaded");
    return warnings;
  }
};

}  // namespace

server::ServerOptions server_options(const config::Config& cfg) {
  server::ServerOptions o;
  o.listen = cfg.server.listen;
  auto& p = o.pipeline;
  p.acl = config::build_access_list(cfg.server.access_control);
  p.udp_payload_size = cfg.server.udp_payload_size;
  p.chaos_version = cfg.server.chaos.version;
  p.chaos_identity = cfg.server.chaos.identity;
  p.max_concurrent = cfg.resolver.max_concurrent;
  p.max_waiting_clients = cfg.resolver.max_waiting_clients;
  p.serve_stale = cfg.cache.serve_stale.enabled;
  p.client_timeout_ms = ms(cfg.cache.serve_stale.client_timeout);
  p.prefetch = cfg.cache.prefetch;
  p.log_queries = cfg.logging.queries;
  p.rate_limit = {cfg.server.rate_limit.qps, cfg.server.rate_limit.slip};
  o.tcp.idle_timeout_ms = ms(cfg.server.tcp.idle_timeout);
  o.tcp.max_connections = cfg.server.tcp.max_connections;
  o.cache.max_bytes = static_cast<size_t>(cfg.cache.max_size);
  o.cache.min_ttl = secs(cfg.cache.min_ttl);
  o.cache.max_ttl = secs(cfg.cache.max_ttl);
  o.cache.max_negative_ttl = secs(cfg.cache.max_negative_ttl);
  o.cache.serve_stale = cfg.cache.serve_stale.enabled;
  o.cache.max_stale = secs(cfg.cache.serve_stale.max_stale);
  o.cache.prefetch = cfg.cache.prefetch;
  return o;
}

int run(const CliOptions& cli, const config::Config& cfg) {
  setup_logging(cfg.logging.level);
  // A client that hangs up mid-write is an error code, not a death.
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) spdlog::warn("[daemon] cannot ignore SIGPIPE");

  // ternd.socket passes bound sockets (LISTEN_FDS): they are served as they are, and
  // server.listen endpoints they cover are not bound again (Server::start).
  std::vector<server::AdoptedSocket> adopted;
  if (auto inherited = take_listen_fds(); !inherited) {
    spdlog::critical("[daemon] socket activation: {}", to_string(inherited.error()));
    return 1;
  } else {
    for (const auto& s : *inherited) {
      const bool inet = s.family == AF_INET || s.family == AF_INET6;
      if (!inet || (s.type != SOCK_DGRAM && s.type != SOCK_STREAM)) {
        spdlog::critical("[daemon] socket activation: fd {} (\"{}\") is not an IPv4/IPv6 UDP or "
                         "TCP socket; ternd.socket may only hold ListenDatagram= and "
                         "ListenStream= lines", s.fd, s.name);
        for (const auto& t : *inherited) ::close(t.fd);
        return 1;
      }
      spdlog::info("[daemon] socket activation: fd {} {} ({}, name \"{}\") from systemd", s.fd,
                   s.local ? s.local->to_string() : std::string("?"),
                   s.type == SOCK_DGRAM ? "udp" : "tcp", s.name);
      adopted.push_back({s.fd, s.type == SOCK_DGRAM ? server::Protocol::Udp : server::Protocol::Tcp});
    }
  }

  auto d = std::make_unique<Daemon>();
  d->cli = cli;
  d->cfg = cfg;
  if (int rc = uv_loop_init(&d->loop); rc != 0) {
    spdlog::critical("[daemon] uv_loop_init: {}", uv_strerror(rc));
    return 1;
  }
  d->srv = std::make_unique<server::Server>(&d->loop, server_options(cfg),
                                            util::SystemClock::instance());
  d->ops = std::make_unique<Operations>(&d->loop, util::SystemClock::instance(), TERN_VERSION);
  int status = 0;
  try {
    d->srv->set_resolver(
        make_resolver(cfg, &d->loop, d->srv->scheduler(), &d->ops->metrics()));
    d->srv->set_metrics(&d->ops->metrics());  // queries, latency, TCP connections -> /metrics
  } catch (const std::exception& e) {
    spdlog::critical("[daemon] cannot start the resolver: {}", e.what());
    status = 1;
  }
  if (status == 0) {
    if (auto started = d->srv->start(adopted); !started) {
      for (const auto& e : started.error()) spdlog::critical("[server] {}", e);
      status = 1;
    }
  }
  if (status == 0) {
    // After every listener is bound: cache.persist load, control socket, /metrics, then the
    // drop to server.user.
    const server::PipelineStats& pstats = d->srv->pipeline().stats();
    OperationsHooks hooks;
    hooks.reload = [dp = d.get()] { return dp->reload_notified(); };
    hooks.set_log_level = [](config::LogLevel l) { set_log_level(l); };
    hooks.stats_extra = [&pstats](server::JsonWriter& w) { write_pipeline_stats(w, pstats); };
    add_pipeline_collector(d->ops->metrics(), pstats);
    add_udp_collector(d->ops->metrics(), *d->srv);
    if (auto started = d->ops->start(cfg, d->srv->cache(), std::move(hooks)); !started) {
      spdlog::critical("[daemon] {}", started.error());
      status = 1;
    }
  }
  if (status != 0) {
    d->ops->stop([&d]() { d->srv->stop(0, [&d]() { uv_stop(&d->loop); }); });
  } else {
    d->sigterm.data = d->sigint.data = d->sighup.data = d.get();
    auto stop_cb = [](uv_signal_t* s, int signum) {
      static_cast<Daemon*>(s->data)->on_stop_signal(signum);
    };
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sighup);
    uv_signal_start(&d->sigterm, stop_cb, SIGTERM);
    uv_signal_start(&d->sigint, stop_cb, SIGINT);
    uv_signal_start(&d->sighup, [](uv_signal_t* s, int) { static_cast<Daemon*>(s->data)->on_reload(); },
                    SIGHUP);
    d->ops->ready();  // READY=1: every listener is bound
    spdlog::info("[daemon] ternd started");
  }
  uv_run(&d->loop, UV_RUN_DEFAULT);
  // uv_stop() may have ended the run before every close callback ran: finish them, bounded.
  for (int i = 0; i < kCloseTurns && !d->srv->closed(); ++i) uv_run(&d->loop, UV_RUN_NOWAIT);
  if (d->srv->closed()) {
    // Destroying the server destroys the resolver, whose handles close on the next turns.
    d->srv.reset();
  } else {
    // Freeing handles libuv still holds would be use-after-free; the process is ending anyway.
    spdlog::error("[daemon] server handles still open at exit");
    (void)d->srv.release();
  }
  d->ops.reset();
  for (int i = 0; i < kCloseTurns && uv_run(&d->loop, UV_RUN_NOWAIT) != 0; ++i) {
  }
  if (uv_loop_close(&d->loop) != 0) spdlog::debug("[daemon] loop closed with handles still open");
  if (status == 0) spdlog::info("[daemon] stopped");
  return status;
}

}  // namespace tern::daemon
