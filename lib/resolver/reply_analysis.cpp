#include "resolver/reply_analysis.hpp"

#include <algorithm>

#include "resolver/limits.hpp"
#include "resolver/record_util.hpp"

namespace tern::resolver {
namespace {

using dns::Name;
using dns::RRType;

void find_referral(const dns::Message& m, const Name& zone, const Name& qname,
                   ReplyAnalysis& a) {
  // The deepest NS owner strictly below the zone that is an ancestor of the qname.
  const Name* best = nullptr;
  for (const auto& rr : m.authority) {
    if (rr.type != RRType::NS || rr.name == zone || !rr.name.is_subdomain_of(zone) ||
        !qname.is_subdomain_of(rr.name))
      continue;
    if (!best || rr.name.label_count() > best->label_count()) best = &rr.name;
  }
  if (!best) return;
  a.cut = *best;
  a.ns_ttl = UINT32_MAX;
  for (const auto& rr : m.authority) {
    if (rr.type != RRType::NS || !(rr.name == a.cut)) continue;
    auto t = rdata_target(rr);
    if (!t || a.ns_names.size() >= kMaxNsPerDelegation) continue;
    if (std::find(a.ns_names.begin(), a.ns_names.end(), *t) != a.ns_names.end()) continue;
    a.ns_names.push_back(*t);
    a.ns_ttl = std::min(a.ns_ttl, rr.ttl);
  }
  for (const auto& rr : m.additional) {
    if (std::find(a.ns_names.begin(), a.ns_names.end(), rr.name) == a.ns_names.end()) continue;
    if (auto addr = rdata_address(rr)) a.glue.emplace_back(rr.name, *addr);
  }
}

}  // namespace

ReplyAnalysis analyse_reply(const dns::Message& m, const Name& zone, const Name& qname,
                            RRType qtype) {
  ReplyAnalysis a;
  a.rcode = m.rcode();
  a.next_name = qname;
  if (a.rcode != dns::RCode::NoError && a.rcode != dns::RCode::NxDomain) {
    a.kind = ReplyKind::Error;
    return a;
  }
  for (const auto& rr : m.authority)
    if (rr.type == RRType::SOA && !a.soa) a.soa = rr;

  // Walk the chain.
  Name cur = qname;
  bool final_found = false;
  for (unsigned guard = 0; guard <= kMaxCnameChain + 1; ++guard) {
    const dns::ResourceRecord* dname = nullptr;
    for (const auto& rr : m.answer)
      if (rr.type == RRType::DNAME && !(rr.name == cur) && cur.is_subdomain_of(rr.name) &&
          (!dname || rr.name.label_count() > dname->name.label_count()))
        dname = &rr;
    if (dname) {
      auto target = rdata_target(*dname);
      if (!target) break;
      auto next = cur.replace_suffix(dname->name, *target);
      a.records.push_back(*dname);
      if (!next) {
        a.kind = ReplyKind::YxDomain;
        a.rcode = dns::RCode::YXDomain;
        return a;
      }
      dns::ResourceRecord cname;  // RFC 6672 §3.3: synthesize, with the DNAME's TTL
      cname.name = cur;
      cname.type = RRType::CNAME;
      cname.rclass = dname->rclass;
      cname.ttl = dname->ttl;
      cname.rdata.assign(next->wire().begin(), next->wire().end());
      a.records.push_back(std::move(cname));
      ++a.chain_hops;
      cur = *next;
      continue;
    }
    for (const auto& rr : m.answer)
      if (rr.name == cur && (rr.type == qtype || qtype == RRType::ANY)) {
        a.records.push_back(rr);
        final_found = true;
      }
    if (final_found) break;
    const dns::ResourceRecord* cname = nullptr;
    for (const auto& rr : m.answer)
      if (rr.type == RRType::CNAME && rr.name == cur) {
        cname = &rr;
        break;
      }
    if (!cname) break;
    auto target = rdata_target(*cname);
    if (!target) break;
    a.records.push_back(*cname);
    ++a.chain_hops;
    cur = *target;
  }
  a.next_name = cur;

  if (final_found) {
    a.kind = ReplyKind::Answer;
    return a;
  }
  if (a.rcode == dns::RCode::NxDomain) {
    a.kind = ReplyKind::NxDomain;  // RFC 6604 §2.1: about the last name of the chain
    return a;
  }
  if (a.chain_hops > 0) {
    // The chain leaves the reply. An authoritative NODATA for the target (SOA of a zone the
    // target is in) ends it; otherwise the target is resolved from its own zone cut.
    bool nodata = a.soa && cur.is_subdomain_of(a.soa->name) && m.header.aa;
    a.kind = nodata ? ReplyKind::NoData : ReplyKind::Chain;
    return a;
  }
  if (!a.soa) {
    find_referral(m, zone, qname, a);
    if (!a.ns_names.empty()) {
      a.kind = ReplyKind::Referral;
      return a;
    }
  }
  if (a.soa || m.header.aa) {
    a.kind = ReplyKind::NoData;
    return a;
  }
  a.kind = ReplyKind::Lame;  // upward/sideways referral or an empty non-authoritative reply
  return a;
}

}  // namespace tern::resolver
