// net::Prefix: a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) for access control and for the
// address classes below. A prefix with host bits set (`10.1.2.3/8`) is refused, not silently
// normalised: in an ACL it is almost always a typo, and guessing which half the operator meant
// (the address or the length) would widen or narrow access without telling them. The error
// renders with the normalised prefix as a suggestion.
// Invariant: bits past `length` are zero, so equality and containment are plain byte work.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/address.hpp"

namespace tern::net {

class Prefix {
 public:
  // The whole of IPv4, 0.0.0.0/0.
  constexpr Prefix() = default;

  // Zeroes any host bits of `network`; `length` is clamped to the family's width.
  static Prefix make(const Address& network, unsigned length);
  // A single address: /32 or /128.
  static Prefix host(const Address& a) { return make(a, static_cast<unsigned>(a.bit_width())); }

  const Address& network() const { return network_; }
  unsigned length() const { return length_; }
  Family family() const { return network_.family(); }

  // True if `a` is inside. Families must match: an IPv4 address is not inside an IPv6 prefix
  // (callers that accept v4-mapped clients unmap them first; see AccessList).
  bool contains(const Address& a) const;
  // True if every address of `other` is inside this prefix.
  bool contains(const Prefix& other) const;

  std::string to_string() const;

  friend auto operator<=>(const Prefix&, const Prefix&) = default;
  friend bool operator==(const Prefix&, const Prefix&) = default;

 private:
  Address network_;
  uint8_t length_ = 0;
};

// `addr/len`. A bare address is not a prefix here (the ACL layer turns one into a host prefix).
util::Expected<Prefix, ParseError> parse_prefix(std::string_view text);

}  // namespace tern::net
