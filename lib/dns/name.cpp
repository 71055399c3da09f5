#include "dns/name.hpp"

#include <algorithm>
#include <cstring>

namespace tern::dns {

using util::Expected;
using util::unexpected;

Expected<Name, WireError> Name::from_wire(std::span<const uint8_t> wire) {
  if (wire.empty()) return unexpected(WireError::Truncated);
  if (wire.size() > kMaxNameWire) return unexpected(WireError::NameTooLong);
  size_t pos = 0;
  while (true) {
    if (pos >= wire.size()) return unexpected(WireError::Truncated);
    uint8_t len = wire[pos];
    if (len == 0) break;
    if ((len & 0xC0) == 0xC0) return unexpected(WireError::PointerNotBackward);
    if (len & 0xC0) return unexpected(WireError::BadLabelType);
    pos += 1u + len;
  }
  if (pos + 1 != wire.size()) return unexpected(WireError::TrailingData);
  Name n;
  std::memcpy(n.data_.data(), wire.data(), wire.size());
  n.size_ = static_cast<uint8_t>(wire.size());
  return n;
}

Expected<Name, WireError> Name::from_text(std::string_view text) {
  return from_text(text, Name::root());
}

Expected<Name, WireError> Name::from_text(std::string_view text, const Name& origin) {
  if (text.empty() || text == ".") return Name::root();
  Name n;
  size_t out = 0;
  uint8_t label[kMaxLabel + 1];
  size_t llen = 0;
  bool absolute = false;
  auto flush = [&]() -> bool {
    if (llen == 0) return false;  // empty label ("a..b", leading dot)
    if (out + 1 + llen + 1 > kMaxNameWire) return false;
    n.data_[out++] = static_cast<uint8_t>(llen);
    std::memcpy(&n.data_[out], label, llen);
    out += llen;
    llen = 0;
    return true;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    uint8_t byte;
    if (c == '.') {
      if (!flush()) return unexpected(llen == 0 ? WireError::BadText : WireError::NameTooLong);
      if (i + 1 == text.size()) absolute = true;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return unexpected(WireError::BadText);
      char d = text[i + 1];
      if (d >= '0' && d <= '9') {
        if (i + 3 >= text.size()) return unexpected(WireError::BadText);
        unsigned v = 0;
        for (size_t k = 1; k <= 3; ++k) {
          char e = text[i + k];
          if (e < '0' || e > '9') return unexpected(WireError::BadText);
          v = v * 10 + static_cast<unsigned>(e - '0');
        }
        if (v > 255) return unexpected(WireError::BadText);
        byte = static_cast<uint8_t>(v);
        i += 3;
      } else {
        byte = static_cast<uint8_t>(d);
        i += 1;
      }
    } else {
      byte = static_cast<uint8_t>(c);
    }
    if (llen >= kMaxLabel) return unexpected(WireError::LabelTooLong);
    label[llen++] = byte;
  }
  if (llen > 0 && !flush()) return unexpected(WireError::NameTooLong);
  if (!absolute && !origin.is_root()) {
    if (out + origin.size_ > kMaxNameWire) return unexpected(WireError::NameTooLong);
    std::memcpy(&n.data_[out], origin.data_.data(), origin.size_);
    n.size_ = static_cast<uint8_t>(out + origin.size_);
    return n;
  }
  n.data_[out++] = 0;
  n.size_ = static_cast<uint8_t>(out);
  return n;
}

std::string Name::to_text() const {
  if (is_root()) return ".";
  std::string s;
  s.reserve(size_ + 8);
  size_t pos = 0;
  while (data_[pos] != 0) {
    uint8_t len = data_[pos++];
    for (uint8_t k = 0; k < len; ++k) {
      uint8_t c = data_[pos++];
      if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
          c == '$') {
        s.push_back('\\');
        s.push_back(static_cast<char>(c));
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        buf[0] = '\\';
        buf[1] = static_cast<char>('0' + c / 100);
        buf[2] = static_cast<char>('0' + (c / 10) % 10);
        buf[3] = static_cast<char>('0' + c % 10);
        s.append(buf, 4);
      } else {
        s.push_back(static_cast<char>(c));
      }
    }
    s.push_back('.');
  }
  return s;
}

unsigned Name::label_count() const {
  unsigned n = 0;
  for (size_t pos = 0; data_[pos] != 0; pos += 1u + data_[pos]) ++n;
  return n;
}

std::span<const uint8_t> Name::label(unsigned i) const {
  size_t pos = 0;
  for (unsigned k = 0; k < i && data_[pos] != 0; ++k) pos += 1u + data_[pos];
  return {data_.data() + pos + 1, data_[pos]};
}

bool Name::operator==(const Name& o) const {
  if (size_ != o.size_) return false;
  for (size_t i = 0; i < size_; ++i)
    if (ascii_lower(data_[i]) != ascii_lower(o.data_[i])) return false;
  return true;
}

bool Name::equals_exact(const Name& o) const {
  return size_ == o.size_ && std::memcmp(data_.data(), o.data_.data(), size_) == 0;
}

bool Name::is_subdomain_of(const Name& ancestor) const {
  if (ancestor.size_ > size_) return false;
  // Walk label boundaries until the remaining suffix has the ancestor's length.
  size_t pos = 0;
  while (size_ - pos > ancestor.size_) pos += 1u + data_[pos];
  if (size_ - pos != ancestor.size_) return false;
  for (size_t i = 0; i < ancestor.size_; ++i)
    if (ascii_lower(data_[pos + i]) != ascii_lower(ancestor.data_[i])) return false;
  return true;
}

int Name::canonical_compare(const Name& o) const {
  // Compare label by label from the right, each label as lower-cased octet strings.
  unsigned na = label_count(), nb = o.label_count();
  unsigned common = std::min(na, nb);
  for (unsigned k = 1; k <= common; ++k) {
    auto la = label(na - k), lb = o.label(nb - k);
    size_t m = std::min(la.size(), lb.size());
    for (size_t i = 0; i < m; ++i) {
      uint8_t a = ascii_lower(la[i]), b = ascii_lower(lb[i]);
      if (a != b) return a < b ? -1 : 1;
    }
    if (la.size() != lb.size()) return la.size() < lb.size() ? -1 : 1;
  }
  if (na == nb) return 0;
  return na < nb ? -1 : 1;
}

Name Name::parent() const {
  if (is_root()) return *this;
  Name p;
  size_t skip = 1u + data_[0];
  p.size_ = static_cast<uint8_t>(size_ - skip);
  std::memcpy(p.data_.data(), data_.data() + skip, p.size_);
  return p;
}

Name Name::suffix(unsigned labels) const {
  unsigned total = label_count();
  if (labels >= total) return *this;
  size_t pos = 0;
  for (unsigned k = 0; k < total - labels; ++k) pos += 1u + data_[pos];
  Name s;
  s.size_ = static_cast<uint8_t>(size_ - pos);
  std::memcpy(s.data_.data(), data_.data() + pos, s.size_);
  return s;
}

Name Name::lowered() const {
  Name l = *this;
  l.to_lower();
  return l;
}

void Name::to_lower() {
  for (size_t pos = 0; data_[pos] != 0; pos += 1u + data_[pos]) {
    for (size_t i = pos + 1; i <= pos + data_[pos]; ++i) data_[i] = ascii_lower(data_[i]);
  }
}

Expected<Name, WireError> Name::replace_suffix(const Name& old_suffix,
                                               const Name& new_suffix) const {
  if (!is_subdomain_of(old_suffix)) return unexpected(WireError::BadText);
  size_t keep = size_ - old_suffix.size_;  // octets of the labels above old_suffix
  if (keep + new_suffix.size_ > kMaxNameWire) return unexpected(WireError::NameTooLong);
  Name r;
  std::memcpy(r.data_.data(), data_.data(), keep);
  std::memcpy(r.data_.data() + keep, new_suffix.data_.data(), new_suffix.size_);
  r.size_ = static_cast<uint8_t>(keep + new_suffix.size_);
  return r;
}

Expected<Name, WireError> Name::prepend(std::span<const uint8_t> lab) const {
  if (lab.empty()) return unexpected(WireError::BadText);
  if (lab.size() > kMaxLabel) return unexpected(WireError::LabelTooLong);
  if (size_ + 1 + lab.size() > kMaxNameWire) return unexpected(WireError::NameTooLong);
  Name r;
  r.data_[0] = static_cast<uint8_t>(lab.size());
  std::memcpy(r.data_.data() + 1, lab.data(), lab.size());
  std::memcpy(r.data_.data() + 1 + lab.size(), data_.data(), size_);
  r.size_ = static_cast<uint8_t>(size_ + 1 + lab.size());
  return r;
}

size_t Name::hash() const {
  // FNV-1a over the lower-cased wire form.
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size_; ++i) {
    h ^= ascii_lower(data_[i]);
    h *= 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

}  // namespace tern::dns
