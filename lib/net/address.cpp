#include "net/address.hpp"

#include <cstring>

namespace tern::net {
namespace {

using util::unexpected;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool has_blank(std::string_view s) {
  for (char c : s)
    if (is_blank(c)) return true;
  return false;
}

ParseError err(Errc c, std::size_t part = 0) { return ParseError{c, static_cast<uint8_t>(part)}; }

// Strict dotted quad. Errors name the dotted part (1-4) the operator typed, also when the
// quad is the tail of an IPv6 literal.
util::Expected<std::array<uint8_t, 4>, ParseError> parse_quad(std::string_view s) {
  std::array<uint8_t, 4> out{};
  std::size_t dots = 0;
  for (char c : s) dots += c == '.';
  if (dots != 3) return unexpected(err(Errc::WrongPartCount));
  std::size_t part = 0;
  std::size_t i = 0;
  while (true) {
    if (part == 4) return unexpected(err(Errc::WrongPartCount));
    std::size_t start = i;
    while (i < s.size() && s[i] != '.') ++i;
    std::string_view p = s.substr(start, i - start);
    const std::size_t n = part + 1;
    if (p.empty()) return unexpected(err(Errc::EmptyPart, n));
    if (p.size() >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
      return unexpected(err(Errc::HexPrefix, n));
    for (char c : p)
      if (!is_digit(c)) return unexpected(err(Errc::InvalidCharacter, n));
    if (p.size() > 1 && p[0] == '0') return unexpected(err(Errc::LeadingZero, n));
    if (p.size() > 3) return unexpected(err(Errc::PartTooLarge, n));
    unsigned v = 0;
    for (char c : p) v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > 255) return unexpected(err(Errc::PartTooLarge, n));
    out[part++] = static_cast<uint8_t>(v);
    if (i == s.size()) break;
    ++i;  // the dot
    if (i == s.size()) return unexpected(err(Errc::EmptyPart, part + 1));
  }
  if (part != 4) return unexpected(err(Errc::WrongPartCount));
  return out;
}

}  // namespace

bool Address::is_v4_mapped() const {
  if (!is_v6()) return false;
  for (std::size_t i = 0; i < 10; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

Address Address::unmapped() const {
  if (!is_v4_mapped()) return *this;
  return v4(bytes_[12], bytes_[13], bytes_[14], bytes_[15]);
}

Address Address::to_v4_mapped() const {
  if (!is_v4()) return *this;
  std::array<uint8_t, 16> b{};
  b[10] = 0xff;
  b[11] = 0xff;
  std::memcpy(&b[12], bytes_.data(), 4);
  return v6(b);
}

std::string Address::to_string() const {
  auto quad = [](const uint8_t* p) {
    std::string s;
    for (int i = 0; i < 4; ++i) {
      if (i) s += '.';
      s += std::to_string(p[i]);
    }
    return s;
  };
  if (is_v4()) return quad(bytes_.data());

  // RFC 5952 §5: IPv4-mapped addresses keep their dotted tail.
  if (is_v4_mapped()) return "::ffff:" + quad(&bytes_[12]);

  uint16_t g[8];
  for (int i = 0; i < 8; ++i)
    g[i] = static_cast<uint16_t>((bytes_[2 * static_cast<std::size_t>(i)] << 8) |
                                 bytes_[2 * static_cast<std::size_t>(i) + 1]);
  // RFC 5952 §4.2: compress the longest run of two or more zero groups; on a tie, the first.
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;  // §4.2.2: never `::` for a single zero group

  static constexpr char kHex[] = "0123456789abcdef";  // §4.3: lower case
  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      s += "::";
      i += best_len - 1;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ':';
    // §4.1: no leading zeros.
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nib = (g[i] >> shift) & 0xfu;
      if (nib || started || shift == 0) {
        s += kHex[nib];
        started = true;
      }
    }
  }
  return s;
}

util::Expected<Address, ParseError> parse_ipv4(std::string_view text) {
  if (text.empty()) return unexpected(err(Errc::Empty));
  if (has_blank(text)) return unexpected(err(Errc::Whitespace));
  auto q = parse_quad(text);
  if (!q) return unexpected(q.error());
  return Address::v4((*q)[0], (*q)[1], (*q)[2], (*q)[3]);
}

util::Expected<Address, ParseError> parse_ipv6(std::string_view text) {
  if (text.empty()) return unexpected(err(Errc::Empty));
  if (has_blank(text)) return unexpected(err(Errc::Whitespace));
  if (text.find('%') != std::string_view::npos) return unexpected(err(Errc::ZoneIdNotSupported));

  // Split around the single `::`, if any.
  const std::size_t dc = text.find("::");
  if (dc != std::string_view::npos && text.find("::", dc + 1) != std::string_view::npos) {
    // `:::` is a stray colon next to `::`, not a second `::`.
    if (text.find(":::") != std::string_view::npos) return unexpected(err(Errc::StrayColon));
    return unexpected(err(Errc::MultipleDoubleColon));
  }
  std::string_view head = dc == std::string_view::npos ? text : text.substr(0, dc);
  std::string_view tail = dc == std::string_view::npos ? std::string_view{} : text.substr(dc + 2);

  uint16_t groups[8] = {};
  std::size_t n_head = 0, n_tail = 0;
  uint16_t tail_groups[8] = {};

  // Parses one side into `out`; `first_index` numbers groups as the operator counts them.
  auto parse_side = [&](std::string_view side, uint16_t* out, std::size_t& n, bool last_side,
                        std::size_t first_index) -> util::Expected<void, ParseError> {
    if (side.empty()) return {};
    if (side.front() == ':' || side.back() == ':') return unexpected(err(Errc::StrayColon));
    std::size_t i = 0;
    while (i <= side.size()) {
      std::size_t j = side.find(':', i);
      if (j == std::string_view::npos) j = side.size();
      std::string_view g = side.substr(i, j - i);
      const std::size_t index = first_index + n + 1;
      if (g.empty()) return unexpected(err(Errc::StrayColon, index));
      if (g.find('.') != std::string_view::npos) {
        // RFC 4291 §2.2 form 3: dotted IPv4 only as the final 32 bits.
        if (j != side.size() || !last_side) return unexpected(err(Errc::MisplacedIpv4, index));
        auto q = parse_quad(g);
        if (!q) return unexpected(q.error());
        if (n + 2 > 8) return unexpected(err(Errc::TooManyGroups));
        out[n++] = static_cast<uint16_t>(((*q)[0] << 8) | (*q)[1]);
        out[n++] = static_cast<uint16_t>(((*q)[2] << 8) | (*q)[3]);
      } else {
        if (g.size() > 4) {
          for (char c : g)
            if (hex_value(c) < 0) return unexpected(err(Errc::InvalidCharacter, index));
          return unexpected(err(Errc::GroupTooLong, index));
        }
        unsigned v = 0;
        for (char c : g) {
          int h = hex_value(c);
          if (h < 0) return unexpected(err(Errc::InvalidCharacter, index));
          v = (v << 4) | static_cast<unsigned>(h);
        }
        if (n == 8) return unexpected(err(Errc::TooManyGroups));
        out[n++] = static_cast<uint16_t>(v);
      }
      i = j + 1;
    }
    return {};
  };

  const bool compressed = dc != std::string_view::npos;
  if (auto r = parse_side(head, groups, n_head, !compressed, 0); !r) return unexpected(r.error());
  if (compressed) {
    if (auto r = parse_side(tail, tail_groups, n_tail, true, n_head); !r)
      return unexpected(r.error());
    // `::` stands for at least one zero group (RFC 4291 §2.2 form 2).
    if (n_head + n_tail > 7) return unexpected(err(Errc::TooManyGroups));
    for (std::size_t k = 0; k < n_tail; ++k) groups[8 - n_tail + k] = tail_groups[k];
  } else if (n_head != 8) {
    return unexpected(err(n_head > 8 ? Errc::TooManyGroups : Errc::TooFewGroups));
  }

  std::array<uint8_t, 16> b{};
  for (std::size_t k = 0; k < 8; ++k) {
    b[2 * k] = static_cast<uint8_t>(groups[k] >> 8);
    b[2 * k + 1] = static_cast<uint8_t>(groups[k]);
  }
  return Address::v6(b);
}

util::Expected<Address, ParseError> parse_address(std::string_view text) {
  if (text.find(':') != std::string_view::npos || text.find('%') != std::string_view::npos)
    return parse_ipv6(text);
  return parse_ipv4(text);
}

}  // namespace tern::net
