// Request: the edge parse of a query from a client (DESIGN.md "Parse once, at the edge").
// The server reads the header, the one question and the OPT record and nothing more: that is
// enough to decide ACL/FORMERR/NOTIMP/BADVERS, to form the cache key, and to echo the
// question exactly as asked (RFC 4343 case, 0x20). No allocation: the view points into the
// caller's packet, which must outlive it.
// Callers: server/pipeline (every query), fuzz targets.
// Invariant: a RequestView is only produced for a packet that has a header, QR=0, opcode
// QUERY, QDCOUNT=1, a complete uncompressed question and well-formed records after it; every
// other packet yields a RequestError that names why, and the pipeline maps that to a drop or
// an error rcode.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "dns/header.hpp"
#include "dns/name.hpp"
#include "dns/types.hpp"
#include "util/expected.hpp"

namespace tern::dns {

// Below this a UDP payload size is read as 512 (RFC 6891 §6.2.5).
inline constexpr uint16_t kMinUdpPayload = 512;

struct EdnsSummary {
  bool present = false;
  uint8_t version = 0;
  uint16_t udp_payload = kMinUdpPayload;  // already raised to 512 when the client said less
  bool dnssec_ok = false;
};

struct RequestView {
  Header header;
  Name qname;                                // as asked, case kept
  RRType qtype = RRType::A;
  RRClass qclass = RRClass::IN;
  std::span<const uint8_t> question_wire;    // qname + qtype + qclass as they arrived
  EdnsSummary edns;
};

enum class RequestError : uint8_t {
  NoHeader,            // fewer than 12 octets: nothing to answer (drop)
  NotAQuery,           // QR=1: answering responses invites loops (drop)
  OpcodeNotQuery,      // NOTIMP (RFC 1035 §4.1.1)
  QuestionCount,       // QDCOUNT != 1: FORMERR (RFC 9619)
  MalformedQuestion,   // truncated, bad or compressed qname, short qtype/qclass: FORMERR
  MalformedRecords,    // answer/authority/additional records that do not parse: FORMERR
  MalformedOpt,        // OPT not owned by root, twice, or bad option lengths: FORMERR
                       // (RFC 6891 §6.1.1)
};

std::string_view to_string(RequestError e);

util::Expected<RequestView, RequestError> parse_request(std::span<const uint8_t> packet);

}  // namespace tern::dns
