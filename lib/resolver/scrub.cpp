#include "resolver/scrub.hpp"

#include <algorithm>
#include <vector>

#include "resolver/limits.hpp"
#include "resolver/record_util.hpp"

namespace tern::resolver {
namespace {

using dns::Name;
using dns::RRType;
using dns::ResourceRecord;

bool is_dnssec_type(RRType t) {
  return t == RRType::DS || t == RRType::NSEC || t == RRType::NSEC3 || t == RRType::RRSIG;
}

// Removes the records for which keep[i] is false; returns how many went.
size_t compact(std::vector<ResourceRecord>& rrs, const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t i = 0; i < rrs.size(); ++i) {
    if (keep[i]) {
      if (out != i) rrs[out] = std::move(rrs[i]);
      ++out;
    }
  }
  size_t dropped = rrs.size() - out;
  rrs.resize(out);
  return dropped;
}

}  // namespace

ScrubResult scrub(dns::Message& reply, const Name& zone, const Name& qname, RRType qtype) {
  ScrubResult result;
  const dns::RRClass qclass =
      reply.questions.empty() ? dns::RRClass::IN : reply.questions.front().qclass;

  // Answer: walk the chain from the qname, inside the zone only.
  std::vector<bool> keep(reply.answer.size(), false);
  Name cur = qname;
  for (unsigned hop = 0; hop <= kMaxCnameChain; ++hop) {
    if (!cur.is_subdomain_of(zone)) break;
    bool moved = false;
    // A DNAME at a proper ancestor of cur (inside the zone) rewrites it (RFC 6672 §2.2).
    for (size_t i = 0; i < reply.answer.size() && !moved; ++i) {
      const auto& rr = reply.answer[i];
      if (rr.type != RRType::DNAME || rr.rclass != qclass || rr.name == cur ||
          !cur.is_subdomain_of(rr.name) || !rr.name.is_subdomain_of(zone))
        continue;
      auto target = rdata_target(rr);
      if (!target) continue;
      keep[i] = true;
      auto next = cur.replace_suffix(rr.name, *target);
      if (!next) break;
      // The server's synthesized CNAME for cur, if any, is kept alongside.
      for (size_t j = 0; j < reply.answer.size(); ++j)
        if (reply.answer[j].type == RRType::CNAME && reply.answer[j].name == cur) keep[j] = true;
      cur = *next;
      moved = true;
    }
    if (moved) continue;
    bool final_found = false;
    for (size_t i = 0; i < reply.answer.size(); ++i) {
      const auto& rr = reply.answer[i];
      if (rr.name == cur && rr.rclass == qclass &&
          (rr.type == qtype || qtype == RRType::ANY ||
           (rr.type == RRType::RRSIG && qtype != RRType::CNAME))) {
        keep[i] = true;
        if (rr.type != RRType::RRSIG) final_found = true;
      }
    }
    if (final_found) break;
    for (size_t i = 0; i < reply.answer.size(); ++i) {
      const auto& rr = reply.answer[i];
      if (rr.type == RRType::CNAME && rr.name == cur && rr.rclass == qclass) {
        auto target = rdata_target(rr);
        if (!target) break;
        keep[i] = true;
        cur = *target;
        moved = true;
        break;  // one CNAME per owner (RFC 2181 §10.1)
      }
    }
    if (!moved) break;
  }
  result.dropped += compact(reply.answer, keep);

  // Authority: NS and SOA only at or above where the chain ended and inside the zone;
  // DNSSEC proof records inside the zone (kept for validation later).
  keep.assign(reply.authority.size(), false);
  std::vector<Name> ns_targets;
  for (size_t i = 0; i < reply.authority.size(); ++i) {
    const auto& rr = reply.authority[i];
    if (!rr.name.is_subdomain_of(zone) || rr.rclass != qclass) continue;
    if (rr.type == RRType::NS || rr.type == RRType::SOA) {
      if (!cur.is_subdomain_of(rr.name) && !qname.is_subdomain_of(rr.name)) continue;
      keep[i] = true;
      if (rr.type == RRType::NS)
        if (auto t = rdata_target(rr)) ns_targets.push_back(*t);
    } else if (is_dnssec_type(rr.type)) {
      keep[i] = true;
    }
  }
  result.dropped += compact(reply.authority, keep);
  if (qtype == RRType::NS)
    for (const auto& rr : reply.answer)
      if (rr.type == RRType::NS)
        if (auto t = rdata_target(rr)) ns_targets.push_back(*t);

  // Additional: only glue - addresses of the kept NS names, and only inside the zone.
  keep.assign(reply.additional.size(), false);
  for (size_t i = 0; i < reply.additional.size(); ++i) {
    const auto& rr = reply.additional[i];
    if ((rr.type != RRType::A && rr.type != RRType::AAAA) || rr.rclass != qclass) continue;
    if (!rr.name.is_subdomain_of(zone)) continue;
    keep[i] = std::find(ns_targets.begin(), ns_targets.end(), rr.name) != ns_targets.end();
  }
  result.dropped += compact(reply.additional, keep);
  return result;
}

}  // namespace tern::resolver
