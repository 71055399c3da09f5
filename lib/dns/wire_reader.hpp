// WireReader: bounds-checked reading of a DNS message. Every read checks what remains first;
// the first failure sticks (later reads return zeros and do nothing), so a parser may read a
// whole record and check ok() once at the boundary (STYLE.md: errors).
// Names are decompressed with every pointer required to point strictly before the start of
// the label run it interrupts, so decompression always terminates; a hop cap backs that up.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "dns/name.hpp"
#include "dns/wire_error.hpp"

namespace tern::dns {

inline constexpr unsigned kMaxCompressionHops = 64;  // > any legitimate chain; bounds CPU

inline uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
}
inline uint32_t load_u32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
inline void store_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_u32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> message, size_t pos = 0)
      : msg_(message), pos_(pos <= message.size() ? pos : message.size()) {}

  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  // The next n octets (empty on failure).
  std::span<const uint8_t> bytes(size_t n);
  void skip(size_t n);
  // A possibly compressed name; the root on failure.
  Name name();
  // Skips a possibly compressed name without building it (cheap scan).
  void skip_name();

  size_t pos() const { return pos_; }
  void seek(size_t pos);
  size_t remaining() const { return msg_.size() - pos_; }
  std::span<const uint8_t> message() const { return msg_; }
  bool ok() const { return !error_; }
  WireError error() const { return *error_; }
  void fail(WireError e) {
    if (!error_) error_ = e;
  }

 private:
  // Decodes a name starting at pos_ into out (may be null to only skip).
  void read_name(Name* out);

  std::span<const uint8_t> msg_;
  size_t pos_;
  std::optional<WireError> error_;
};

}  // namespace tern::dns
