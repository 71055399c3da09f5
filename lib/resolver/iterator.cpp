#include "resolver/iterator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "resolver/limits.hpp"
#include "resolver/record_util.hpp"
#include "resolver/resolution.hpp"

namespace tern::resolver {

Iterator::Iterator(Transport& transport, Scheduler& scheduler, const util::Clock& clock,
                   util::Random& random, IteratorOptions options, InfraCache& infra)
    : transport_(transport),
      scheduler_(scheduler),
      clock_(clock),
      random_(random),
      opts_(std::move(options)),
      infra_(infra),
      selection_(clock, random, opts_.selection) {
  // Control plane: a configuration that cannot reach any root server is refused up front
  // (otherwise every resolution would wait for a priming that cannot start).
  if (!opts_.query_ipv4 && !opts_.query_ipv6)
    throw std::invalid_argument("resolver: query-ipv4 and query-ipv6 are both off");
  bool reachable = false;
  for (const auto& h : opts_.root_hints)
    for (const auto& a : h.addresses) reachable |= a.is_v4() ? opts_.query_ipv4 : opts_.query_ipv6;
  if (!reachable)
    throw std::invalid_argument("resolver: no root hint has an address of an enabled family");
}

Iterator::~Iterator() {
  shutdown();
  alive_.reset();
}

Resolution* Iterator::find(Id id) {
  auto it = live_.find(id);
  return it == live_.end() ? nullptr : it->second.get();
}

void Iterator::start_later(Id id) {
  std::weak_ptr<bool> alive = alive_;
  scheduler_.post([this, alive, id] {
    if (alive.expired()) return;
    if (Resolution* r = find(id); r && r->state() == ResolutionState::Start) r->step();
  });
}

void Iterator::resolve(const Request& request, Completion done) {
  ++stats_.resolutions;
  const auto& q = request.question;
  Status refuse = Status::Answer;
  if (shut_down_) {
    refuse = Status::ServFail;
  } else if (clients_in_flight_ >= opts_.max_concurrent) {
    ++stats_.overloaded;
    refuse = Status::ServFail;
  } else if (q.qclass != dns::RRClass::IN ||
             (dns::is_meta_type(q.qtype) && q.qtype != dns::RRType::ANY)) {
    // Only the Internet class is iterated; zone transfers and other meta queries are not ours
    // to pass on (RFC 6895 §3.1; ANY is a normal query, answered minimally per RFC 8482).
    refuse = Status::Refused;
  }
  if (refuse != Status::Answer) {
    if (refuse == Status::ServFail) ++stats_.servfails;
    scheduler_.post([done = std::move(done), refuse] { done(Outcome{refuse, std::nullopt}); });
    return;
  }
  auto budget = std::make_shared<Budget>();
  budget->deadline_ms = clock_.mono_ms() + kMaxResolutionTimeMs;
  Id id = next_id_++;
  ++clients_in_flight_;
  live_.emplace(id, std::make_unique<Resolution>(*this, id, ResolutionKind::Client, q, budget, 0,
                                                 0, std::move(done)));
  start_later(id);
}

void Iterator::wait_for_priming(Id id) {
  priming_waiters_.push_back(id);
  if (priming_id_ != 0) return;
  auto budget = std::make_shared<Budget>();
  budget->deadline_ms = clock_.mono_ms() + kMaxResolutionTimeMs;
  priming_id_ = next_id_++;
  dns::Question q{dns::Name::root(), dns::RRType::NS, dns::RRClass::IN};
  live_.emplace(priming_id_, std::make_unique<Resolution>(*this, priming_id_,
                                                          ResolutionKind::Priming, q, budget, 0,
                                                          0, nullptr));
  spdlog::debug("[iter] priming the root NS set from {} hints", opts_.root_hints.size());
  start_later(priming_id_);
}

void Iterator::priming_done(bool ok) {
  priming_id_ = 0;
  ++stats_.primings;
  if (!ok) {
    // RFC 9609 §3: without a priming answer the hints are the best we have; use them for a
    // short while and prime again after.
    spdlog::warn("[iter] priming failed; using the root hints for {} s", kHintsFallbackTtl);
    std::vector<dns::Name> names;
    for (const auto& h : opts_.root_hints) {
      names.push_back(h.name);
      for (auto fam : {net::Family::V4, net::Family::V6}) {
        std::vector<net::Address> addrs;
        for (const auto& a : h.addresses)
          if (a.family() == fam) addrs.push_back(a);
        if (!addrs.empty()) infra_.put_addresses(h.name, fam, addrs, kHintsFallbackTtl);
      }
    }
    infra_.put_delegation(dns::Name::root(), names, kHintsFallbackTtl);
  }
  auto waiters = std::move(priming_waiters_);
  priming_waiters_.clear();
  for (Id id : waiters)
    if (Resolution* r = find(id); r && r->state() == ResolutionState::WaitPriming) r->step();
}

bool Iterator::ancestor_resolving(Id id, const dns::Name& name) {
  for (unsigned guard = 0; id != 0 && guard <= kMaxNsLookupDepth + 1; ++guard) {
    Resolution* r = find(id);
    if (!r) return false;
    if (r->question().qname == name) return true;
    id = r->parent();
  }
  return false;
}

void Iterator::deliver(Id id, uint64_t generation, UpstreamReply reply) {
  if (Resolution* r = find(id)) r->on_reply(generation, std::move(reply));
}

void Iterator::discard(Id id) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  auto r = std::move(it->second);
  live_.erase(it);
  if (id == priming_id_) priming_id_ = 0;
  r->abandon();
  graveyard_.push_back(std::move(r));
  sweep();
}

void Iterator::sweep() {
  if (sweep_posted_ || graveyard_.empty()) return;
  sweep_posted_ = true;
  std::weak_ptr<bool> alive = alive_;
  scheduler_.post([this, alive] {
    if (alive.expired()) return;
    sweep_posted_ = false;
    graveyard_.clear();
  });
}

void Iterator::complete(Id id, Outcome outcome) {
  auto it = live_.find(id);
  if (it == live_.end()) return;
  std::unique_ptr<Resolution> owned = std::move(it->second);
  live_.erase(it);
  Resolution* r = owned.get();
  graveyard_.push_back(std::move(owned));  // destroyed from the loop, never under a caller
  sweep();

  switch (r->kind()) {
    case ResolutionKind::Client: {
      --clients_in_flight_;
      if (outcome.status == Status::Answer) ++stats_.answers;
      else ++stats_.servfails;
      if (auto done = r->take_completion()) done(std::move(outcome));
      return;
    }
    case ResolutionKind::Priming:
      priming_done(outcome.status == Status::Answer);
      return;
    case ResolutionKind::NsLookup: {
      const auto& q = r->question();
      const auto fam = q.qtype == dns::RRType::A ? net::Family::V4 : net::Family::V6;
      std::vector<net::Address> addrs;
      uint32_t ttl = UINT32_MAX;
      if (outcome.status == Status::Answer && outcome.response &&
          outcome.response->rcode() == dns::RCode::NoError)
        for (const auto& rr : outcome.response->answer)
          if (rr.type == q.qtype)
            if (auto a = rdata_address(rr)) {
              addrs.push_back(*a);
              ttl = std::min(ttl, rr.ttl);
            }
      // A failed or empty lookup is remembered briefly so the next query does not redo it.
      infra_.put_addresses(q.qname, fam, addrs, addrs.empty() ? kFailedNsLookupTtl : ttl);
      if (Resolution* parent = find(r->parent())) parent->on_child_done(id, q.qname, addrs);
      return;
    }
  }
}

void Iterator::shutdown() {
  shut_down_ = true;
  auto live = std::move(live_);
  live_.clear();
  priming_id_ = 0;
  priming_waiters_.clear();
  clients_in_flight_ = 0;
  std::vector<Completion> pending;
  for (auto& [id, r] : live) {
    r->abandon();
    if (r->kind() == ResolutionKind::Client)
      if (auto done = r->take_completion()) pending.push_back(std::move(done));
    graveyard_.push_back(std::move(r));
  }
  for (auto& done : pending) {
    ++stats_.servfails;
    done(Outcome{Status::ServFail, std::nullopt});
  }
}

}  // namespace tern::resolver
