#include "resolver_factory.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "client/cares_forwarder.hpp"
#include "client/udp_tcp_transport.hpp"
#include "resolver/forward_policy.hpp"
#include "resolver/infra_cache.hpp"
#include "resolver/iterator.hpp"
#include "resolver/root_hints.hpp"
#include "resolver/scheduler.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

namespace tern::daemon {
namespace {

// The iterator's "run this later" on the server's libuv timers.
class PostOnTimers final : public resolver::Scheduler {
 public:
  explicit PostOnTimers(server::Scheduler& timers) : timers_(timers) {}
  void post(std::function<void()> fn) override { timers_.after(0, std::move(fn)); }

 private:
  server::Scheduler& timers_;
};

resolver::ForwardPolicy forward_policy(const config::Config& cfg) {
  std::vector<resolver::ForwardZone> zones;
  for (const auto& z : cfg.forward) {
    auto name = dns::Name::from_text(z.zone);
    if (!name) throw std::runtime_error("forward zone " + z.zone + ": not a domain name");
    zones.push_back({*name, z.upstreams});
  }
  auto policy = resolver::ForwardPolicy::create(std::move(zones));
  if (!policy)
    throw std::runtime_error("forward zones: " + std::string(resolver::to_string(policy.error())));
  return std::move(*policy);
}

std::unique_ptr<client::CaresForwarder> make_forwarder(const config::Config& cfg,
                                                       uv_loop_t* loop,
                                                       client::UpstreamObserver* observer) {
  client::ForwarderOptions fo;
  fo.edns_payload = cfg.server.udp_payload_size;
  fo.observer = observer;
  return std::make_unique<client::CaresForwarder>(loop, forward_policy(cfg),
                                                  util::SystemRandom::instance(), fo);
}

resolver::QnameMinimisation qmin(config::QnameMinimisation m) {
  switch (m) {
    case config::QnameMinimisation::Strict: return resolver::QnameMinimisation::Strict;
    case config::QnameMinimisation::Off: return resolver::QnameMinimisation::Off;
    case config::QnameMinimisation::Relaxed: break;
  }
  return resolver::QnameMinimisation::Relaxed;
}

// Recursion, with forward zones taking precedence for their names. Owns everything the
// iterator refers to; members are declared so that the iterator dies before what it uses.
class RecursiveResolver final : public resolver::Resolver {
 public:
  RecursiveResolver(const config::Config& cfg, uv_loop_t* loop, server::Scheduler& timers,
                    client::UpstreamObserver* observer)
      : post_(timers),
        transport_(loop, util::SystemRandom::instance(), transport_options(observer)),
        infra_(util::SystemClock::instance()) {
    resolver::IteratorOptions io;
    if (!cfg.resolver.root_hints.empty()) io.root_hints = resolver::load_root_hints(cfg.resolver.root_hints);
    io.qname_minimisation = qmin(cfg.resolver.qname_minimisation);
    io.query_ipv4 = cfg.resolver.query_ipv4;
    io.query_ipv6 = cfg.resolver.query_ipv6;
    io.max_concurrent = cfg.resolver.max_concurrent;
    iterator_ = std::make_unique<resolver::Iterator>(transport_, post_,
                                                     util::SystemClock::instance(),
                                                     util::SystemRandom::instance(), io, infra_);
    if (!cfg.forward.empty()) {
      policy_ = forward_policy(cfg);
      forwarder_ = make_forwarder(cfg, loop, observer);
    }
  }

  static client::TransportOptions transport_options(client::UpstreamObserver* observer) {
    client::TransportOptions o;
    o.observer = observer;
    return o;
  }

  ~RecursiveResolver() override {
    RecursiveResolver::shutdown();
    iterator_.reset();
  }

  void resolve(const resolver::Request& request, resolver::Completion done) override {
    if (forwarder_ && policy_.has_zone_for(request.question.qname)) {
      forwarder_->resolve(request, std::move(done));
      return;
    }
    iterator_->resolve(request, std::move(done));
  }

  void shutdown() override {
    if (down_) return;
    down_ = true;
    if (forwarder_) forwarder_->shutdown();
    iterator_->shutdown();
    transport_.shutdown();
  }

 private:
  PostOnTimers post_;
  client::NetTransport transport_;
  resolver::InfraCache infra_;
  resolver::ForwardPolicy policy_;
  std::unique_ptr<client::CaresForwarder> forwarder_;
  std::unique_ptr<resolver::Iterator> iterator_;
  bool down_ = false;
};

}  // namespace

std::unique_ptr<resolver::Resolver> make_resolver(const config::Config& cfg, uv_loop_t* loop,
                                                  server::Scheduler& scheduler,
                                                  client::UpstreamObserver* observer) {
  if (cfg.resolver.mode == config::ResolverMode::Forward) return make_forwarder(cfg, loop, observer);
  try {
    return std::make_unique<RecursiveResolver>(cfg, loop, scheduler, observer);
  } catch (const std::runtime_error& e) {
    if (!cfg.resolver.root_hints.empty())
      throw std::runtime_error("resolver.root-hints " + cfg.resolver.root_hints + ": " + e.what());
    throw;
  }
}

}  // namespace tern::daemon
