// RdataCursor: reads the fields of one UNCOMPRESSED RDATA (internal to the rdata_*.cpp files).
// Like WireReader the first failure sticks; unlike it, a compression pointer is an error here
// (names in stored RDATA are always uncompressed) and running out of octets means the RDATA is
// shorter than its type needs: RdataLengthMismatch.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dns/rdata.hpp"
#include "dns/name.hpp"
#include "dns/wire_reader.hpp"

namespace tern::dns::rdata {

class RdataCursor {
 public:
  explicit RdataCursor(std::span<const uint8_t> d) : d_(d) {}

  uint8_t u8() { return need(1) ? d_[pos_++] : 0; }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t v = load_u16(d_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = load_u32(d_.data() + pos_);
    pos_ += 4;
    return v;
  }
  std::span<const uint8_t> bytes(size_t n) {
    if (!need(n)) return {};
    auto s = d_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::vector<uint8_t> rest() {
    auto s = bytes(d_.size() - pos_);
    return {s.begin(), s.end()};
  }
  Name name() {
    if (err_) return Name::root();
    size_t p = pos_;
    while (p < d_.size() && d_[p] != 0) {
      if (d_[p] & 0xC0) {
        fail((d_[p] & 0xC0) == 0xC0 ? WireError::PointerNotBackward : WireError::BadLabelType);
        return Name::root();
      }
      p += 1u + d_[p];
    }
    if (p >= d_.size()) {
      fail(WireError::RdataLengthMismatch);
      return Name::root();
    }
    auto n = Name::from_wire(d_.subspan(pos_, p + 1 - pos_));
    if (!n) {
      fail(n.error());
      return Name::root();
    }
    pos_ = p + 1;
    return *n;
  }
  bool at_end() const { return pos_ == d_.size(); }
  size_t remaining() const { return d_.size() - pos_; }
  bool ok() const { return err_ == 0; }
  WireError error() const { return static_cast<WireError>(err_ - 1); }
  void fail(WireError e) {
    if (!err_) err_ = static_cast<uint8_t>(static_cast<uint8_t>(e) + 1);
  }
  // The final check of every decode: no error and nothing left over.
  bool finish() {
    if (ok() && !at_end()) fail(WireError::RdataLengthMismatch);
    return ok();
  }

 private:
  bool need(size_t n) {
    if (err_) return false;
    if (d_.size() - pos_ < n) {
      fail(WireError::RdataLengthMismatch);
      return false;
    }
    return true;
  }
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
  uint8_t err_ = 0;
};

inline void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  put_u16(out, static_cast<uint16_t>(v >> 16));
  put_u16(out, static_cast<uint16_t>(v));
}
inline void put_name(std::vector<uint8_t>& out, const Name& n) {
  out.insert(out.end(), n.wire().begin(), n.wire().end());
}
inline void put_bytes(std::vector<uint8_t>& out, std::span<const uint8_t> b) {
  out.insert(out.end(), b.begin(), b.end());
}

// Ends a decode: the value if the cursor consumed exactly the RDATA without error.
// An lvalue is copied (the trivially copyable RDATA types), an rvalue moved.
template <class T>
Result<std::remove_cvref_t<T>> finish(RdataCursor& c, T&& v) {
  if (!c.finish()) return util::unexpected(c.error());
  return std::forward<T>(v);
}

}  // namespace tern::dns::rdata
