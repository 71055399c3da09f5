// SVCB and HTTPS RDATA (RFC 9460): SvcPriority, TargetName, then SvcParams in strictly
// increasing key order. The keys RFC 9460 defines are checked for their shape; others are
// kept opaque and printed as keyNNNNN="...".
#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "dns/rdata.hpp"
#include "dns/rdata_cursor.hpp"

namespace tern::dns::rdata {

using util::unexpected;

namespace {

constexpr uint16_t kInvalidKey = 65535;  // RFC 9460 §14.3.2: "Invalid key"

constexpr std::pair<uint16_t, std::string_view> kKeyNames[] = {
    {0, "mandatory"}, {1, "alpn"}, {2, "no-default-alpn"}, {3, "port"},
    {4, "ipv4hint"},  {5, "ech"},  {6, "ipv6hint"},
};

std::string key_to_text(uint16_t k) {
  for (auto& [v, n] : kKeyNames)
    if (v == k) return std::string(n);
  return "key" + std::to_string(k);
}

std::optional<uint16_t> key_from_text(std::string_view s) {
  for (auto& [v, n] : kKeyNames)
    if (s == n) return v;
  if (s.size() > 3 && s.substr(0, 3) == "key") {
    if (s.size() > 4 && s[3] == '0') return std::nullopt;
    auto v = parse_u16(s.substr(3));
    if (v && *v != kInvalidKey) return v;
  }
  return std::nullopt;
}

bool valid_value(uint16_t key, std::span<const uint8_t> v) {
  switch (static_cast<SvcKey>(key)) {
    case SvcKey::Mandatory: {
      if (v.empty() || v.size() % 2 != 0) return false;
      unsigned prev = 0;
      for (size_t i = 0; i < v.size(); i += 2) {
        unsigned k = load_u16(v.data() + i);
        if (k == 0 || (i > 0 && k <= prev)) return false;  // §8: no "mandatory", increasing
        prev = k;
      }
      return true;
    }
    case SvcKey::Alpn: {
      if (v.empty()) return false;
      size_t pos = 0;
      while (pos < v.size()) {
        size_t len = v[pos];
        if (len == 0 || v.size() - pos - 1 < len) return false;
        pos += 1 + len;
      }
      return true;
    }
    case SvcKey::NoDefaultAlpn: return v.empty();
    case SvcKey::Port: return v.size() == 2;
    case SvcKey::Ipv4Hint: return !v.empty() && v.size() % 4 == 0;
    case SvcKey::Ech: return true;
    case SvcKey::Ipv6Hint: return !v.empty() && v.size() % 16 == 0;
  }
  return true;
}

// Splits at commas not preceded by a backslash (RFC 9460 Appendix A.1 value lists).
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back().push_back(s[i]);
      out.back().push_back(s[++i]);
    } else if (s[i] == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

std::string value_to_text(uint16_t key, std::span<const uint8_t> v) {
  std::string s;
  switch (static_cast<SvcKey>(key)) {
    case SvcKey::Mandatory:
      for (size_t i = 0; i + 1 < v.size(); i += 2) {
        if (i) s += ",";
        s += key_to_text(load_u16(v.data() + i));
      }
      return s;
    case SvcKey::Alpn: {
      size_t pos = 0;
      while (pos < v.size()) {
        size_t len = v[pos];
        auto id = v.subspan(pos + 1, len);
        if (pos) s += ",";
        std::string esc = escape_char_string(id);
        for (char ch : esc) {
          if (ch == ',') s += "\\";  // a literal comma inside an id (RFC 9460 App. A.1)
          s.push_back(ch);
        }
        pos += 1 + len;
      }
      return "\"" + s + "\"";
    }
    case SvcKey::Port: return std::to_string(load_u16(v.data()));
    case SvcKey::Ipv4Hint:
    case SvcKey::Ipv6Hint: {
      bool v4 = key == static_cast<uint16_t>(SvcKey::Ipv4Hint);
      size_t step = v4 ? 4 : 16;
      for (size_t i = 0; i < v.size(); i += step) {
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(v4 ? AF_INET : AF_INET6, v.data() + i, buf, sizeof buf);
        if (i) s += ",";
        s += buf;
      }
      return s;
    }
    case SvcKey::Ech: return to_base64(v);
    default: return quoted_char_string(v);
  }
}

Result<Bytes> value_from_text(uint16_t key, const std::string& text) {
  Bytes out;
  auto bad = unexpected(WireError::BadText);
  switch (static_cast<SvcKey>(key)) {
    case SvcKey::Mandatory: {
      std::vector<uint16_t> keys;
      for (auto& item : split_list(text)) {
        auto k = key_from_text(item);
        if (!k) return bad;
        keys.push_back(*k);
      }
      std::sort(keys.begin(), keys.end());
      for (uint16_t k : keys) put_u16(out, k);
      return out;
    }
    case SvcKey::Alpn:
      for (auto& item : split_list(text)) {
        auto b = unescape(item, 255);
        if (!b || b->empty()) return bad;
        out.push_back(static_cast<uint8_t>(b->size()));
        put_bytes(out, *b);
      }
      return out;
    case SvcKey::NoDefaultAlpn:
      if (!text.empty()) return bad;
      return out;
    case SvcKey::Port: {
      auto p = parse_u16(text);
      if (!p) return bad;
      put_u16(out, *p);
      return out;
    }
    case SvcKey::Ipv4Hint:
    case SvcKey::Ipv6Hint: {
      bool v4 = key == static_cast<uint16_t>(SvcKey::Ipv4Hint);
      for (auto& item : split_list(text)) {
        uint8_t a[16];
        if (inet_pton(v4 ? AF_INET : AF_INET6, item.c_str(), a) != 1) return bad;
        out.insert(out.end(), a, a + (v4 ? 4 : 16));
      }
      return out;
    }
    case SvcKey::Ech: {
      auto b = from_base64(text);
      if (!b) return bad;
      return std::move(*b);
    }
    default: {
      auto b = unescape(text, 65535);
      if (!b) return bad;
      return std::move(*b);
    }
  }
}

}  // namespace

const SvcParam* Svcb::find(SvcKey k) const {
  for (auto& p : params)
    if (p.key == static_cast<uint16_t>(k)) return &p;
  return nullptr;
}

Result<Svcb> Svcb::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Svcb s;
  s.priority = c.u16();
  s.target = c.name();
  if (!c.ok()) return unexpected(c.error());
  int prev = -1;
  while (!c.at_end()) {
    if (c.remaining() < 4) return unexpected(WireError::RdataLengthMismatch);
    uint16_t key = c.u16();
    uint16_t len = c.u16();
    auto v = c.bytes(len);
    if (!c.ok()) return unexpected(c.error());
    // RFC 9460 §2.2: keys strictly increasing; §14.3.2: 65535 is invalid.
    if (static_cast<int>(key) <= prev || key == kInvalidKey) return unexpected(WireError::BadSvcParam);
    if (!valid_value(key, v)) return unexpected(WireError::BadSvcParam);
    s.params.push_back({key, {v.begin(), v.end()}});
    prev = key;
  }
  // RFC 9460 §8: every key listed as mandatory must be present.
  if (const SvcParam* m = s.find(SvcKey::Mandatory)) {
    for (size_t i = 0; i + 1 < m->value.size(); i += 2) {
      uint16_t k = load_u16(m->value.data() + i);
      bool present = std::any_of(s.params.begin(), s.params.end(),
                                 [&](const SvcParam& p) { return p.key == k; });
      if (!present) return unexpected(WireError::BadSvcParam);
    }
  }
  return s;
}

void Svcb::encode(Bytes& out) const {
  put_u16(out, priority);
  put_name(out, target);
  for (auto& p : params) {
    put_u16(out, p.key);
    put_u16(out, static_cast<uint16_t>(p.value.size()));
    put_bytes(out, p.value);
  }
}

std::string Svcb::to_text() const {
  std::string s = std::to_string(priority) + " " + target.to_text();
  for (auto& p : params) {
    s += ' ';
    s += key_to_text(p.key);
    if (p.key == static_cast<uint16_t>(SvcKey::NoDefaultAlpn) && p.value.empty()) continue;
    s += '=';
    s += value_to_text(p.key, p.value);
  }
  return s;
}

Result<Svcb> Svcb::from_text(Tokens t, const Name& origin) {
  if (t.size() < 2) return unexpected(WireError::BadText);
  auto prio = parse_u16(t[0].text);
  auto target = name_from_token(t[1].text, origin);
  if (!prio || !target) return unexpected(WireError::BadText);
  Svcb s{*prio, *target, {}};
  for (size_t i = 2; i < t.size(); ++i) {
    const std::string& tok = t[i].text;
    size_t eq = tok.find('=');
    auto key = key_from_text(std::string_view(tok).substr(0, eq));
    if (!key) return unexpected(WireError::BadText);
    std::string value = eq == std::string::npos ? std::string() : tok.substr(eq + 1);
    auto v = value_from_text(*key, value);
    if (!v) return unexpected(v.error());
    s.params.push_back({*key, std::move(*v)});
  }
  std::sort(s.params.begin(), s.params.end(),
            [](const SvcParam& a, const SvcParam& b) { return a.key < b.key; });
  // Whatever text we accept must also be valid wire form: duplicates, shapes, mandatory.
  Bytes wire;
  s.encode(wire);
  auto back = decode(wire);
  if (!back) return unexpected(back.error());
  return s;
}

}  // namespace tern::dns::rdata
