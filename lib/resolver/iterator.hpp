// Iterator: recursion from the root hints (RFC 1034 §5.3.3), the Resolver the server uses for
// everything not in a forward zone. Sans-I/O: it reaches authoritative servers only through a
// Transport and gets time only from a Clock, so unit tests drive it with a scripted transport.
// Each request becomes a Resolution (resolution.hpp), a state machine that may start child
// resolutions for glueless NS names; all of them share one Budget (limits.hpp). What is
// learned about delegations and servers is kept in the InfraCache and ServerSelection, shared
// by every resolution. Priming (RFC 9609) happens once, before the first resolution needs the
// root, and again when the root NS set expires; resolutions that need it wait for it.
// Invariants: every Request gets exactly one Completion, never from inside resolve(); after
// shutdown() nothing is in flight and every pending Completion has run with ServFail.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "resolver/infra_cache.hpp"
#include "resolver/resolver.hpp"
#include "resolver/root_hints.hpp"
#include "resolver/scheduler.hpp"
#include "resolver/server_selection.hpp"
#include "resolver/transport.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

namespace tern::resolver {

enum class QnameMinimisation : uint8_t {
  Off,
  Relaxed,  // RFC 9156 §3 default: fall back to the full name when a server breaks on it
  Strict,   // an NXDOMAIN for an ancestor is final (RFC 8020); no fallback
};

struct IteratorOptions {
  RootHints root_hints = builtin_root_hints();
  QnameMinimisation qname_minimisation = QnameMinimisation::Relaxed;
  bool query_ipv4 = true;  // resolver.query-ipv4: reach authoritative servers over IPv4
  bool query_ipv6 = true;  // resolver.query-ipv6
  bool use_0x20 = true;    // randomise qname case (draft-vixie-dnsext-dns0x20)
  // RFC 8020: after an NXDOMAIN, answer every name below it NXDOMAIN from the infra cache
  // until the negative TTL ends. Without DNSSEC the NXDOMAIN is only as trusted as the reply
  // (ID + port + 0x20 + bailiwick); turn off to trust nothing beyond the exact name.
  bool nothing_below_nxdomain = true;
  uint16_t edns_payload = 1232;  // RFC 9715, DNS Flag Day 2020
  uint16_t port = 53;            // port of authoritative servers (the lab may differ)
  uint32_t max_concurrent = 10000;  // resolver.max-concurrent: client resolutions in flight;
                                    // more are SERVFAILed at once rather than queued
  SelectionOptions selection;    // timeouts, back-off, hold-down
};

struct IteratorStats {
  uint64_t resolutions = 0, answers = 0, servfails = 0;
  uint64_t upstream_queries = 0, timeouts = 0, tcp_retries = 0, edns_fallbacks = 0;
  uint64_t case_mismatches = 0;  // 0x20 not echoed: retried without it
  uint64_t spoofs_ignored = 0;   // replies whose question did not match what we sent
  uint64_t records_scrubbed = 0, lame_marks = 0, primings = 0, budget_exceeded = 0;
  uint64_t nxdomain_cut_hits = 0;  // RFC 8020 answers without a query
  uint64_t overloaded = 0;         // refused for max_concurrent
  uint64_t local_errors = 0;       // upstream queries our side could not send (not the server's)
};

class Resolution;
struct Budget;

class Iterator final : public Resolver {
 public:
  Iterator(Transport& transport, Scheduler& scheduler, const util::Clock& clock,
           util::Random& random, IteratorOptions options, InfraCache& infra);
  ~Iterator() override;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;

  void resolve(const Request& request, Completion done) override;
  void shutdown() override;

  const IteratorStats& stats() const { return stats_; }
  ServerSelection& selection() { return selection_; }
  InfraCache& infra() { return infra_; }
  const IteratorOptions& options() const { return opts_; }
  size_t active_resolutions() const { return live_.size(); }
  size_t client_resolutions() const { return clients_in_flight_; }

 private:
  friend class Resolution;
  using Id = uint64_t;

  Resolution* find(Id id);
  Id adopt(std::unique_ptr<Resolution> r);
  void start_later(Id id);
  // Called by a Resolution when it is done; takes it out of live_ (destroyed later, never
  // under the caller's feet) and hands the outcome to its Completion or parent.
  void complete(Id id, Outcome outcome);
  void wait_for_priming(Id id);
  void priming_done(bool ok);
  bool ancestor_resolving(Id id, const dns::Name& name);
  void deliver(Id id, uint64_t generation, UpstreamReply reply);
  void discard(Id id);  // drop a child that is no longer wanted, without completing it
  void sweep();

  Transport& transport_;
  Scheduler& scheduler_;
  const util::Clock& clock_;
  util::Random& random_;
  IteratorOptions opts_;
  InfraCache& infra_;
  ServerSelection selection_;
  IteratorStats stats_;
  std::unordered_map<Id, std::unique_ptr<Resolution>> live_;
  std::vector<std::unique_ptr<Resolution>> graveyard_;
  bool sweep_posted_ = false;
  Id next_id_ = 1;
  Id priming_id_ = 0;
  std::vector<Id> priming_waiters_;
  bool shut_down_ = false;
  size_t clients_in_flight_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tern::resolver
