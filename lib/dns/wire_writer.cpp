#include "dns/wire_writer.hpp"

#include <cstring>

#include "dns/wire_reader.hpp"

namespace tern::dns {

bool WireWriter::room(size_t n) {
  // len_ > limit_ happens after set_limit() below the current size: that is an overflow too.
  if (overflow_ || len_ > limit_ || limit_ - len_ < n) {
    overflow_ = true;
    return false;
  }
  return true;
}

void WireWriter::u8(uint8_t v) {
  if (room(1)) buf_[len_++] = v;
}

void WireWriter::u16(uint16_t v) {
  if (!room(2)) return;
  store_u16(buf_.data() + len_, v);
  len_ += 2;
}

void WireWriter::u32(uint32_t v) {
  if (!room(4)) return;
  store_u32(buf_.data() + len_, v);
  len_ += 4;
}

void WireWriter::bytes(std::span<const uint8_t> b) {
  if (b.empty() || !room(b.size())) return;
  std::memcpy(buf_.data() + len_, b.data(), b.size());
  len_ += b.size();
}

void WireWriter::patch_u16(size_t offset, uint16_t v) {
  if (offset + 2 <= len_) store_u16(buf_.data() + offset, v);
}

void WireWriter::rewind(size_t m) {
  if (m > len_) return;
  len_ = m;
  overflow_ = false;
  size_t keep = 0;
  for (size_t i = 0; i < ntargets_; ++i)
    if (targets_[i] < m) targets_[keep++] = targets_[i];
  ntargets_ = keep;
}

bool WireWriter::matches_at(size_t offset, std::span<const uint8_t> wire, size_t pos) const {
  // Compare the (possibly compressed) name at buf_[offset] with wire[pos..], case-insensitively.
  // Everything in buf_ was written by us, so pointers are well-formed and go backwards.
  size_t cur = offset;
  unsigned hops = 0;
  while (true) {
    if (cur >= len_) return false;  // never read past what this writer wrote
    uint8_t len = buf_[cur];
    if ((len & 0xC0) == 0xC0) {
      if (cur + 1 >= len_ || ++hops > kMaxCompressionHops) return false;
      cur = (static_cast<size_t>(len & 0x3F) << 8) | buf_[cur + 1];
      continue;
    }
    if (len != wire[pos]) return false;
    if (len == 0) return true;
    if (cur + 1u + len > len_) return false;
    for (size_t i = 1; i <= len; ++i)
      if (ascii_lower(buf_[cur + i]) != ascii_lower(wire[pos + i])) return false;
    cur += 1u + len;
    pos += 1u + len;
  }
}

int WireWriter::find_suffix(std::span<const uint8_t> wire, size_t pos) const {
  for (size_t i = 0; i < ntargets_; ++i)
    if (matches_at(targets_[i], wire, pos)) return targets_[i];
  return -1;
}

void WireWriter::name(const Name& n, Compression c) {
  auto wire = n.wire();
  // Offsets of the labels written for this name. They become compression targets only once
  // the whole name is in the buffer: a target registered mid-name would let a later suffix of
  // the same name match against octets not yet written (found by fuzz_message: the match read
  // stale buffer contents and emitted a pointer into the name itself).
  uint16_t mine[kMaxNameWire / 2 + 1];
  size_t nmine = 0;
  auto commit = [&] {
    for (size_t i = 0; i < nmine && ntargets_ < kMaxTargets; ++i) targets_[ntargets_++] = mine[i];
  };
  size_t pos = 0;
  while (wire[pos] != 0) {
    if (c == Compression::On) {
      int at = find_suffix(wire, pos);
      if (at >= 0) {
        u16(static_cast<uint16_t>(0xC000u | static_cast<unsigned>(at)));
        if (!overflow_) commit();
        return;
      }
    }
    size_t here = len_;
    size_t llen = 1u + wire[pos];
    if (!room(llen)) return;
    std::memcpy(buf_.data() + len_, wire.data() + pos, llen);
    len_ += llen;
    if (c == Compression::On && here < 0x4000) mine[nmine++] = static_cast<uint16_t>(here);
    pos += llen;
  }
  u8(0);
  if (!overflow_) commit();
}

}  // namespace tern::dns
