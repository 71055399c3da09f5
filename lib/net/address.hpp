// net::Address: one IPv4 or IPv6 address as a small value (family + 16 bytes, no heap), the
// currency of every ACL check, upstream choice and socket call. Parsing is strict because the
// text comes from operators and from the network: IPv4 is exactly four decimal parts 0-255
// with no leading zeros (no inet_aton octal/hex/shorthand forms), IPv6 is RFC 4291 §2.2 text
// (with `::` and an embedded dotted IPv4 tail) and zone ids are refused. Output is the
// RFC 5952 canonical text, so two spellings of one address print the same.
// Invariant: for V4 only bytes_[0..3] are meaningful and bytes_[4..15] are zero, so the
// defaulted comparison and hash treat equal addresses as equal.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/error.hpp"
#include "util/expected.hpp"

namespace tern::net {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

class Address {
 public:
  // The IPv4 unspecified address 0.0.0.0.
  constexpr Address() = default;

  static constexpr Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    Address r;
    r.bytes_[0] = a;
    r.bytes_[1] = b;
    r.bytes_[2] = c;
    r.bytes_[3] = d;
    return r;
  }
  static constexpr Address v4(uint32_t host_order) {
    return v4(static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
              static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order));
  }
  static constexpr Address v6(const std::array<uint8_t, 16>& bytes) {
    Address r;
    r.family_ = Family::V6;
    r.bytes_ = bytes;
    return r;
  }

  constexpr Family family() const { return family_; }
  constexpr bool is_v4() const { return family_ == Family::V4; }
  constexpr bool is_v6() const { return family_ == Family::V6; }
  // 4 for IPv4, 16 for IPv6: the number of meaningful bytes.
  constexpr std::size_t size() const { return is_v4() ? 4 : 16; }
  constexpr std::size_t bit_width() const { return size() * 8; }
  // Network byte order; only the first size() bytes are meaningful.
  constexpr const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  // The IPv4 address as a host-order integer; only meaningful when is_v4().
  constexpr uint32_t v4_value() const {
    return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
           uint32_t{bytes_[3]};
  }

  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
  bool is_v4_mapped() const;
  // The embedded IPv4 address of a v4-mapped address, or the address itself otherwise.
  Address unmapped() const;
  // ::ffff:a.b.c.d for an IPv4 address; the address itself for IPv6.
  Address to_v4_mapped() const;

  // RFC 5952 text for IPv6 (lower case, longest zero run as `::`, mapped as ::ffff:a.b.c.d);
  // dotted quad for IPv4.
  std::string to_string() const;

  friend constexpr auto operator<=>(const Address&, const Address&) = default;
  friend constexpr bool operator==(const Address&, const Address&) = default;

 private:
  Family family_ = Family::V4;
  std::array<uint8_t, 16> bytes_{};
};

// Exactly four decimal parts 0-255, no leading zeros, nothing else.
util::Expected<Address, ParseError> parse_ipv4(std::string_view text);
// RFC 4291 §2.2 text forms; zone ids (`%eth0`) fail with Errc::ZoneIdNotSupported.
util::Expected<Address, ParseError> parse_ipv6(std::string_view text);
// IPv6 if the text contains a ':', IPv4 otherwise.
util::Expected<Address, ParseError> parse_address(std::string_view text);

}  // namespace tern::net

template <>
struct std::hash<tern::net::Address> {
  std::size_t operator()(const tern::net::Address& a) const noexcept {
    // FNV-1a over family and bytes. It is not keyed: a table whose keys an attacker chooses
    // (per-client rate limiting) must use a keyed hash instead.
    uint64_t h = 0xcbf29ce484222325ull;
    h = (h ^ static_cast<uint8_t>(a.family())) * 0x100000001b3ull;
    for (uint8_t b : a.bytes()) h = (h ^ b) * 0x100000001b3ull;
    return static_cast<std::size_t>(h);
  }
};
