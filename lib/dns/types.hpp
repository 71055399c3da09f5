// Protocol numbers from the IANA DNS parameters registry, as enums with fixed underlying types.
// RRType/RRClass are open sets (RFC 3597): any 16-bit value is a valid RRType, so these enums
// name the known values and code must handle unnamed ones.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::dns {

enum class RRType : uint16_t {
  A = 1, NS = 2, CNAME = 5, SOA = 6, PTR = 12, HINFO = 13, MX = 15, TXT = 16, RP = 17,
  AFSDB = 18, AAAA = 28, LOC = 29, SRV = 33, NAPTR = 35, KX = 36, CERT = 37, DNAME = 39,
  OPT = 41, APL = 42, DS = 43, SSHFP = 44, IPSECKEY = 45, RRSIG = 46, NSEC = 47, DNSKEY = 48,
  DHCID = 49, NSEC3 = 50, NSEC3PARAM = 51, TLSA = 52, SMIMEA = 53, HIP = 55, CDS = 59,
  CDNSKEY = 60, OPENPGPKEY = 61, CSYNC = 62, ZONEMD = 63, SVCB = 64, HTTPS = 65, SPF = 99,
  NID = 104, L32 = 105, L64 = 106, LP = 107, EUI48 = 108, EUI64 = 109, TKEY = 249,
  TSIG = 250, IXFR = 251, AXFR = 252, MAILB = 253, MAILA = 254, ANY = 255, URI = 256,
  CAA = 257, TA = 32768, DLV = 32769,
};

enum class RRClass : uint16_t { IN = 1, CH = 3, HS = 4, NONE = 254, ANY = 255 };

// 4-bit header RCODE plus the EDNS extended values (RFC 6891 §6.1.3).
enum class RCode : uint16_t {
  NoError = 0, FormErr = 1, ServFail = 2, NxDomain = 3, NotImp = 4, Refused = 5,
  YXDomain = 6, YXRRSet = 7, NXRRSet = 8, NotAuth = 9, NotZone = 10, BadVers = 16,
  BadCookie = 23,
};

enum class Opcode : uint8_t { Query = 0, IQuery = 1, Status = 2, Notify = 4, Update = 5, DSO = 6 };

// EDNS option codes (RFC 6891 registry).
enum class EdnsOptionCode : uint16_t {
  LLQ = 1, NSID = 3, ClientSubnet = 8, Expire = 9, Cookie = 10, TcpKeepalive = 11,
  Padding = 12, Chain = 13, KeyTag = 14, ExtendedError = 15,
};

constexpr uint16_t to_u16(RRType t) { return static_cast<uint16_t>(t); }
constexpr uint16_t to_u16(RRClass c) { return static_cast<uint16_t>(c); }

// Mnemonics as dig prints them; unknown values print as TYPE123 / CLASS123 (RFC 3597 §5).
std::string type_to_text(RRType t);
std::string class_to_text(RRClass c);
std::string rcode_to_text(RCode r);
std::string opcode_to_text(Opcode o);
// Accepts mnemonics case-insensitively and the TYPEnnn / CLASSnnn generic forms.
std::optional<RRType> type_from_text(std::string_view s);
std::optional<RRClass> class_from_text(std::string_view s);

// Meta-types and query-only types (RFC 6895 §3.1): never cached or served as data.
constexpr bool is_meta_type(RRType t) {
  auto v = to_u16(t);
  return (v >= 128 && v <= 255) || t == RRType::OPT;
}

}  // namespace tern::dns
