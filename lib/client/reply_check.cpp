#include "client/reply_check.hpp"

namespace tern::client {

std::vector<uint8_t> encode_query(uint16_t id, const dns::Question& question,
                                  const QueryFlags& flags) {
  dns::Message m;
  m.header.id = id;
  m.header.opcode = dns::Opcode::Query;
  m.header.rd = flags.recursion_desired;
  m.header.cd = flags.checking_disabled;
  m.questions.push_back(question);
  if (flags.edns) {
    dns::Edns e;
    e.udp_payload = flags.edns_payload;
    e.dnssec_ok = flags.dnssec_ok;
    m.edns = e;
  }
  return dns::encode_message(m);
}

ReplyCheck check_reply(std::span<const uint8_t> wire, uint16_t id, const dns::Question& question) {
  ReplyCheck out;
  // The ID and QR bit are read straight from the octets: nothing else is parsed for a
  // datagram that is not ours.
  if (wire.size() < 3) return out;
  uint16_t wire_id = static_cast<uint16_t>((wire[0] << 8) | wire[1]);
  bool qr = (wire[2] & 0x80) != 0;
  if (wire_id != id || !qr) return out;

  auto parsed = dns::parse_message(wire);
  if (!parsed) {
    out.verdict = ReplyVerdict::Malformed;
    return out;
  }
  const dns::Message& m = *parsed;
  if (m.header.opcode != dns::Opcode::Query) return out;
  if (m.questions.size() != 1 || !(m.questions[0] == question)) return out;
  out.verdict = ReplyVerdict::Accepted;
  out.message = std::move(parsed).value();
  return out;
}

}  // namespace tern::client
