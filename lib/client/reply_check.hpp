// Building an outgoing query and deciding whether a datagram is the reply to it: the part of
// RFC 5452 §9 that is the same for the iterator's transport and the c-ares forwarder. Sockets
// check the source address; this checks the bytes. Pure functions, no I/O.
// Order of checks: a datagram without our ID (or with QR clear, which is a query, perhaps
// reflected) is NotOurs before any parsing, so a flood of forgeries costs two comparisons each;
// only a datagram that carries our ID is parsed; a parsed one must repeat our question exactly
// (qname case-insensitively, RFC 4343 — 0x20 case checks are the caller's, qtype, qclass,
// QDCOUNT 1, opcode QUERY).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dns/message.hpp"

namespace tern::client {

struct QueryFlags {
  bool recursion_desired = false;
  bool checking_disabled = false;
  bool edns = true;
  uint16_t edns_payload = 1232;  // RFC 9715
  bool dnssec_ok = false;
};

// The query's wire form; empty only if the question cannot be encoded (cannot happen for a
// valid Name, checked anyway).
std::vector<uint8_t> encode_query(uint16_t id, const dns::Question& question,
                                  const QueryFlags& flags);

enum class ReplyVerdict : uint8_t {
  Accepted,   // message holds the parsed reply
  NotOurs,    // wrong ID, QR clear, wrong opcode or question: a forgery or a stray; ignore
  Malformed,  // our ID and QR, but the bytes do not parse: the server is broken
};

struct ReplyCheck {
  ReplyVerdict verdict = ReplyVerdict::NotOurs;
  std::optional<dns::Message> message;
};

ReplyCheck check_reply(std::span<const uint8_t> wire, uint16_t id, const dns::Question& question);

}  // namespace tern::client
