// WireWriter: writes a DNS message into a caller-owned buffer (no allocation), with name
// compression (RFC 1035 §4.1.4). Overflow is sticky: once a write does not fit, overflowed()
// is true and the buffer content past size() is undefined; builders use mark()/rewind() to cut
// a message back to an RRset boundary when it does not fit (RFC 2181 §9).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "dns/name.hpp"

namespace tern::dns {

enum class Compression : uint8_t { Off, On };

class WireWriter {
 public:
  explicit WireWriter(std::span<uint8_t> buffer, size_t limit = SIZE_MAX)
      : buf_(buffer), limit_(limit < buffer.size() ? limit : buffer.size()) {}

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void bytes(std::span<const uint8_t> b);
  void name(const Name& n, Compression c = Compression::On);
  void patch_u16(size_t offset, uint16_t v);

  size_t size() const { return len_; }
  size_t limit() const { return limit_; }
  void set_limit(size_t limit) { limit_ = limit < buf_.size() ? limit : buf_.size(); }
  bool overflowed() const { return overflow_; }
  size_t mark() const { return len_; }
  // Cuts back to a previous mark, forgetting compression targets past it and any overflow.
  void rewind(size_t mark);
  std::span<const uint8_t> data() const { return {buf_.data(), len_}; }

 private:
  bool room(size_t n);
  // Offset of an earlier occurrence of the name starting at wire[pos], or -1.
  int find_suffix(std::span<const uint8_t> wire, size_t pos) const;
  bool matches_at(size_t offset, std::span<const uint8_t> wire, size_t pos) const;

  static constexpr size_t kMaxTargets = 96;  // names per message worth compressing against
  std::span<uint8_t> buf_;
  size_t limit_;
  size_t len_ = 0;
  bool overflow_ = false;
  std::array<uint16_t, kMaxTargets> targets_{};
  size_t ntargets_ = 0;
};

}  // namespace tern::dns
