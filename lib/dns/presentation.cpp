#include "dns/presentation.hpp"

#include <charconv>
#include <cstdio>

namespace tern::dns {

using util::Expected;
using util::unexpected;

Expected<std::vector<Token>, WireError> tokenize(std::string_view line) {
  std::vector<Token> out;
  size_t i = 0;
  const size_t n = line.size();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (i < n) {
    char c = line[i];
    if (is_space(c) || c == '(' || c == ')') {
      ++i;
      continue;
    }
    if (c == ';') break;
    Token t;
    while (i < n) {
      c = line[i];
      if (c == '\\') {
        if (i + 1 >= n) return unexpected(WireError::BadText);
        t.text.push_back(c);
        t.text.push_back(line[i + 1]);
        i += 2;
        continue;
      }
      if (c == '"') {
        t.quoted = true;
        ++i;
        bool closed = false;
        while (i < n) {
          if (line[i] == '\\') {
            if (i + 1 >= n) return unexpected(WireError::BadText);
            t.text.push_back(line[i]);
            t.text.push_back(line[i + 1]);
            i += 2;
            continue;
          }
          if (line[i] == '"') {
            closed = true;
            ++i;
            break;
          }
          t.text.push_back(line[i++]);
        }
        if (!closed) return unexpected(WireError::BadText);
        continue;
      }
      if (is_space(c) || c == '(' || c == ')' || c == ';') break;
      t.text.push_back(c);
      ++i;
    }
    out.push_back(std::move(t));
  }
  return out;
}

Expected<std::vector<uint8_t>, WireError> unescape(std::string_view s, size_t max) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    uint8_t b;
    if (s[i] == '\\') {
      if (i + 1 >= s.size()) return unexpected(WireError::BadText);
      char d = s[i + 1];
      if (d >= '0' && d <= '9') {
        if (i + 3 >= s.size()) return unexpected(WireError::BadText);
        unsigned v = 0;
        for (size_t k = 1; k <= 3; ++k) {
          char e = s[i + k];
          if (e < '0' || e > '9') return unexpected(WireError::BadText);
          v = v * 10 + static_cast<unsigned>(e - '0');
        }
        if (v > 255) return unexpected(WireError::BadText);
        b = static_cast<uint8_t>(v);
        i += 3;
      } else {
        b = static_cast<uint8_t>(d);
        i += 1;
      }
    } else {
      b = static_cast<uint8_t>(s[i]);
    }
    if (out.size() >= max) return unexpected(WireError::BadText);
    out.push_back(b);
  }
  return out;
}

std::string escape_char_string(std::span<const uint8_t> s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (uint8_t c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c > 0x7e) {
      char buf[5];
      (void)std::snprintf(buf, sizeof buf, "\\%03u", c);  // c < 256: always 4 chars + NUL
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string quoted_char_string(std::span<const uint8_t> s) {
  std::string out(1, '"');
  out += escape_char_string(s);
  out += '"';
  return out;
}

Expected<Name, WireError> name_from_token(std::string_view text, const Name& origin) {
  if (text == "@") return origin;
  if (text.empty()) return unexpected(WireError::BadText);
  return Name::from_text(text, origin);
}

namespace {
template <class T>
std::optional<T> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<uint8_t> parse_u8(std::string_view s) { return parse_uint<uint8_t>(s); }
std::optional<uint16_t> parse_u16(std::string_view s) { return parse_uint<uint16_t>(s); }
std::optional<uint32_t> parse_u32(std::string_view s) { return parse_uint<uint32_t>(s); }

std::string to_hex(std::span<const uint8_t> b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 0xF]);
  }
  return s;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Expected<std::vector<uint8_t>, WireError> from_hex(std::string_view s) {
  if (s.size() % 2 != 0) return unexpected(WireError::BadText);
  std::vector<uint8_t> out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return unexpected(WireError::BadText);
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB32Hex[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
int b32hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'V') return c - 'A' + 10;
  if (c >= 'a' && c <= 'v') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::string to_base64(std::span<const uint8_t> b) {
  std::string s;
  s.reserve((b.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    for (int k = 3; k >= 0; --k) s.push_back(kB64[(v >> (6 * k)) & 63]);
  }
  size_t rest = b.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{b[i]} << 16;
    s.push_back(kB64[(v >> 18) & 63]);
    s.push_back(kB64[(v >> 12) & 63]);
    s += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8);
    s.push_back(kB64[(v >> 18) & 63]);
    s.push_back(kB64[(v >> 12) & 63]);
    s.push_back(kB64[(v >> 6) & 63]);
    s.push_back('=');
  }
  return s;
}

Expected<std::vector<uint8_t>, WireError> from_base64(std::string_view s) {
  if (s.size() % 4 != 0) return unexpected(WireError::BadText);
  std::vector<uint8_t> out;
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + static_cast<size_t>(k)];
      if (c == '=') {
        // Padding only in the last quantum, only in its last two places, and only trailing.
        if (i + 4 != s.size() || k < 2) return unexpected(WireError::BadText);
        ++pad;
        v[k] = 0;
        continue;
      }
      if (pad) return unexpected(WireError::BadText);
      v[k] = b64_value(c);
      if (v[k] < 0) return unexpected(WireError::BadText);
    }
    uint32_t q = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<uint8_t>(q >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(q >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(q));
  }
  return out;
}

std::string to_base32hex(std::span<const uint8_t> b) {
  std::string s;
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t c : b) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      s.push_back(kB32Hex[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) s.push_back(kB32Hex[(buffer << (5 - bits)) & 31]);
  return s;
}

Expected<std::vector<uint8_t>, WireError> from_base32hex(std::string_view s) {
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : s) {
    int v = b32hex_value(c);
    if (v < 0) return unexpected(WireError::BadText);
    buffer = ((buffer << 5) | static_cast<uint32_t>(v)) & 0xFFFu;
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  // Leftover bits must be zero and fewer than 5 (no padding form in NSEC3 text).
  if (bits >= 5 || (buffer & ((1u << bits) - 1u)) != 0) return unexpected(WireError::BadText);
  return out;
}

namespace {
// Howard Hinnant's days_from_civil / civil_from_days, for UTC without time zones.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
}  // namespace

std::string time_to_text(uint32_t t) {
  int64_t z = t / 86400 + 719468;
  unsigned secs = t % 86400;
  const int64_t era = z / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[32];
  // t is 32-bit: the year is 1970..2106 and the rest two digits each, 14 chars + NUL.
  (void)std::snprintf(buf, sizeof buf, "%04lld%02u%02u%02u%02u%02u", static_cast<long long>(y), m,
                      d, secs / 3600, (secs / 60) % 60, secs % 60);
  return buf;
}

std::optional<uint32_t> time_from_text(std::string_view s) {
  if (s.size() != 14) return parse_u32(s);  // RFC 4034 §3.2: a plain integer is allowed
  unsigned f[6];
  const size_t widths[6] = {4, 2, 2, 2, 2, 2};
  size_t pos = 0;
  for (int k = 0; k < 6; ++k) {
    auto v = parse_u16(s.substr(pos, widths[k]));
    if (!v) return std::nullopt;
    f[k] = *v;
    pos += widths[k];
  }
  if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60)
    return std::nullopt;
  int64_t secs =
      days_from_civil(f[0], f[1], f[2]) * 86400 + int64_t{f[3]} * 3600 + int64_t{f[4]} * 60 + f[5];
  if (secs < 0 || secs > 0xFFFFFFFFLL) return std::nullopt;
  return static_cast<uint32_t>(secs);
}

std::string chunked(const std::string& s, size_t width) {
  std::string out;
  out.reserve(s.size() + s.size() / width + 1);
  for (size_t i = 0; i < s.size(); i += width) {
    if (i) out.push_back(' ');
    out.append(s, i, width);
  }
  return out;
}

std::string join_tokens(std::span<const Token> tokens, size_t from) {
  std::string s;
  for (size_t i = from; i < tokens.size(); ++i) s += tokens[i].text;
  return s;
}

std::string generic_rdata_to_text(std::span<const uint8_t> rdata) {
  std::string s = "\\# " + std::to_string(rdata.size());
  if (!rdata.empty()) {
    s += ' ';
    s += to_hex(rdata);
  }
  return s;
}

Expected<std::vector<uint8_t>, WireError> generic_rdata_from_text(std::span<const Token> t) {
  if (t.size() < 2 || t[0].text != "\\#") return unexpected(WireError::BadText);
  auto len = parse_u16(t[1].text);
  if (!len) return unexpected(WireError::BadText);
  auto data = from_hex(join_tokens(t, 2));
  if (!data) return data;
  if (data->size() != *len) return unexpected(WireError::BadText);
  return data;
}

}  // namespace tern::dns
