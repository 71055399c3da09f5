#include "net/prefix.hpp"

namespace tern::net {
namespace {

using util::unexpected;

std::array<uint8_t, 16> masked(const std::array<uint8_t, 16>& b, unsigned length) {
  std::array<uint8_t, 16> out{};
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bit = i * 8;
    if (length >= bit + 8) {
      out[i] = b[i];
    } else if (length > bit) {
      out[i] = static_cast<uint8_t>(b[i] & (0xffu << (8 - (length - bit))));
    }
  }
  return out;
}

Address with_bytes(const Address& like, const std::array<uint8_t, 16>& b) {
  if (like.is_v6()) return Address::v6(b);
  return Address::v4(b[0], b[1], b[2], b[3]);
}

}  // namespace

Prefix Prefix::make(const Address& network, unsigned length) {
  if (length > network.bit_width()) length = static_cast<unsigned>(network.bit_width());
  Prefix p;
  p.network_ = with_bytes(network, masked(network.bytes(), length));
  p.length_ = static_cast<uint8_t>(length);
  return p;
}

bool Prefix::contains(const Address& a) const {
  if (a.family() != network_.family()) return false;
  return masked(a.bytes(), length_) == network_.bytes();
}

bool Prefix::contains(const Prefix& other) const {
  return other.length_ >= length_ && contains(other.network_);
}

std::string Prefix::to_string() const {
  return network_.to_string() + '/' + std::to_string(length_);
}

util::Expected<Prefix, ParseError> parse_prefix(std::string_view text) {
  if (text.empty()) return unexpected(ParseError{Errc::Empty});
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return unexpected(ParseError{Errc::PrefixLengthMissing});
  auto a = parse_address(text.substr(0, slash));
  if (!a) return unexpected(a.error());
  std::string_view len = text.substr(slash + 1);
  if (len.empty()) return unexpected(ParseError{Errc::PrefixLengthMissing});
  for (char c : len)
    if (c < '0' || c > '9') return unexpected(ParseError{Errc::PrefixLengthInvalid});
  if (len.size() > 1 && len[0] == '0') return unexpected(ParseError{Errc::PrefixLengthInvalid});
  if (len.size() > 3) return unexpected(ParseError{Errc::PrefixLengthTooLarge});
  unsigned n = 0;
  for (char c : len) n = n * 10 + static_cast<unsigned>(c - '0');
  if (n > a->bit_width()) return unexpected(ParseError{Errc::PrefixLengthTooLarge});
  Prefix p = Prefix::make(*a, n);
  if (p.network() != *a) return unexpected(ParseError{Errc::HostBitsSet});
  return p;
}

}  // namespace tern::net
