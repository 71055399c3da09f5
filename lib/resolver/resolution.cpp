#include "resolver/resolution.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "resolver/limits.hpp"
#include "resolver/record_util.hpp"
#include "resolver/scrub.hpp"

namespace tern::resolver {
namespace {

using dns::Name;
using dns::RCode;
using dns::RRType;

template <class T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// 0x20 (draft-vixie-dnsext-dns0x20): every letter of the qname gets a random case, adding
// entropy an off-path spoofer must also guess; the server echoes the question as sent.
Name randomise_case(const Name& n, util::Random& random) {
  std::array<uint8_t, dns::kMaxNameWire> buf{};
  auto wire = n.wire();
  std::copy(wire.begin(), wire.end(), buf.begin());
  uint32_t bits = 0;
  unsigned left = 0;
  for (size_t pos = 0; pos < wire.size() && buf[pos] != 0; pos += buf[pos] + 1u) {
    for (size_t i = pos + 1; i <= pos + buf[pos] && i < wire.size(); ++i) {
      uint8_t c = dns::ascii_lower(buf[i]);
      if (c < 'a' || c > 'z') continue;
      if (left == 0) {
        bits = random.next_u32();
        left = 32;
      }
      buf[i] = (bits & 1u) ? static_cast<uint8_t>(c - 32) : c;
      bits >>= 1;
      --left;
    }
  }
  auto r = Name::from_wire(std::span<const uint8_t>(buf.data(), wire.size()));
  return r ? *r : n;
}

// The address families to look up, without allocating (called for every NS of every step).
struct Families {
  std::array<net::Family, 2> list{};
  size_t n = 0;
  const net::Family* begin() const { return list.data(); }
  const net::Family* end() const { return list.data() + n; }
};

Families families(const IteratorOptions& o) {
  Families f;
  if (o.query_ipv4) f.list[f.n++] = net::Family::V4;
  if (o.query_ipv6) f.list[f.n++] = net::Family::V6;
  return f;
}

}  // namespace

Resolution::Resolution(Iterator& it, Id id, ResolutionKind kind, const dns::Question& q,
                       std::shared_ptr<Budget> budget, unsigned depth, Id parent,
                       Completion done)
    : it_(it),
      id_(id),
      kind_(kind),
      parent_(parent),
      depth_(depth),
      q_(q),
      sname_(q.qname),
      budget_(std::move(budget)),
      done_(std::move(done)) {}

bool Resolution::family_enabled(const net::Address& a) const {
  return a.is_v4() ? it_.opts_.query_ipv4 : it_.opts_.query_ipv6;
}

void Resolution::step() {
  if (state_ == ResolutionState::Done) return;
  state_ = ResolutionState::Start;
  if (it_.clock_.mono_ms() >= budget_->deadline_ms) {
    budget_->exceeded = true;
    return fail("time budget exhausted");
  }
  if (!have_zone_) {
    if (kind_ == ResolutionKind::Priming) {
      std::vector<Name> names;
      for (const auto& h : it_.opts_.root_hints) names.push_back(h.name);
      enter_zone(Name::root(), names);
      for (auto& slot : ns_)
        for (const auto& h : it_.opts_.root_hints)
          if (h.name == slot.name)
            for (const auto& a : h.addresses)
              if (family_enabled(a) && !contains(slot.addrs, a)) slot.addrs.push_back(a);
    } else {
      auto nx = it_.opts_.nothing_below_nxdomain ? it_.infra_.find_nxdomain(sname_) : std::nullopt;
      if (nx) {  // RFC 8020 §2
        ++it_.stats_.nxdomain_cut_hits;
        return finish_answer(RCode::NxDomain, nx->soa);
      }
      // DS lives in the parent zone (RFC 4035 §3.1.4.1): start above the name.
      const Name lookup =
          (sname_ == q_.qname && q_.qtype == RRType::DS && !sname_.is_root()) ? sname_.parent()
                                                                               : sname_;
      auto d = it_.infra_.find_delegation(lookup);
      if (!d) {
        state_ = ResolutionState::WaitPriming;
        it_.wait_for_priming(id_);
        return;
      }
      enter_zone(d->zone, d->ns_names);
    }
  }

  std::vector<net::Address> candidates;
  for (const auto& slot : ns_)
    for (const auto& a : slot.addrs)
      if (family_enabled(a) && !contains(tried_, a) && !contains(candidates, a))
        candidates.push_back(a);
  if (auto idx = it_.selection_.choose(candidates, zone_)) return send(candidates[*idx], Protocol::Udp);
  if (start_ns_lookups()) {
    state_ = ResolutionState::WaitNsAddresses;
    return;
  }
  // Every server has been asked once. One that timed out gets one more try with its
  // backed-off timeout (a lost datagram is not a dead server); held-down ones do not.
  std::vector<net::Address> again;
  for (const auto& a : timed_out_)
    if (!contains(retried_, a) && !contains(again, a)) again.push_back(a);
  if (auto idx = it_.selection_.choose(again, zone_)) {
    retried_.push_back(again[*idx]);
    return send(again[*idx], Protocol::Udp);
  }
  // RFC 9156 §3 relaxed: servers that answered the minimised name with an error may handle
  // the full name; try it before giving up.
  if (attempt_ && attempt_->minimised && !qmin_off_ && error_replies_ > 0 &&
      it_.opts_.qname_minimisation == QnameMinimisation::Relaxed) {
    qmin_off_ = true;
    reset_step();
    return step();
  }
  fail(budget_->exceeded ? "glueless NS budget exhausted" : "no usable server left");
}

void Resolution::enter_zone(const Name& zone, const std::vector<Name>& ns) {
  have_zone_ = true;
  zone_ = zone;
  ns_.clear();
  ns_.reserve(std::min<size_t>(ns.size(), kMaxNsPerDelegation));
  reset_step();
  known_labels_ = std::max(known_labels_, zone.label_count());
  if (known_labels_ > sname_.label_count()) known_labels_ = sname_.label_count();
  for (const auto& n : ns) {
    if (ns_.size() >= kMaxNsPerDelegation) break;
    NsSlot slot;
    slot.name = n;
    add_addresses(slot);
    ns_.push_back(std::move(slot));
  }
}

void Resolution::add_addresses(NsSlot& slot) {
  for (auto fam : families(it_.opts_))
    if (auto addrs = it_.infra_.addresses(slot.name, fam))
      for (const auto& a : *addrs)
        if (!contains(slot.addrs, a)) slot.addrs.push_back(a);
}

bool Resolution::start_ns_lookups() {
  unsigned running = 0;
  for (const auto& s : ns_)
    if (s.lookup == NsSlot::Lookup::InFlight) ++running;
  for (auto& s : ns_) {
    if (running >= kMaxParallelNsLookups) break;
    if (s.lookup != NsSlot::Lookup::None || !s.addrs.empty()) continue;
    s.lookup = NsSlot::Lookup::Done;  // unless a lookup starts below
    std::vector<net::Family> unknown;
    for (auto fam : families(it_.opts_))
      if (!it_.infra_.addresses(s.name, fam)) unknown.push_back(fam);
    if (unknown.empty()) continue;  // known to have no usable address
    // A name inside the zone can only be reached through glue from the parent: asking the
    // zone's own servers for it is a dependency cycle.
    if (s.name.is_subdomain_of(zone_)) continue;
    if (depth_ + 1 > kMaxNsLookupDepth) continue;
    if (it_.ancestor_resolving(id_, s.name)) continue;
    if (budget_->glueless_lookups >= kMaxGluelessLookups) {
      budget_->exceeded = true;
      continue;
    }
    ++budget_->glueless_lookups;
    for (auto fam : unknown) {
      dns::Question q{s.name, fam == net::Family::V4 ? RRType::A : RRType::AAAA, dns::RRClass::IN};
      Id cid = it_.next_id_++;
      it_.live_.emplace(cid, std::make_unique<Resolution>(it_, cid, ResolutionKind::NsLookup, q,
                                                          budget_, depth_ + 1, id_, nullptr));
      children_.push_back(cid);
      ++s.children;
      it_.start_later(cid);
    }
    s.lookup = NsSlot::Lookup::InFlight;
    ++running;
  }
  return running > 0;
}

void Resolution::on_child_done(Id child, const Name& ns, const std::vector<net::Address>& addrs) {
  std::erase(children_, child);
  for (auto& s : ns_) {
    if (!(s.name == ns)) continue;
    for (const auto& a : addrs)
      if (family_enabled(a) && !contains(s.addrs, a)) s.addrs.push_back(a);
    if (s.children > 0 && --s.children == 0) s.lookup = NsSlot::Lookup::Done;
  }
  if (state_ == ResolutionState::WaitNsAddresses) step();
}

Name Resolution::next_query_name(bool& minimised) const {
  minimised = false;
  if (kind_ == ResolutionKind::Priming || qmin_off_ || q_.qtype == RRType::DS ||
      it_.opts_.qname_minimisation == QnameMinimisation::Off)
    return sname_;
  const unsigned n = sname_.label_count();
  if (known_labels_ >= n) return sname_;
  unsigned next;
  if (qmin_steps_ < kMinimiseOneLabel) {
    next = known_labels_ + 1;
  } else {  // RFC 9156 §2.3: spread the remaining labels over the remaining steps
    unsigned steps_left = qmin_steps_ < kMaxMinimiseCount ? kMaxMinimiseCount - qmin_steps_ : 1;
    unsigned remaining = n - known_labels_;
    next = known_labels_ + (remaining + steps_left - 1) / steps_left;
  }
  if (next >= n) return sname_;
  minimised = true;
  return sname_.suffix(next);
}

void Resolution::send(const net::Address& server, Protocol protocol) {
  const uint64_t now = it_.clock_.mono_ms();
  if (budget_->upstream_queries >= kMaxUpstreamQueries) {
    budget_->exceeded = true;
    return fail("upstream query budget exhausted");
  }
  if (now >= budget_->deadline_ms) {
    budget_->exceeded = true;
    return fail("time budget exhausted");
  }
  ++budget_->upstream_queries;
  ++it_.stats_.upstream_queries;
  auto& sel = it_.selection_;

  Attempt a;
  a.server = server;
  a.protocol = protocol;
  a.plain = next_query_name(a.minimised);
  // RFC 9156 §2.1: minimised queries ask for A, the type broken servers handle best.
  RRType qtype = a.minimised ? RRType::A : q_.qtype;
  a.case_randomised = it_.opts_.use_0x20 && !sel.no_0x20(server);
  a.sent = dns::Question{a.case_randomised ? randomise_case(a.plain, it_.random_) : a.plain, qtype,
                         q_.qclass};
  a.edns = !sel.no_edns(server);

  UpstreamQuery uq;
  uq.server = net::Endpoint{server, it_.opts_.port};
  uq.question = a.sent;
  uq.protocol = protocol;
  uq.edns = a.edns;
  uq.edns_payload = it_.opts_.edns_payload;
  uq.recursion_desired = false;
  uint64_t left = budget_->deadline_ms - now;
  a.rto_ms = sel.timeout_ms(server);
  uq.timeout_ms = static_cast<uint32_t>(std::min<uint64_t>(a.rto_ms, left));

  attempt_ = a;
  state_ = ResolutionState::Querying;
  sent_at_ms_ = now;
  const uint64_t gen = ++generation_;
  if (spdlog::should_log(spdlog::level::debug))  // arguments are built only when logged
    spdlog::debug("[iter] => {} {} {}{}{}", server.to_string(), a.sent.qname.to_text(),
                  dns::type_to_text(qtype), protocol == Protocol::Tcp ? " tcp" : "",
                  a.edns ? "" : " noedns");
  std::weak_ptr<bool> alive = it_.alive_;
  Iterator* iter = &it_;
  const Id id = id_;
  handle_ = it_.transport_.send(uq, [iter, alive, id, gen](UpstreamReply reply) {
    if (alive.expired()) return;
    iter->deliver(id, gen, std::move(reply));
  });
}

void Resolution::server_failed(Failure f) {
  if (f == Failure::Lame) {
    it_.selection_.mark_lame(zone_, attempt_->server);
    ++it_.stats_.lame_marks;
  }
  tried_.push_back(attempt_->server);
  if (f == Failure::Timeout) timed_out_.push_back(attempt_->server);
  step();
}

void Resolution::reset_step() {
  tried_.clear();
  timed_out_.clear();
  retried_.clear();
  error_replies_ = 0;
}

void Resolution::on_reply(uint64_t generation, UpstreamReply reply) {
  if (state_ != ResolutionState::Querying || generation != generation_ || !attempt_) return;
  state_ = ResolutionState::Start;
  handle_ = 0;
  const Attempt at = *attempt_;
  auto& sel = it_.selection_;
  auto& stats = it_.stats_;

  if (reply.status != TransportStatus::Reply || !reply.message) {
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("[iter] <= {} no reply ({})", at.server.to_string(),
                    static_cast<int>(reply.status));
    if (reply.status == TransportStatus::Timeout) {
      ++stats.timeouts;
      sel.on_timeout(at.server, at.rto_ms);
      return server_failed(Failure::Timeout);
    }
    // Unreachable counts against the server; running out of our own sockets does not.
    if (reply.status == TransportStatus::NetworkError) sel.on_timeout(at.server, at.rto_ms);
    if (reply.status == TransportStatus::LocalError) ++stats.local_errors;
    return server_failed(Failure::NoAnswer);
  }
  dns::Message msg = std::move(*reply.message);
  const RCode rcode = msg.rcode();

  // The Transport matched ID, source and question; checking the question again is cheap
  // defence in depth, and the exact case (0x20) is ours to check.
  const bool question_ok = msg.questions.size() == 1 && msg.questions[0].qtype == at.sent.qtype &&
                           msg.questions[0].qclass == at.sent.qclass &&
                           msg.questions[0].qname == at.sent.qname;
  const bool edns_rejected = at.edns && !msg.edns &&
                             (rcode == RCode::FormErr || rcode == RCode::NotImp);
  if (!question_ok && !(msg.questions.empty() && edns_rejected)) {
    ++stats.spoofs_ignored;
    return server_failed(Failure::NoAnswer);
  }
  if (question_ok && at.case_randomised && !msg.questions[0].qname.equals_exact(at.sent.qname)) {
    // Either a server that does not echo case or a spoof that did not guess it: retry the same
    // server without 0x20 once and remember it for this server.
    ++stats.case_mismatches;
    sel.set_no_0x20(at.server);
    return send(at.server, at.protocol);
  }
  if (!msg.header.qr || msg.header.opcode != dns::Opcode::Query) {
    ++stats.spoofs_ignored;
    return server_failed(Failure::NoAnswer);
  }
  uint32_t rtt = reply.rtt_ms;
  if (rtt == 0) rtt = static_cast<uint32_t>(it_.clock_.mono_ms() - sent_at_ms_);
  sel.on_reply(at.server, rtt);

  if (edns_rejected) {  // RFC 6891 §7: a server that does not know EDNS gets a plain query
    ++stats.edns_fallbacks;
    sel.set_no_edns(at.server);
    return send(at.server, at.protocol);
  }
  if (msg.header.tc) {  // RFC 1035 §4.2.1, RFC 7766 §5: the same question over TCP
    if (at.protocol == Protocol::Tcp) return server_failed(Failure::NoAnswer);
    ++stats.tcp_retries;
    return send(at.server, Protocol::Tcp);
  }
  // Our own case back on the question's owner names before anyone stores them.
  for (auto s : {dns::Section::Answer, dns::Section::Authority, dns::Section::Additional})
    for (auto& rr : msg.section(s))
      if (rr.name == at.plain) rr.name = at.plain;

  auto scrubbed = scrub(msg, zone_, at.plain, at.sent.qtype);
  stats.records_scrubbed += scrubbed.dropped;
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[iter] <= {} {} {} rcode {} an {} ns {} ar {} (scrubbed {})",
                  at.server.to_string(), at.plain.to_text(), dns::type_to_text(at.sent.qtype),
                  dns::rcode_to_text(rcode), msg.answer.size(), msg.authority.size(),
                  msg.additional.size(), scrubbed.dropped);

  if (kind_ == ResolutionKind::Priming) {
    if (rcode != RCode::NoError) {
      if (rcode != RCode::Refused) ++error_replies_;
      return server_failed(rcode == RCode::Refused ? Failure::Lame : Failure::NoAnswer);
    }
    return store_priming(msg);
  }
  auto analysis = analyse_reply(msg, zone_, at.plain, at.sent.qtype);
  if (at.minimised) return handle_minimised(std::move(analysis));
  handle(std::move(analysis));
}

bool Resolution::charge_chain(unsigned hops) {
  budget_->cname_hops += hops;
  if (budget_->cname_hops <= kMaxCnameChain) return true;
  budget_->exceeded = true;
  fail("CNAME/DNAME chain too long");
  return false;
}

void Resolution::handle(ReplyAnalysis a) {
  const auto append = [&] { chain_.insert(chain_.end(), a.records.begin(), a.records.end()); };
  switch (a.kind) {
    case ReplyKind::Answer:
      append();
      if (!charge_chain(a.chain_hops)) return;
      return finish_answer(RCode::NoError, std::nullopt);
    case ReplyKind::YxDomain:
      append();
      if (!charge_chain(a.chain_hops)) return;
      return finish_answer(RCode::YXDomain, std::nullopt);
    case ReplyKind::Chain:
      append();
      if (!charge_chain(a.chain_hops)) return;
      // The target may be in another zone: start again from the deepest known cut for it.
      sname_ = a.next_name;
      have_zone_ = false;
      known_labels_ = 0;
      qmin_steps_ = 0;
      qmin_off_ = false;
      return step();
    case ReplyKind::NxDomain:
      append();
      if (!charge_chain(a.chain_hops)) return;
      if (a.soa && it_.opts_.nothing_below_nxdomain)
        if (auto ttl = soa_negative_ttl(*a.soa)) it_.infra_.put_nxdomain(a.next_name, *a.soa, *ttl);
      return finish_answer(RCode::NxDomain, a.soa);
    case ReplyKind::NoData:
      append();
      if (!charge_chain(a.chain_hops)) return;
      return finish_answer(RCode::NoError, a.soa);
    case ReplyKind::Referral:
      return take_referral(a);
    case ReplyKind::Lame:
      return server_failed(Failure::Lame);
    case ReplyKind::Error:
      ++error_replies_;
      return server_failed(a.rcode == RCode::Refused || a.rcode == RCode::NotAuth ? Failure::Lame
                                                                              : Failure::NoAnswer);
  }
}

void Resolution::handle_minimised(ReplyAnalysis a) {
  const bool strict = it_.opts_.qname_minimisation == QnameMinimisation::Strict;
  switch (a.kind) {
    case ReplyKind::Referral:
      ++qmin_steps_;  // RFC 9156 §2.3 counts every minimised iteration
      return take_referral(a);
    case ReplyKind::Answer:
    case ReplyKind::NoData:
    case ReplyKind::Chain:
    case ReplyKind::YxDomain:
      // The name exists and is not a zone cut: add labels, same servers (RFC 9156 §3).
      known_labels_ = attempt_->plain.label_count();
      ++qmin_steps_;
      reset_step();
      return step();
    case ReplyKind::NxDomain:
      if (strict) {  // RFC 8020: nothing exists below a name that does not exist
        if (a.soa && it_.opts_.nothing_below_nxdomain)
          if (auto ttl = soa_negative_ttl(*a.soa))
            it_.infra_.put_nxdomain(attempt_->plain, *a.soa, *ttl);
        return finish_answer(RCode::NxDomain, a.soa);
      }
      // Relaxed: some servers answer NXDOMAIN for empty non-terminals; ask the full name.
      qmin_off_ = true;
      reset_step();
      return step();
    case ReplyKind::Lame:
      return server_failed(Failure::Lame);
    case ReplyKind::Error:
      if (!strict) {
        qmin_off_ = true;
        return step();
      }
      ++error_replies_;
      return server_failed(a.rcode == RCode::Refused || a.rcode == RCode::NotAuth ? Failure::Lame
                                                                              : Failure::NoAnswer);
  }
}

void Resolution::take_referral(const ReplyAnalysis& a) {
  if (++budget_->referrals > kMaxReferrals) {
    budget_->exceeded = true;
    return fail("referral budget exhausted");
  }
  // Glue (already limited to the referring zone's bailiwick by scrub) becomes NS addresses.
  for (const auto& ns : a.ns_names) {
    for (auto fam : {net::Family::V4, net::Family::V6}) {
      std::vector<net::Address> addrs;
      for (const auto& [name, addr] : a.glue)
        if (name == ns && addr.family() == fam) addrs.push_back(addr);
      if (!addrs.empty()) it_.infra_.put_addresses(ns, fam, addrs, a.ns_ttl);
    }
  }
  it_.infra_.put_delegation(a.cut, a.ns_names, a.ns_ttl);
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[iter] referral to {} ({} NS, {} glue)", a.cut.to_text(), a.ns_names.size(),
                  a.glue.size());
  enter_zone(a.cut, a.ns_names);
  step();
}

void Resolution::store_priming(const dns::Message& m) {
  std::vector<Name> names;
  uint32_t ttl = UINT32_MAX;
  for (const auto& rr : m.answer)
    if (rr.type == RRType::NS && rr.name.is_root())
      if (auto t = rdata_target(rr); t && !contains(names, *t) && names.size() < kMaxNsPerDelegation) {
        names.push_back(*t);
        ttl = std::min(ttl, rr.ttl);
      }
  struct Learned {
    Name name;
    net::Family family;
    std::vector<net::Address> addrs;
    uint32_t ttl;
  };
  std::vector<Learned> learned;
  bool reachable = false;
  for (const auto& n : names) {
    for (auto fam : {net::Family::V4, net::Family::V6}) {
      Learned l{n, fam, {}, ttl};
      for (const auto& rr : m.additional)
        if (rr.name == n)
          if (auto addr = rdata_address(rr); addr && addr->family() == fam) {
            l.addrs.push_back(*addr);
            l.ttl = std::min(l.ttl, rr.ttl);
          }
      if (l.addrs.empty())  // no glue in the priming reply: the hints still say where it is
        for (const auto& h : it_.opts_.root_hints)
          if (h.name == n)
            for (const auto& addr : h.addresses)
              if (addr.family() == fam) l.addrs.push_back(addr);
      for (const auto& a : l.addrs) reachable |= family_enabled(a);
      if (!l.addrs.empty()) learned.push_back(std::move(l));
    }
  }
  // A root NS set we could not reach would strand every resolution: ask another hint.
  if (!reachable) return server_failed(Failure::NoAnswer);
  it_.infra_.put_delegation(Name::root(), names, ttl);
  for (const auto& l : learned) it_.infra_.put_addresses(l.name, l.family, l.addrs, l.ttl);
  chain_ = m.answer;
  finish_answer(RCode::NoError, std::nullopt);
}

void Resolution::finish_answer(RCode rcode, std::optional<dns::ResourceRecord> soa) {
  Outcome o;
  o.status = Status::Answer;
  dns::Message m;
  m.header.qr = true;
  m.questions.push_back(q_);
  m.set_rcode(rcode);
  m.answer = std::move(chain_);
  if (soa) {
    if (auto ttl = soa_negative_ttl(*soa)) soa->ttl = *ttl;  // RFC 2308 §3
    m.authority.push_back(std::move(*soa));
  }
  o.response = std::move(m);
  finish(std::move(o));
}

void Resolution::fail(const char* why) {
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[iter] SERVFAIL {} {}: {}", q_.qname.to_text(), dns::type_to_text(q_.qtype),
                  why);
  if (budget_->exceeded) ++it_.stats_.budget_exceeded;
  finish(Outcome{Status::ServFail, std::nullopt});
}

void Resolution::abandon() {
  const bool was_querying = state_ == ResolutionState::Querying;
  state_ = ResolutionState::Done;
  ++generation_;
  if (was_querying && handle_ != 0) it_.transport_.cancel(handle_);
  handle_ = 0;
  auto children = std::move(children_);
  children_.clear();
  for (Id c : children) it_.discard(c);
}

void Resolution::finish(Outcome outcome) {
  abandon();
  it_.complete(id_, std::move(outcome));  // last: the Iterator owns us from here
}

}  // namespace tern::resolver
