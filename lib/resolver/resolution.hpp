// Resolution: one question being iterated, as an explicit state machine (Unbound's iterator
// states and Knot's produce/consume are the models). The Iterator owns it and feeds it events:
// start, a reply or timeout for its one in-flight query, a child lookup finishing, priming
// finishing. In each event it decides the next step - ask a server, wait for NS addresses or
// priming, or finish - and always leaves itself in a named state:
//
//   Start ──▶ WaitPriming ──▶ Start              (no root delegation yet)
//   Start ──▶ Querying ──reply──▶ Start          (referral, CNAME, next QNAME-min step, retry:
//                                                  next server; a timed-out one once more)
//   Start ──▶ WaitNsAddresses ──child──▶ Start   (every known server tried; glueless NS)
//   any ──▶ Done                                 (answer, negative answer, SERVFAIL)
//
// Kinds: Client (a request), NsLookup (the A or AAAA of a glueless NS name, child of another
// resolution), Priming (". NS" to the hints, RFC 9609).
// Invariants: at most one upstream query in flight; finish() is called exactly once and is the
// last thing a method does (the Iterator then owns the remains); every send is charged to the
// shared Budget first, so no path can loop without running into a limit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dns/message.hpp"
#include "resolver/iterator.hpp"
#include "resolver/reply_analysis.hpp"
#include "util/recycled.hpp"

namespace tern::resolver {

struct Budget {
  unsigned upstream_queries = 0;
  unsigned referrals = 0;
  unsigned cname_hops = 0;
  unsigned glueless_lookups = 0;
  uint64_t deadline_ms = 0;
  bool exceeded = false;
};

enum class ResolutionKind : uint8_t { Client, NsLookup, Priming };
enum class ResolutionState : uint8_t { Start, WaitPriming, Querying, WaitNsAddresses, Done };

class Resolution : public util::Recycled<Resolution, 1024> {
 public:
  using Id = uint64_t;
  Resolution(Iterator& it, Id id, ResolutionKind kind, const dns::Question& q,
             std::shared_ptr<Budget> budget, unsigned depth, Id parent, Completion done);

  // Events.
  void step();
  void on_reply(uint64_t generation, UpstreamReply reply);
  void on_child_done(Id child, const dns::Name& ns, const std::vector<net::Address>& addrs);
  // Shutdown: drop the in-flight query and children without completing.
  void abandon();

  Id id() const { return id_; }
  Id parent() const { return parent_; }
  ResolutionKind kind() const { return kind_; }
  ResolutionState state() const { return state_; }
  const dns::Question& question() const { return q_; }
  Completion take_completion() { return std::move(done_); }

 private:
  struct NsSlot {
    dns::Name name;
    std::vector<net::Address> addrs;
    enum class Lookup : uint8_t { None, InFlight, Done } lookup = Lookup::None;
    unsigned children = 0;  // lookups still running for this name
  };
  struct Attempt {
    net::Address server;
    dns::Question sent;    // as written on the wire (0x20 case)
    dns::Name plain;       // sent.qname in our own case
    Protocol protocol = Protocol::Udp;
    bool edns = true;
    bool case_randomised = false;
    bool minimised = false;
    uint32_t rto_ms = 0;   // the server's RTO when sent (ServerSelection counts per level)
  };

  bool family_enabled(const net::Address& a) const;
  void enter_zone(const dns::Name& zone, const std::vector<dns::Name>& ns);
  void add_addresses(NsSlot& slot);
  bool start_ns_lookups();
  dns::Name next_query_name(bool& minimised) const;
  void send(const net::Address& server, Protocol protocol);
  enum class Failure : uint8_t { NoAnswer, Lame, Timeout };
  void server_failed(Failure f);
  void reset_step();
  void handle(ReplyAnalysis a);
  void handle_minimised(ReplyAnalysis a);
  void take_referral(const ReplyAnalysis& a);
  void store_priming(const dns::Message& scrubbed);
  bool charge_chain(unsigned hops);

  void finish_answer(dns::RCode rcode, std::optional<dns::ResourceRecord> soa);
  void fail(const char* why);
  void finish(Outcome outcome);

  Iterator& it_;
  const Id id_;
  const ResolutionKind kind_;
  const Id parent_;
  const unsigned depth_;
  dns::Question q_;       // the original question
  dns::Name sname_;       // the name being resolved now (moves along CNAME/DNAME chains)
  std::shared_ptr<Budget> budget_;
  Completion done_;
  ResolutionState state_ = ResolutionState::Start;
  std::vector<dns::ResourceRecord> chain_;

  bool have_zone_ = false;
  dns::Name zone_;
  std::vector<NsSlot> ns_;
  std::vector<net::Address> tried_;      // at this step (zone + query name)
  std::vector<net::Address> timed_out_;  // ... of which timed out: each may get one retry
  std::vector<net::Address> retried_;
  unsigned error_replies_ = 0;       // servers that answered this step with an error rcode

  unsigned known_labels_ = 0;  // labels of sname_ known to exist (QNAME minimisation)
  unsigned qmin_steps_ = 0;
  bool qmin_off_ = false;      // fell back to the full name (relaxed mode)

  std::optional<Attempt> attempt_;
  Transport::Handle handle_ = 0;
  uint64_t generation_ = 0;
  uint64_t sent_at_ms_ = 0;
  std::vector<Id> children_;
};

}  // namespace tern::resolver
