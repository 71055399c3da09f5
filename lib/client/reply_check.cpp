#include "client/reply_check.hpp"

#include <array>
#include <cstddef>

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
  // A query is at most 12 (header) + 255 (name) + 4 + 11 (OPT) octets: build it on the stack
  // and copy out exactly that, not into a zeroed 64 KiB buffer (that memset alone was ~4% of
  // the miss path's CPU).
  std::array<uint8_t, 512> buf;
  auto built = dns::build_message(m, buf);
  if (!built) return {};
  return std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(built->size));
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
