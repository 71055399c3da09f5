#include "server/reply_writer.hpp"

#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace tern::server {

namespace {

constexpr uint16_t kPointerToQname = 0xC00C;  // the question's qname always sits at offset 12

void write_reply_header(dns::WireWriter& w, const EchoFlags& echo, bool has_question,
                        uint16_t ancount, bool aa, uint8_t rcode_low) {
  dns::Header h;
  h.id = echo.id;
  h.qr = true;
  h.opcode = echo.opcode;
  h.rd = echo.rd;
  h.cd = echo.cd;
  h.ra = true;
  h.aa = aa;
  h.rcode = rcode_low;
  h.qdcount = has_question ? 1 : 0;
  h.ancount = ancount;
  dns::write_header(w, h);
}

void write_opt(dns::WireWriter& w, const OptReply& opt, uint8_t ext_rcode) {
  w.u8(0);  // root owner
  w.u16(dns::to_u16(dns::RRType::OPT));
  w.u16(opt.udp_payload);
  // TTL field: extended RCODE, version 0, DO, Z (RFC 6891 §6.1.3).
  w.u32((uint32_t{ext_rcode} << 24) | (opt.dnssec_ok ? 0x8000u : 0u));
  w.u16(0);
}

size_t finish(dns::WireWriter& w, const OptReply* opt, uint8_t ext_rcode) {
  if (opt) {
    w.patch_u16(10, 1);  // ARCOUNT
    write_opt(w, *opt, ext_rcode);
  }
  return w.overflowed() ? 0 : w.size();
}

}  // namespace

size_t write_error_reply(std::span<uint8_t> out, const EchoFlags& echo,
                         std::span<const uint8_t> question_wire, dns::RCode rcode,
                         const OptReply* opt) {
  auto code = static_cast<uint16_t>(rcode);
  if (code > 15 && !opt) return 0;  // an extended rcode cannot be said without OPT
  dns::WireWriter w(out);
  write_reply_header(w, echo, !question_wire.empty(), 0, false, static_cast<uint8_t>(code & 0xF));
  w.bytes(question_wire);
  return finish(w, opt, static_cast<uint8_t>(code >> 4));
}

size_t append_opt(std::span<uint8_t> out, size_t size, const OptReply& opt, uint8_t ext_rcode) {
  if (size < dns::kHeaderSize || out.size() < size + kOptSize) return 0;
  uint16_t arcount = dns::load_u16(out.data() + 10);
  if (arcount == 0xFFFF) return 0;
  dns::store_u16(out.data() + 10, static_cast<uint16_t>(arcount + 1));
  dns::WireWriter w(out.subspan(size));
  write_opt(w, opt, ext_rcode);
  return w.overflowed() ? 0 : size + w.size();
}

size_t truncate_to_question(std::span<uint8_t> out, size_t size) {
  if (size < dns::kHeaderSize || size > out.size()) return 0;
  size_t end = dns::kHeaderSize;
  if (dns::load_u16(out.data() + 4) >= 1) {
    dns::WireReader r(out.first(size), dns::kHeaderSize);
    r.skip_name();
    r.skip(4);
    if (!r.ok()) return 0;
    end = r.pos();
  }
  uint16_t flags = dns::load_u16(out.data() + 2);
  dns::store_u16(out.data() + 2, static_cast<uint16_t>(flags | dns::kFlagTC));
  dns::store_u16(out.data() + 4, end > dns::kHeaderSize ? 1 : 0);
  dns::store_u16(out.data() + 6, 0);
  dns::store_u16(out.data() + 8, 0);
  dns::store_u16(out.data() + 10, 0);
  return end;
}

size_t write_any_reply(std::span<uint8_t> out, const EchoFlags& echo,
                       std::span<const uint8_t> question_wire, const OptReply* opt) {
  static constexpr uint8_t kCpu[] = {'R', 'F', 'C', '8', '4', '8', '2'};
  dns::WireWriter w(out);
  write_reply_header(w, echo, true, 1, false, 0);
  w.bytes(question_wire);
  w.u16(kPointerToQname);
  w.u16(dns::to_u16(dns::RRType::HINFO));
  w.u16(dns::to_u16(dns::RRClass::IN));
  w.u32(kRfc8482Ttl);
  w.u16(static_cast<uint16_t>(1 + sizeof kCpu + 1));
  w.u8(sizeof kCpu);
  w.bytes(kCpu);
  w.u8(0);  // OS: the empty string
  return finish(w, opt, 0);
}

size_t write_chaos_txt(std::span<uint8_t> out, const EchoFlags& echo,
                       std::span<const uint8_t> question_wire, std::string_view text,
                       const OptReply* opt) {
  // A TXT RDATA is <character-string>+ of at most 255 octets each; an empty text is one empty
  // string. Long texts are cut at what one RDATA can hold.
  size_t strings = text.empty() ? 1 : (text.size() + 254) / 255;
  if (text.size() + strings > 65535) return 0;
  dns::WireWriter w(out);
  write_reply_header(w, echo, true, 1, true, 0);
  w.bytes(question_wire);
  w.u16(kPointerToQname);
  w.u16(dns::to_u16(dns::RRType::TXT));
  w.u16(dns::to_u16(dns::RRClass::CH));
  w.u32(0);
  w.u16(static_cast<uint16_t>(text.size() + strings));
  size_t pos = 0;
  do {
    size_t n = text.size() - pos < 255 ? text.size() - pos : 255;
    w.u8(static_cast<uint8_t>(n));
    w.bytes({reinterpret_cast<const uint8_t*>(text.data()) + pos, n});
    pos += n;
  } while (pos < text.size());
  return finish(w, opt, 0);
}

}  // namespace tern::server
