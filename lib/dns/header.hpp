// Header: the 12-octet DNS message header (RFC 1035 §4.1.1, AD/CD from RFC 4035 §3.2).
#pragma once

#include <cstdint>

#include "dns/types.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace tern::dns {

inline constexpr size_t kHeaderSize = 12;

// Bits of the second 16-bit header word.
inline constexpr uint16_t kFlagQR = 0x8000;
inline constexpr uint16_t kFlagAA = 0x0400;
inline constexpr uint16_t kFlagTC = 0x0200;
inline constexpr uint16_t kFlagRD = 0x0100;
inline constexpr uint16_t kFlagRA = 0x0080;
inline constexpr uint16_t kFlagZ = 0x0040;
inline constexpr uint16_t kFlagAD = 0x0020;
inline constexpr uint16_t kFlagCD = 0x0010;

struct Header {
  uint16_t id = 0;
  bool qr = false;
  Opcode opcode = Opcode::Query;
  bool aa = false, tc = false, rd = false, ra = false, z = false, ad = false, cd = false;
  uint8_t rcode = 0;  // low 4 bits; the upper 8 live in OPT (Message::rcode())
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  uint16_t flags() const;
  void set_flags(uint16_t f);
  bool operator==(const Header&) const = default;
};

Header read_header(WireReader& r);
void write_header(WireWriter& w, const Header& h);

}  // namespace tern::dns
