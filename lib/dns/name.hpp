// Name: a domain name held in uncompressed wire form (length-prefixed labels ending in the
// root label) in a fixed 255-octet array, so names never allocate on the hot path.
// Comparison is case-insensitive for ASCII letters (RFC 4343) while the original case is kept
// (0x20 randomisation and echoing the client's question need it).
// Invariant: data_[0..size_) is always a valid wire name: labels of 1..63 octets, total <= 255,
// ending in a zero octet. Every constructor path checks this.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "dns/wire_error.hpp"
#include "util/expected.hpp"

namespace tern::dns {

inline constexpr size_t kMaxNameWire = 255;  // RFC 1035 §2.3.4
inline constexpr size_t kMaxLabel = 63;      // RFC 1035 §2.3.4

constexpr uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}

class Name {
 public:
  Name() : size_(1) { data_[0] = 0; }  // the root
  static Name root() { return Name(); }

  // The whole span must be exactly one uncompressed wire name.
  static util::Expected<Name, WireError> from_wire(std::span<const uint8_t> wire);
  // Presentation form (RFC 1035 §5.1): escapes \X and \DDD; a missing trailing dot is accepted
  // and the name is taken as absolute; "." and "" are the root; "@" is not understood here.
  static util::Expected<Name, WireError> from_text(std::string_view text);
  // Like from_text, but a name without a trailing dot is relative to origin.
  static util::Expected<Name, WireError> from_text(std::string_view text, const Name& origin);

  // Presentation form with a trailing dot; octets outside printable ASCII and the specials
  // . \ " ( ) ; @ $ are escaped as dig does.
  std::string to_text() const;

  std::span<const uint8_t> wire() const { return {data_.data(), size_}; }
  size_t wire_size() const { return size_; }
  bool is_root() const { return size_ == 1; }
  unsigned label_count() const;  // the root label is not counted: "a.b." has 2
  // The i-th label from the left (0 = leftmost), without its length octet.
  std::span<const uint8_t> label(unsigned i) const;
  bool is_wildcard() const { return size_ >= 3 && data_[0] == 1 && data_[1] == '*'; }

  bool operator==(const Name& o) const;  // case-insensitive (RFC 4343)
  bool equals_exact(const Name& o) const;
  // True if this name is at or below ancestor ("a.example." is below "example." and ".").
  bool is_subdomain_of(const Name& ancestor) const;
  // RFC 4034 §6.1 canonical order: <0, 0, >0.
  int canonical_compare(const Name& o) const;

  Name parent() const;                  // root's parent is root
  Name suffix(unsigned labels) const;   // the rightmost `labels` labels
  Name lowered() const;
  void to_lower();
  // Replaces the ancestor old_suffix by new_suffix (DNAME substitution, RFC 6672 §2.2).
  // Fails with NameTooLong when the result exceeds 255 octets; old_suffix must be an ancestor.
  util::Expected<Name, WireError> replace_suffix(const Name& old_suffix,
                                                 const Name& new_suffix) const;
  util::Expected<Name, WireError> prepend(std::span<const uint8_t> label) const;

  size_t hash() const;  // case-insensitive

 private:
  std::array<uint8_t, kMaxNameWire> data_;
  uint8_t size_;
  friend class WireReader;
};

struct NameHash {
  size_t operator()(const Name& n) const { return n.hash(); }
};

}  // namespace tern::dns
