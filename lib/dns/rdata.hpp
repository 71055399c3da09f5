// Typed RDATA: one struct per well-known type, decoded from and encoded to the UNCOMPRESSED
// wire form that ResourceRecord::rdata holds (parse_message has already decompressed names).
// Every other type is Unknown: opaque octets, round-tripped byte-exactly (RFC 3597), with the
// "\# len hex" text form.
//
// decode() is strict: RDATA shorter or longer than the type needs is RdataLengthMismatch, a
// field the type forbids is BadRdataField, a bad NSEC/NSEC3 bitmap BadTypeBitmap, misordered or
// malformed SVCB parameters BadSvcParam. Decisions that RFCs leave open, documented here:
//  - TXT needs at least one character-string (RFC 1035 §3.3.14 "one or more"); empty RDATA is
//    RdataLengthMismatch.
//  - DS digests of SHA-1/SHA-256/GOST/SHA-384 (types 1..4) must have their exact length;
//    unknown digest types take any length >= 0.
//  - Type bitmaps: windows strictly increasing, bitmap length 1..32, no trailing zero octet
//    (RFC 4034 §4.1.2 "MUST be omitted"); an empty bitmap is fine (NSEC3 of an empty
//    non-terminal).
//  - CAA tag: 1..255 octets of ASCII letters and digits (RFC 8659 §4.1).
//  - SVCB: keys strictly increasing; mandatory/alpn/no-default-alpn/port/ipv4hint/ech/ipv6hint
//    checked for their shape (RFC 9460 §7, §8); key 65535 is invalid; other keys are opaque.
//
// Text forms follow dig (BIND) so logs and fixtures read the same as dig output.
// from_text takes the RDATA tokens of one record (see presentation.hpp) and the origin for
// relative names.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "dns/types.hpp"
#include "dns/wire_error.hpp"
#include "util/expected.hpp"

namespace tern::dns::rdata {

template <class T>
using Result = util::Expected<T, WireError>;
using Bytes = std::vector<uint8_t>;
using Tokens = std::span<const Token>;

#define TERN_RDATA_METHODS(T)                                        \
  static Result<T> decode(std::span<const uint8_t> rdata);           \
  void encode(Bytes& out) const;                                     \
  std::string to_text() const;                                       \
  static Result<T> from_text(Tokens tokens, const Name& origin);     \
  bool operator==(const T&) const = default;

struct A {
  std::array<uint8_t, 4> addr{};
  TERN_RDATA_METHODS(A)
};
struct Aaaa {
  std::array<uint8_t, 16> addr{};
  TERN_RDATA_METHODS(Aaaa)
};
struct Ns {
  Name nsdname;
  TERN_RDATA_METHODS(Ns)
};
struct Cname {
  Name target;
  TERN_RDATA_METHODS(Cname)
};
struct Dname {
  Name target;
  TERN_RDATA_METHODS(Dname)
};
struct Ptr {
  Name ptrdname;
  TERN_RDATA_METHODS(Ptr)
};
struct Soa {
  Name mname, rname;
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
  TERN_RDATA_METHODS(Soa)
};
struct Mx {
  uint16_t preference = 0;
  Name exchange;
  TERN_RDATA_METHODS(Mx)
};
struct Txt {
  std::vector<Bytes> strings;  // each <= 255 octets, at least one
  TERN_RDATA_METHODS(Txt)
};
struct Srv {
  uint16_t priority = 0, weight = 0, port = 0;
  Name target;
  TERN_RDATA_METHODS(Srv)
};
struct Caa {
  uint8_t flags = 0;
  std::string tag;
  Bytes value;
  TERN_RDATA_METHODS(Caa)
};
struct Ds {  // also CDS (RFC 7344)
  uint16_t key_tag = 0;
  uint8_t algorithm = 0, digest_type = 0;
  Bytes digest;
  TERN_RDATA_METHODS(Ds)
};
struct Dnskey {  // also CDNSKEY (RFC 7344)
  uint16_t flags = 0;
  uint8_t protocol = 3, algorithm = 0;
  Bytes public_key;
  // RFC 4034 Appendix B (the algorithm-1 special case is not implemented: RSAMD5 is dead).
  uint16_t key_tag() const;
  TERN_RDATA_METHODS(Dnskey)
};
struct Rrsig {
  RRType type_covered = RRType::A;
  uint8_t algorithm = 0, labels = 0;
  uint32_t original_ttl = 0, expiration = 0, inception = 0;
  uint16_t key_tag = 0;
  Name signer;
  Bytes signature;
  TERN_RDATA_METHODS(Rrsig)
};

// The set of types an NSEC/NSEC3 record asserts (RFC 4034 §4.1.2), kept sorted.
struct TypeBitmap {
  std::vector<RRType> types;
  bool contains(RRType t) const;
  static Result<TypeBitmap> decode(std::span<const uint8_t> wire);
  void encode(Bytes& out) const;
  std::string to_text() const;  // " A NS SOA" (leading space per type, empty if none)
  static Result<TypeBitmap> from_text(Tokens tokens);
  bool operator==(const TypeBitmap&) const = default;
};

struct Nsec {
  Name next;
  TypeBitmap types;
  TERN_RDATA_METHODS(Nsec)
};
struct Nsec3 {
  uint8_t hash_algorithm = 1, flags = 0;
  uint16_t iterations = 0;
  Bytes salt;
  Bytes next_hashed;  // 1..255 octets
  TypeBitmap types;
  TERN_RDATA_METHODS(Nsec3)
};
struct Nsec3param {
  uint8_t hash_algorithm = 1, flags = 0;
  uint16_t iterations = 0;
  Bytes salt;
  TERN_RDATA_METHODS(Nsec3param)
};

enum class SvcKey : uint16_t {
  Mandatory = 0, Alpn = 1, NoDefaultAlpn = 2, Port = 3, Ipv4Hint = 4, Ech = 5, Ipv6Hint = 6,
};
struct SvcParam {
  uint16_t key = 0;
  Bytes value;  // wire form of the value; shape checked for known keys
  bool operator==(const SvcParam&) const = default;
};
struct Svcb {  // also HTTPS (RFC 9460 §9)
  uint16_t priority = 0;  // 0 = AliasMode
  Name target;
  std::vector<SvcParam> params;  // strictly increasing keys
  const SvcParam* find(SvcKey k) const;
  TERN_RDATA_METHODS(Svcb)
};

struct Unknown {
  Bytes data;
  TERN_RDATA_METHODS(Unknown)
};

#undef TERN_RDATA_METHODS

using Rdata = std::variant<Unknown, A, Aaaa, Ns, Cname, Dname, Ptr, Soa, Mx, Txt, Srv, Caa, Ds,
                           Dnskey, Rrsig, Nsec, Nsec3, Nsec3param, Svcb>;

// Typed decode by RR type; types without a struct decode to Unknown (never an error).
Result<Rdata> decode(RRType type, std::span<const uint8_t> rdata);
Bytes encode(const Rdata& r);
// Checks that rdata is well-formed for its type without keeping the result (parse_message).
util::Expected<void, WireError> validate(RRType type, std::span<const uint8_t> rdata);
// dig-like text; RDATA that does not decode under its type prints in the \# form.
std::string to_text(RRType type, std::span<const uint8_t> rdata);
// Parses RDATA tokens of a record of `type` into uncompressed wire form. The RFC 3597 "\#"
// form is accepted for every type (and checked against the type's rules when it has any).
Result<Bytes> from_text(RRType type, Tokens tokens, const Name& origin);

}  // namespace tern::dns::rdata
