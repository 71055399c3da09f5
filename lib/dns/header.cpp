#include "dns/header.hpp"

namespace tern::dns {

uint16_t Header::flags() const {
  uint16_t f = 0;
  if (qr) f |= kFlagQR;
  f = static_cast<uint16_t>(f | ((static_cast<unsigned>(opcode) & 0xFu) << 11));
  if (aa) f |= kFlagAA;
  if (tc) f |= kFlagTC;
  if (rd) f |= kFlagRD;
  if (ra) f |= kFlagRA;
  if (z) f |= kFlagZ;
  if (ad) f |= kFlagAD;
  if (cd) f |= kFlagCD;
  f = static_cast<uint16_t>(f | (rcode & 0xFu));
  return f;
}

void Header::set_flags(uint16_t f) {
  qr = f & kFlagQR;
  opcode = static_cast<Opcode>((f >> 11) & 0xF);
  aa = f & kFlagAA;
  tc = f & kFlagTC;
  rd = f & kFlagRD;
  ra = f & kFlagRA;
  z = f & kFlagZ;
  ad = f & kFlagAD;
  cd = f & kFlagCD;
  rcode = static_cast<uint8_t>(f & 0xF);
}

Header read_header(WireReader& r) {
  Header h;
  h.id = r.u16();
  h.set_flags(r.u16());
  h.qdcount = r.u16();
  h.ancount = r.u16();
  h.nscount = r.u16();
  h.arcount = r.u16();
  return h;
}

void write_header(WireWriter& w, const Header& h) {
  w.u16(h.id);
  w.u16(h.flags());
  w.u16(h.qdcount);
  w.u16(h.ancount);
  w.u16(h.nscount);
  w.u16(h.arcount);
}

}  // namespace tern::dns
