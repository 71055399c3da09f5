#include "dns/classify.hpp"

#include <algorithm>

#include "dns/rdata.hpp"

namespace tern::dns {

std::string_view to_string(ResponseKind k) {
  switch (k) {
    case ResponseKind::Answer: return "answer";
    case ResponseKind::Cname: return "cname";
    case ResponseKind::Dname: return "dname";
    case ResponseKind::Referral: return "referral";
    case ResponseKind::NoData: return "nodata";
    case ResponseKind::NxDomain: return "nxdomain";
    case ResponseKind::Truncated: return "truncated";
    case ResponseKind::ServFail: return "servfail";
    case ResponseKind::Refused: return "refused";
    case ResponseKind::FormErr: return "formerr";
    case ResponseKind::NotImp: return "notimp";
    case ResponseKind::Error: return "error";
    case ResponseKind::Malformed: return "malformed";
  }
  return "?";
}

namespace {

bool has_type(const std::vector<ResourceRecord>& sec, RRType t) {
  return std::any_of(sec.begin(), sec.end(), [t](const ResourceRecord& r) { return r.type == t; });
}

}  // namespace

ResponseKind classify(const Message& m, const Question& q) {
  const Header& h = m.header;
  if (!h.qr || h.opcode != Opcode::Query) return ResponseKind::Malformed;
  bool question_ok = m.questions.size() == 1 && m.questions[0] == q;
  if (!m.questions.empty() && !question_ok) return ResponseKind::Malformed;
  if (h.tc) return ResponseKind::Truncated;
  RCode rc = m.rcode();
  switch (rc) {
    case RCode::NoError:
    case RCode::NxDomain: break;
    case RCode::ServFail: return ResponseKind::ServFail;
    case RCode::Refused: return ResponseKind::Refused;
    case RCode::FormErr: return ResponseKind::FormErr;
    case RCode::NotImp: return ResponseKind::NotImp;
    default: return ResponseKind::Error;
  }
  if (!question_ok) return ResponseKind::Malformed;  // NOERROR/NXDOMAIN must echo the question

  Name current = q.qname;
  std::optional<ResponseKind> first_step;
  for (unsigned step = 0; step <= kMaxChainInResponse; ++step) {
    bool moved = false;
    for (const auto& rr : m.answer) {
      if (rr.rclass != q.qclass) continue;
      if (rr.name == current && (rr.type == q.qtype || q.qtype == RRType::ANY))
        return ResponseKind::Answer;
    }
    if (step == kMaxChainInResponse) break;
    for (const auto& rr : m.answer) {
      if (rr.rclass != q.qclass) continue;
      if (rr.type == RRType::CNAME && rr.name == current) {
        auto c = rdata::Cname::decode(rr.rdata);
        if (!c) continue;
        current = c->target;
        if (!first_step) first_step = ResponseKind::Cname;
        moved = true;
        break;
      }
      if (rr.type == RRType::DNAME && !(rr.name == current) && current.is_subdomain_of(rr.name)) {
        auto d = rdata::Dname::decode(rr.rdata);
        if (!d) continue;
        auto next = current.replace_suffix(rr.name, d->target);
        if (!next) return ResponseKind::Malformed;  // would need YXDOMAIN (RFC 6672 §2.2)
        current = *next;
        if (!first_step) first_step = ResponseKind::Dname;
        moved = true;
        break;
      }
    }
    if (!moved) break;
  }

  if (rc == RCode::NxDomain) return ResponseKind::NxDomain;
  bool soa = has_type(m.authority, RRType::SOA);
  if (first_step) return soa ? ResponseKind::NoData : *first_step;
  if (!m.answer.empty()) return ResponseKind::Malformed;
  if (!soa && !h.aa) {
    for (const auto& rr : m.authority) {
      if (rr.type == RRType::NS && q.qname.is_subdomain_of(rr.name)) return ResponseKind::Referral;
    }
  }
  return ResponseKind::NoData;
}

std::optional<uint32_t> negative_ttl(const Message& m) {
  for (const auto& rr : m.authority) {
    if (rr.type != RRType::SOA) continue;
    auto soa = rdata::Soa::decode(rr.rdata);
    if (!soa) return std::nullopt;
    return std::min(rr.ttl, soa->minimum);
  }
  return std::nullopt;
}

}  // namespace tern::dns
