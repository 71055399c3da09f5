// Small replies written straight into a caller's buffer, without building a dns::Message and
// without allocation: error replies (FORMERR, NOTIMP, REFUSED, BADVERS, SERVFAIL), the OPT
// record appended to a cached answer, the TC=1 stub sent when an answer does not fit the
// client's UDP limit, the RFC 8482 reply to ANY and CHAOS TXT answers.
// Every function returns the new message size, or 0 if `out` is too small (callers pass a
// buffer of kReplyBufferSize, which always fits these).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "dns/header.hpp"
#include "dns/types.hpp"

namespace tern::server {

// 64 KiB message + one OPT record: a cached answer of maximal size can still get its OPT.
inline constexpr size_t kMaxMessage = 65535;
inline constexpr size_t kOptSize = 11;
inline constexpr size_t kReplyBufferSize = kMaxMessage + kOptSize;

// What goes into the OPT of our reply (RFC 6891 §6.1.3): our payload size, version 0, the
// client's DO echoed (RFC 3225 §3), and the upper bits of an extended RCODE.
struct OptReply {
  uint16_t udp_payload = 1232;
  bool dnssec_ok = false;
};

// Header flags copied from the query into every reply.
struct EchoFlags {
  uint16_t id = 0;
  dns::Opcode opcode = dns::Opcode::Query;
  bool rd = false;
  bool cd = false;
};

// Header (+ question when question_wire is not empty) (+ OPT when opt is set), RA=1, with the
// given rcode; rcodes above 15 put their upper bits in the OPT (and need one).
size_t write_error_reply(std::span<uint8_t> out, const EchoFlags& echo,
                         std::span<const uint8_t> question_wire, dns::RCode rcode,
                         const OptReply* opt);

// Appends an OPT record after a complete message of `size` octets and bumps ARCOUNT.
size_t append_opt(std::span<uint8_t> out, size_t size, const OptReply& opt, uint8_t ext_rcode = 0);

// Cuts the complete message in out[0..size) down to header + question with TC=1 and no
// records (RFC 2181 §9: the client retries over TCP), keeping ID, flags and rcode.
// The caller appends the OPT afterwards if the query had one.
size_t truncate_to_question(std::span<uint8_t> out, size_t size);

// RFC 8482 §4.2: a single synthesized HINFO RR with CPU "RFC8482" and empty OS, TTL
// kRfc8482Ttl, owned by the qname.
inline constexpr uint32_t kRfc8482Ttl = 3600;  // the RFC leaves it open; an hour keeps repeats cheap
size_t write_any_reply(std::span<uint8_t> out, const EchoFlags& echo,
                       std::span<const uint8_t> question_wire, const OptReply* opt);

// A CHAOS-class TXT answer (version.bind, id.server ...) with `text` split into 255-octet
// strings, TTL 0, AA=1 (we are the authority for our own identity).
size_t write_chaos_txt(std::span<uint8_t> out, const EchoFlags& echo,
                       std::span<const uint8_t> question_wire, std::string_view text,
                       const OptReply* opt);

}  // namespace tern::server
