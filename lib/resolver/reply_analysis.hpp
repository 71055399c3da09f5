// ReplyAnalysis: what a scrubbed upstream reply means for the question we sent, decided once
// so the Resolution branches on a kind (coredns's typify is the model): an answer, a CNAME or
// DNAME chain to follow, NXDOMAIN, NODATA, a referral to a deeper zone cut, a lame reply, or
// an error rcode. DNAME is applied here (RFC 6672 §3.3): the CNAME we return is synthesized
// from the DNAME, never copied from the server.
// Invariant: `records` is the chain in order (DNAME, synthesized CNAME, CNAME..., final RRset),
// every record at or below `zone` (the input was scrubbed against it).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "dns/message.hpp"
#include "net/address.hpp"

namespace tern::resolver {

enum class ReplyKind : uint8_t {
  Answer,    // records ends in the RRset for (final name, qtype)
  Chain,     // records is a CNAME/DNAME chain whose end (next_name) must be resolved anew
  NxDomain,  // the (final) name does not exist
  NoData,    // the (final) name exists without data of the type
  Referral,  // a delegation to cut, strictly below the queried zone
  Lame,      // neither answer nor referral: the server is not authoritative for the zone
  Error,     // rcode other than NOERROR/NXDOMAIN
  YxDomain,  // a DNAME substitution overflowed 255 octets (RFC 6672 §2.2)
};

struct ReplyAnalysis {
  ReplyKind kind = ReplyKind::Lame;
  dns::RCode rcode = dns::RCode::NoError;
  std::vector<dns::ResourceRecord> records;  // chain + final RRset
  unsigned chain_hops = 0;                   // CNAME/DNAME substitutions in records
  dns::Name next_name;                       // where the chain ended
  std::optional<dns::ResourceRecord> soa;    // for NXDOMAIN / NODATA
  // Referral:
  dns::Name cut;
  std::vector<dns::Name> ns_names;
  std::vector<std::pair<dns::Name, net::Address>> glue;
  uint32_t ns_ttl = 0;
};

ReplyAnalysis analyse_reply(const dns::Message& scrubbed, const dns::Name& zone,
                            const dns::Name& qname, dns::RRType qtype);

}  // namespace tern::resolver
