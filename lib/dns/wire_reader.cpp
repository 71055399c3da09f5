#include "dns/wire_reader.hpp"

namespace tern::dns {

uint8_t WireReader::u8() {
  if (error_ || remaining() < 1) {
    fail(WireError::Truncated);
    return 0;
  }
  return msg_[pos_++];
}

uint16_t WireReader::u16() {
  if (error_ || remaining() < 2) {
    fail(WireError::Truncated);
    return 0;
  }
  uint16_t v = load_u16(msg_.data() + pos_);
  pos_ += 2;
  return v;
}

uint32_t WireReader::u32() {
  if (error_ || remaining() < 4) {
    fail(WireError::Truncated);
    return 0;
  }
  uint32_t v = load_u32(msg_.data() + pos_);
  pos_ += 4;
  return v;
}

std::span<const uint8_t> WireReader::bytes(size_t n) {
  if (error_ || remaining() < n) {
    fail(WireError::Truncated);
    return {};
  }
  auto s = msg_.subspan(pos_, n);
  pos_ += n;
  return s;
}

void WireReader::skip(size_t n) {
  if (error_ || remaining() < n) {
    fail(WireError::Truncated);
    return;
  }
  pos_ += n;
}

void WireReader::seek(size_t pos) {
  if (pos > msg_.size()) {
    fail(WireError::Truncated);
    return;
  }
  pos_ = pos;
}

Name WireReader::name() {
  Name n;
  read_name(&n);
  if (error_) return Name::root();
  return n;
}

void WireReader::skip_name() { read_name(nullptr); }

void WireReader::read_name(Name* out) {
  if (error_) return;
  size_t cur = pos_;         // where the next label octet is read
  size_t run_start = pos_;   // start of the current run of labels (pointer targets must be before)
  size_t end_pos = 0;        // where the reader continues after the name
  bool jumped = false;
  unsigned hops = 0;
  size_t out_len = 0;
  uint8_t* dst = out ? out->data_.data() : nullptr;
  while (true) {
    if (cur >= msg_.size()) return fail(WireError::Truncated);
    uint8_t len = msg_[cur];
    if ((len & 0xC0) == 0xC0) {
      if (cur + 1 >= msg_.size()) return fail(WireError::Truncated);
      size_t target = (static_cast<size_t>(len & 0x3F) << 8) | msg_[cur + 1];
      if (target >= run_start) return fail(WireError::PointerNotBackward);
      if (++hops > kMaxCompressionHops) return fail(WireError::TooManyPointers);
      if (!jumped) {
        end_pos = cur + 2;
        jumped = true;
      }
      cur = target;
      run_start = target;
      continue;
    }
    if (len & 0xC0) return fail(WireError::BadLabelType);
    if (len == 0) {
      if (out_len + 1 > kMaxNameWire) return fail(WireError::NameTooLong);
      if (dst) dst[out_len] = 0;
      out_len += 1;
      cur += 1;
      break;
    }
    // len <= 63 here because the two top bits are clear.
    if (cur + 1 + len > msg_.size()) return fail(WireError::Truncated);
    if (out_len + 1 + len + 1 > kMaxNameWire) return fail(WireError::NameTooLong);
    if (dst) std::memcpy(dst + out_len, msg_.data() + cur, 1u + len);
    out_len += 1u + len;
    cur += 1u + len;
  }
  if (out) out->size_ = static_cast<uint8_t>(out_len);
  pos_ = jumped ? end_pos : cur;
}

}  // namespace tern::dns
