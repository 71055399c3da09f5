#include "dns/request.hpp"

#include "dns/wire_reader.hpp"

namespace tern::dns {

namespace {

inline constexpr size_t kMinRecordSize = 11;  // root owner + type + class + ttl + rdlength

// The qname of a query must be written out in full: the only earlier bytes are the header, so
// a compression pointer here can only point into it (RFC 1035 §4.1.4 allows no such thing).
// Returns the length of the name in octets, or 0 when it is not a valid uncompressed name.
size_t uncompressed_name_length(std::span<const uint8_t> p, size_t pos) {
  size_t start = pos;
  while (true) {
    if (pos >= p.size()) return 0;
    uint8_t len = p[pos];
    if (len & 0xC0) return 0;  // pointers and the reserved label types
    pos += 1u + len;
    if (pos - start > kMaxNameWire) return 0;
    if (len == 0) return pos - start;
  }
}

// Checks an OPT RDATA's option list: every option's length must stay inside the RDATA.
bool options_well_formed(std::span<const uint8_t> rdata) {
  size_t pos = 0;
  while (pos < rdata.size()) {
    if (rdata.size() - pos < 4) return false;
    size_t len = load_u16(rdata.data() + pos + 2);
    pos += 4;
    if (rdata.size() - pos < len) return false;
    pos += len;
  }
  return true;
}

}  // namespace

std::string_view to_string(RequestError e) {
  switch (e) {
    case RequestError::NoHeader: return "no header";
    case RequestError::NotAQuery: return "QR set (not a query)";
    case RequestError::OpcodeNotQuery: return "opcode is not QUERY";
    case RequestError::QuestionCount: return "QDCOUNT is not 1";
    case RequestError::MalformedQuestion: return "malformed question";
    case RequestError::MalformedRecords: return "malformed records after the question";
    case RequestError::MalformedOpt: return "malformed OPT record";
  }
  return "unknown request error";
}

util::Expected<RequestView, RequestError> parse_request(std::span<const uint8_t> packet) {
  using util::unexpected;
  if (packet.size() < kHeaderSize) return unexpected(RequestError::NoHeader);
  WireReader r(packet);
  RequestView v;
  v.header = read_header(r);
  if (v.header.qr) return unexpected(RequestError::NotAQuery);
  if (v.header.opcode != Opcode::Query) return unexpected(RequestError::OpcodeNotQuery);
  if (v.header.qdcount != 1) return unexpected(RequestError::QuestionCount);

  size_t name_len = uncompressed_name_length(packet, kHeaderSize);
  if (name_len == 0 || packet.size() - kHeaderSize - name_len < 4)
    return unexpected(RequestError::MalformedQuestion);
  auto qname = Name::from_wire(packet.subspan(kHeaderSize, name_len));
  if (!qname) return unexpected(RequestError::MalformedQuestion);
  v.qname = *qname;
  const uint8_t* q = packet.data() + kHeaderSize + name_len;
  v.qtype = static_cast<RRType>(load_u16(q));
  v.qclass = static_cast<RRClass>(load_u16(q + 2));
  v.question_wire = packet.subspan(kHeaderSize, name_len + 4);
  r.seek(kHeaderSize + name_len + 4);

  // Never trust counts: each record needs at least 11 octets, so a count the packet cannot hold
  // is rejected before any loop runs on it.
  size_t records = size_t{v.header.ancount} + v.header.nscount + v.header.arcount;
  if (records > r.remaining() / kMinRecordSize) return unexpected(RequestError::MalformedRecords);

  size_t first_additional = size_t{v.header.ancount} + v.header.nscount;
  for (size_t i = 0; i < records; ++i) {
    size_t owner_pos = r.pos();
    r.skip_name();
    bool owner_is_root = r.ok() && r.pos() == owner_pos + 1 && packet[owner_pos] == 0;
    auto type = static_cast<RRType>(r.u16());
    uint16_t rclass = r.u16();
    uint32_t ttl = r.u32();
    uint16_t rdlength = r.u16();
    auto rdata = r.bytes(rdlength);
    if (!r.ok()) return unexpected(RequestError::MalformedRecords);
    if (type != RRType::OPT) continue;
    // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
    if (i < first_additional || v.edns.present || !owner_is_root || !options_well_formed(rdata))
      return unexpected(RequestError::MalformedOpt);
    v.edns.present = true;
    v.edns.udp_payload = rclass < kMinUdpPayload ? kMinUdpPayload : rclass;  // RFC 6891 §6.2.5
    v.edns.version = static_cast<uint8_t>(ttl >> 16);
    v.edns.dnssec_ok = (ttl & 0x8000u) != 0;
  }
  if (r.remaining() != 0) return unexpected(RequestError::MalformedRecords);
  return v;
}

}  // namespace tern::dns
