// Typed RDATA of the RFC 1035 family and friends: A AAAA NS CNAME DNAME PTR SOA MX TXT SRV CAA,
// and Unknown (RFC 3597).
#include <arpa/inet.h>

#include <algorithm>

#include "dns/rdata.hpp"
#include "dns/rdata_cursor.hpp"

namespace tern::dns::rdata {

using util::unexpected;

namespace {
constexpr auto kBadText = WireError::BadText;
}  // namespace

// ---- A / AAAA -------------------------------------------------------------------------------

Result<A> A::decode(std::span<const uint8_t> d) {
  if (d.size() != 4) return unexpected(WireError::RdataLengthMismatch);
  A a;
  std::copy(d.begin(), d.end(), a.addr.begin());
  return a;
}
void A::encode(Bytes& out) const { put_bytes(out, addr); }
std::string A::to_text() const {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, addr.data(), buf, sizeof buf);
  return buf;
}
Result<A> A::from_text(Tokens t, const Name&) {
  A a;
  if (t.size() != 1 || inet_pton(AF_INET, t[0].text.c_str(), a.addr.data()) != 1)
    return unexpected(kBadText);
  return a;
}

Result<Aaaa> Aaaa::decode(std::span<const uint8_t> d) {
  if (d.size() != 16) return unexpected(WireError::RdataLengthMismatch);
  Aaaa a;
  std::copy(d.begin(), d.end(), a.addr.begin());
  return a;
}
void Aaaa::encode(Bytes& out) const { put_bytes(out, addr); }
std::string Aaaa::to_text() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, addr.data(), buf, sizeof buf);
  return buf;
}
Result<Aaaa> Aaaa::from_text(Tokens t, const Name&) {
  Aaaa a;
  if (t.size() != 1 || inet_pton(AF_INET6, t[0].text.c_str(), a.addr.data()) != 1)
    return unexpected(kBadText);
  return a;
}

// ---- single-name types ------------------------------------------------------------------------

#define TERN_ONE_NAME_RDATA(T, field)                                   \
  Result<T> T::decode(std::span<const uint8_t> d) {                     \
    RdataCursor c(d);                                                   \
    T v;                                                                \
    v.field = c.name();                                                 \
    return finish(c, std::move(v));                                     \
  }                                                                     \
  void T::encode(Bytes& out) const { put_name(out, field); }            \
  std::string T::to_text() const { return (field).to_text(); }          \
  Result<T> T::from_text(Tokens t, const Name& origin) {                \
    if (t.size() != 1) return unexpected(kBadText);                     \
    auto n = name_from_token(t[0].text, origin);                        \
    if (!n) return unexpected(n.error());                               \
    T v;                                                                \
    v.field = *n;                                                       \
    return v;                                                           \
  }

TERN_ONE_NAME_RDATA(Ns, nsdname)
TERN_ONE_NAME_RDATA(Cname, target)
TERN_ONE_NAME_RDATA(Dname, target)
TERN_ONE_NAME_RDATA(Ptr, ptrdname)
#undef TERN_ONE_NAME_RDATA

// ---- SOA ----------------------------------------------------------------------------------------

Result<Soa> Soa::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Soa s;
  s.mname = c.name();
  s.rname = c.name();
  s.serial = c.u32();
  s.refresh = c.u32();
  s.retry = c.u32();
  s.expire = c.u32();
  s.minimum = c.u32();
  return finish(c, s);
}
void Soa::encode(Bytes& out) const {
  put_name(out, mname);
  put_name(out, rname);
  for (uint32_t v : {serial, refresh, retry, expire, minimum}) put_u32(out, v);
}
std::string Soa::to_text() const {
  return mname.to_text() + " " + rname.to_text() + " " + std::to_string(serial) + " " +
         std::to_string(refresh) + " " + std::to_string(retry) + " " + std::to_string(expire) +
         " " + std::to_string(minimum);
}
Result<Soa> Soa::from_text(Tokens t, const Name& origin) {
  if (t.size() != 7) return unexpected(kBadText);
  auto m = name_from_token(t[0].text, origin);
  auto r = name_from_token(t[1].text, origin);
  if (!m || !r) return unexpected(kBadText);
  Soa s;
  s.mname = *m;
  s.rname = *r;
  uint32_t* f[5] = {&s.serial, &s.refresh, &s.retry, &s.expire, &s.minimum};
  for (size_t i = 0; i < 5; ++i) {
    auto v = parse_u32(t[2 + i].text);
    if (!v) return unexpected(kBadText);
    *f[i] = *v;
  }
  return s;
}

// ---- MX -----------------------------------------------------------------------------------------

Result<Mx> Mx::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Mx m;
  m.preference = c.u16();
  m.exchange = c.name();
  return finish(c, m);
}
void Mx::encode(Bytes& out) const {
  put_u16(out, preference);
  put_name(out, exchange);
}
std::string Mx::to_text() const {
  return std::to_string(preference) + " " + exchange.to_text();
}
Result<Mx> Mx::from_text(Tokens t, const Name& origin) {
  if (t.size() != 2) return unexpected(kBadText);
  auto p = parse_u16(t[0].text);
  auto n = name_from_token(t[1].text, origin);
  if (!p || !n) return unexpected(kBadText);
  return Mx{*p, *n};
}

// ---- TXT ----------------------------------------------------------------------------------------

Result<Txt> Txt::decode(std::span<const uint8_t> d) {
  if (d.empty()) return unexpected(WireError::RdataLengthMismatch);  // "one or more" strings
  RdataCursor c(d);
  Txt t;
  while (c.ok() && !c.at_end()) {
    uint8_t len = c.u8();
    auto b = c.bytes(len);
    if (c.ok()) t.strings.emplace_back(b.begin(), b.end());
  }
  return finish(c, std::move(t));
}
void Txt::encode(Bytes& out) const {
  for (auto& s : strings) {
    out.push_back(static_cast<uint8_t>(s.size()));
    put_bytes(out, s);
  }
}
std::string Txt::to_text() const {
  std::string s;
  for (auto& str : strings) {
    if (!s.empty()) s.push_back(' ');
    s += quoted_char_string(str);
  }
  return s;
}
Result<Txt> Txt::from_text(Tokens t, const Name&) {
  if (t.empty()) return unexpected(kBadText);
  Txt txt;
  for (auto& tok : t) {
    auto b = unescape(tok.text, 255);
    if (!b) return unexpected(b.error());
    txt.strings.push_back(std::move(*b));
  }
  return txt;
}

// ---- SRV ----------------------------------------------------------------------------------------

Result<Srv> Srv::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Srv s;
  s.priority = c.u16();
  s.weight = c.u16();
  s.port = c.u16();
  s.target = c.name();
  return finish(c, s);
}
void Srv::encode(Bytes& out) const {
  put_u16(out, priority);
  put_u16(out, weight);
  put_u16(out, port);
  put_name(out, target);
}
std::string Srv::to_text() const {
  return std::to_string(priority) + " " + std::to_string(weight) + " " + std::to_string(port) +
         " " + target.to_text();
}
Result<Srv> Srv::from_text(Tokens t, const Name& origin) {
  if (t.size() != 4) return unexpected(kBadText);
  auto p = parse_u16(t[0].text), w = parse_u16(t[1].text), port = parse_u16(t[2].text);
  auto n = name_from_token(t[3].text, origin);
  if (!p || !w || !port || !n) return unexpected(kBadText);
  return Srv{*p, *w, *port, *n};
}

// ---- CAA (RFC 8659) -----------------------------------------------------------------------------

namespace {
bool valid_caa_tag(std::span<const uint8_t> tag) {
  if (tag.empty()) return false;
  return std::all_of(tag.begin(), tag.end(), [](uint8_t ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
  });
}
}  // namespace

Result<Caa> Caa::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Caa caa;
  caa.flags = c.u8();
  uint8_t len = c.u8();
  auto tag = c.bytes(len);
  if (!c.ok()) return unexpected(c.error());
  if (!valid_caa_tag(tag)) return unexpected(WireError::BadRdataField);
  caa.tag.assign(tag.begin(), tag.end());
  caa.value = c.rest();
  return finish(c, std::move(caa));
}
void Caa::encode(Bytes& out) const {
  out.push_back(flags);
  out.push_back(static_cast<uint8_t>(tag.size()));
  out.insert(out.end(), tag.begin(), tag.end());
  put_bytes(out, value);
}
std::string Caa::to_text() const {
  return std::to_string(flags) + " " + tag + " " + quoted_char_string(value);
}
Result<Caa> Caa::from_text(Tokens t, const Name&) {
  if (t.size() != 3) return unexpected(kBadText);
  auto f = parse_u8(t[0].text);
  if (!f) return unexpected(kBadText);
  std::span<const uint8_t> tag(reinterpret_cast<const uint8_t*>(t[1].text.data()),
                               t[1].text.size());
  if (tag.size() > 255 || !valid_caa_tag(tag)) return unexpected(kBadText);
  auto v = unescape(t[2].text, 65535);
  if (!v) return unexpected(v.error());
  return Caa{*f, t[1].text, std::move(*v)};
}

// ---- Unknown (RFC 3597) -------------------------------------------------------------------------

Result<Unknown> Unknown::decode(std::span<const uint8_t> d) { return Unknown{{d.begin(), d.end()}}; }
void Unknown::encode(Bytes& out) const { put_bytes(out, data); }
std::string Unknown::to_text() const { return generic_rdata_to_text(data); }
Result<Unknown> Unknown::from_text(Tokens t, const Name&) {
  auto d = generic_rdata_from_text(t);
  if (!d) return unexpected(d.error());
  return Unknown{std::move(*d)};
}

}  // namespace tern::dns::rdata
