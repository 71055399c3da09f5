// Response classification: decide once what kind of reply a nameserver sent for a question,
// so the resolver branches on a kind instead of re-inspecting sections (the way CoreDNS's
// response.Typify and Unbound's response_type_from_server work). The classifier reads only the
// message; bailiwick and "is this referral for a zone below the one we asked" are scrubbing
// decisions of the resolver, which knows the zone cut it queried.
//
// Rules, applied in this order:
//  1. Malformed: QR clear, opcode not QUERY, or the question is present but is not exactly
//     one entry equal to q (name case-insensitively, type, class). A reply to a query must
//     echo it (RFC 5452 §9.1); no question is tolerated only with an error RCODE below.
//  2. Truncated: TC set (the caller retries over TCP; RFC 7766 §5).
//  3. RCODE other than NOERROR/NXDOMAIN: ServFail, Refused, FormErr, NotImp, or Error for the
//     rest (YXDOMAIN, NOTAUTH, BADVERS, ...). An empty question is fine here.
//  4. Follow the answer section from qname: an RRset of qtype (any type for ANY) at the
//     current name -> Answer; a CNAME at the current name moves to its target; a DNAME at a
//     proper ancestor of the current name moves to the substituted name (RFC 6672 §2.2). At
//     most kMaxChainInResponse steps.
//  5. Chain ended without data. NXDOMAIN -> NxDomain (RFC 6604 §2.1: the RCODE is about the
//     last name of the chain).
//  6. After a CNAME/DNAME step: SOA in authority -> NoData (for the target); otherwise Cname
//     or Dname (whichever the chain started with): the resolver continues with the target.
//  7. No step and the answer section holds records: none of them is about qname, so the
//     answer does not answer -> Malformed.
//  8. Authority has an NS RRset whose owner is qname or an ancestor, no SOA, AA clear ->
//     Referral. (NS in the authority of an AA answer is the zone's own NS: NoData.)
//  9. Otherwise NoData (RFC 2308 §2.2: with SOA (type 1/2), or without (type 3)).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "dns/message.hpp"

namespace tern::dns {

// RFC 1034 §3.6.2 allows chains; 16 is well above real-world chains (rarely > 8) and bounds
// the work an attacker's reply can cause.
inline constexpr unsigned kMaxChainInResponse = 16;

enum class ResponseKind : uint8_t {
  Answer,     // data for the question (possibly at the end of a CNAME/DNAME chain)
  Cname,      // a CNAME chain that ends without data or a negative proof: chase the target
  Dname,      // the same, where the chain starts with a DNAME
  Referral,   // delegation to a zone at or above qname
  NoData,     // the name exists without data of qtype
  NxDomain,   // the (last) name does not exist
  Truncated,  // TC set
  ServFail,
  Refused,
  FormErr,
  NotImp,
  Error,      // any other RCODE
  Malformed,  // not a reply to this question, or the answer does not answer it
};

std::string_view to_string(ResponseKind k);

ResponseKind classify(const Message& response, const Question& q);

// RFC 2308 §5: the TTL of a negative answer is min(SOA TTL, SOA MINIMUM) of the SOA in the
// authority section; nullopt when there is none (or it does not decode).
std::optional<uint32_t> negative_ttl(const Message& response);

}  // namespace tern::dns
