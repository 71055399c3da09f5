#include "server/server.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>

#include "util/bug.hpp"

namespace tern::server {

namespace {
constexpr uint64_t kStopPollMs = 20;  // how often a stopping server checks for work left
}

Server::Server(uv_loop_t* loop, ServerOptions opts, const util::Clock& clock)
    : loop_(loop), opts_(std::move(opts)), clock_(clock), cache_(opts_.cache, clock),
      scheduler_(loop) {}

Server::~Server() {
  if (!closed()) TERN_BUG("Server destroyed before stop() completed");
}

void Server::set_resolver(std::unique_ptr<resolver::Resolver> resolver) {
  TERN_ASSERT(resolver != nullptr);
  if (!pipeline_) {
    pipeline_ = std::make_unique<Pipeline>(opts_.pipeline, cache_, *resolver, scheduler_, clock_);
    pipeline_->set_metrics(metrics_);
    resolver_ = std::move(resolver);
    return;
  }
  pipeline_->set_resolver(*resolver);
  auto old = std::move(resolver_);
  resolver_ = std::move(resolver);
  if (old) old->shutdown();  // its completions land in the pipeline now, before it dies
}

void Server::set_metrics(Metrics* metrics) {
  metrics_ = metrics;
  if (pipeline_) pipeline_->set_metrics(metrics);
  for (auto& t : tcp_) t->set_metrics(metrics);
}

util::Expected<void, std::vector<std::string>> Server::start(
    const std::vector<AdoptedSocket>& inherited) {
  TERN_ASSERT(pipeline_ != nullptr);
  std::vector<std::string> errors;
  for (const AdoptedSocket& s : inherited) {
    if (s.protocol == Protocol::Udp) {
      auto udp = std::make_unique<UdpListener>(loop_, *pipeline_);
      if (auto r = udp->adopt(s.fd); !r) errors.push_back(r.error());
      udp_.push_back(std::move(udp));
    } else {
      auto tcp = std::make_unique<TcpListener>(loop_, *pipeline_, opts_.tcp);
      tcp->set_metrics(metrics_);
      if (auto r = tcp->adopt(s.fd); !r) errors.push_back(r.error());
      tcp_.push_back(std::move(tcp));
    }
  }
  inherited_udp_ = udp_.size();
  inherited_tcp_ = tcp_.size();
  auto covered = [](const auto& listeners, size_t n, const net::Endpoint& ep) {
    for (size_t i = 0; i < n; ++i)
      if (!listeners[i]->closed() && listeners[i]->endpoint() == ep) return true;
    return false;
  };
  for (const auto& ep : opts_.listen) {
    // Port 0 (tests) is never covered: it asks for a fresh port.
    const bool udp_covered = ep.port != 0 && covered(udp_, inherited_udp_, ep);
    const bool tcp_covered = ep.port != 0 && covered(tcp_, inherited_tcp_, ep);
    if (udp_covered || tcp_covered)
      spdlog::info("[server] server.listen {} ({}): an inherited socket serves it, not bound again",
                   ep.to_string(), udp_covered && tcp_covered ? "udp+tcp" : udp_covered ? "udp" : "tcp");
    net::Endpoint tcp_ep = ep;
    if (!udp_covered) {
      auto udp = std::make_unique<UdpListener>(loop_, *pipeline_);
      if (auto r = udp->start(ep); !r) errors.push_back(r.error());
      udp_.push_back(std::move(udp));
      // Port 0 (tests): TCP takes the port UDP got, so one endpoint means one port.
      if (ep.port == 0 && udp_.back()->endpoint().port != 0) tcp_ep.port = udp_.back()->endpoint().port;
    }
    if (!tcp_covered) {
      auto tcp = std::make_unique<TcpListener>(loop_, *pipeline_, opts_.tcp);
      tcp->set_metrics(metrics_);
      if (auto r = tcp->start(tcp_ep); !r) errors.push_back(r.error());
      tcp_.push_back(std::move(tcp));
    }
  }
  if (!errors.empty()) {
    for (auto& u : udp_) u->close();
    for (auto& t : tcp_) t->close();
    return util::unexpected(std::move(errors));
  }
  if (uv_timer_init(loop_, &trim_timer_) == 0) {
    trim_timer_open_ = true;
    trim_timer_.data = this;
    uv_timer_start(&trim_timer_, &Server::on_trim, kTrimIntervalMs, kTrimIntervalMs);
    uv_unref(reinterpret_cast<uv_handle_t*>(&trim_timer_));  // housekeeping keeps no loop alive
  }
  for (size_t i = 0; i < udp_.size(); ++i)
    spdlog::info("[server] listening on {} (udp{})", udp_[i]->endpoint().to_string(),
                 i < inherited_udp_ ? ", inherited socket" : "");
  for (size_t i = 0; i < tcp_.size(); ++i)
    spdlog::info("[server] listening on {} (tcp{})", tcp_[i]->endpoint().to_string(),
                 i < inherited_tcp_ ? ", inherited socket" : "");
  return {};
}

std::vector<std::string> Server::reload(const ServerOptions& opts) {
  std::vector<std::string> warnings;
  if (opts.listen != opts_.listen)
    warnings.push_back("server.listen changed: the new addresses take effect after a restart");
  auto listen = opts_.listen;
  opts_ = opts;
  opts_.listen = listen;
  if (pipeline_) pipeline_->set_options(opts_.pipeline);
  for (auto& t : tcp_) t->set_options(opts_.tcp);
  cache_.set_options(opts_.cache);
  return warnings;
}

void Server::stop(uint64_t grace_ms, std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(done);
  for (auto& u : udp_) u->stop_receiving();
  for (auto& t : tcp_) t->stop_accepting();
  stop_deadline_ = uv_now(loop_) + grace_ms;
  if (uv_timer_init(loop_, &stop_timer_) != 0) return finish_stop();
  stop_timer_open_ = true;
  stop_timer_.data = this;
  // Checked at once and then every kStopPollMs until done or the deadline.
  uv_timer_start(&stop_timer_, &Server::on_stop_poll, 0, kStopPollMs);
}

void Server::on_stop_poll(uv_timer_t* t) noexcept {
  auto* self = static_cast<Server*>(t->data);
  size_t waiting = self->pipeline_ ? self->pipeline_->waiting_clients() : 0;
  size_t backlog = 0;
  for (auto& tcp : self->tcp_) backlog += tcp->write_backlog();
  if ((waiting == 0 && backlog == 0) || uv_now(self->loop_) >= self->stop_deadline_) {
    if (waiting > 0)
      spdlog::warn("[server] stop: {} queries still unanswered after the grace period", waiting);
    self->finish_stop();
  }
}

void Server::on_trim(uv_timer_t*) noexcept {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void Server::finish_stop() {
  if (trim_timer_open_) {
    uv_timer_stop(&trim_timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&trim_timer_), [](uv_handle_t* h) {
      static_cast<Server*>(h->data)->trim_timer_open_ = false;
    });
  }
  if (stop_timer_open_) {
    uv_timer_stop(&stop_timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), [](uv_handle_t* h) {
      static_cast<Server*>(h->data)->stop_timer_open_ = false;
    });
  }
  // Unfinished resolutions complete now (SERVFAIL or stale) while the sockets can still send.
  if (resolver_) resolver_->shutdown();
  for (auto& u : udp_) u->close();
  for (auto& t : tcp_) t->close();
  scheduler_.cancel_all();
  if (on_stopped_) {
    auto fn = std::move(on_stopped_);
    fn();
  }
}

UdpStats Server::udp_stats() const {
  UdpStats t;
  for (const auto& u : udp_) {
    const UdpStats& s = u->stats();
    t.received += s.received;
    t.sent += s.sent;
    t.send_queued += s.send_queued;
    t.send_errors += s.send_errors;
    t.oversized += s.oversized;
    t.backlogged += s.backlogged;
    t.send_dropped += s.send_dropped;
    t.kernel_drops += s.kernel_drops;
  }
  return t;
}

std::vector<net::Endpoint> Server::udp_endpoints() const {
  std::vector<net::Endpoint> r;
  for (const auto& u : udp_) r.push_back(u->endpoint());
  return r;
}

std::vector<net::Endpoint> Server::tcp_endpoints() const {
  std::vector<net::Endpoint> r;
  for (const auto& t : tcp_) r.push_back(t->endpoint());
  return r;
}

bool Server::closed() const {
  for (const auto& u : udp_)
    if (!u->closed()) return false;
  for (const auto& t : tcp_)
    if (!t->closed()) return false;
  return !stop_timer_open_ && !trim_timer_open_ && scheduler_.armed() == 0;
}

}  // namespace tern::server
