// Typed RDATA of DNSSEC (RFC 4034, RFC 5155, RFC 7344): DS/CDS, DNSKEY/CDNSKEY, RRSIG, NSEC,
// NSEC3, NSEC3PARAM, and the type bitmap NSEC and NSEC3 share.
#include <algorithm>

#include "dns/rdata.hpp"
#include "dns/rdata_cursor.hpp"

namespace tern::dns::rdata {

using util::unexpected;

namespace {
constexpr auto kBadText = WireError::BadText;

// RFC 4509 §2.2, RFC 5933, RFC 6605 §2: digest lengths of the assigned digest types.
int ds_digest_size(uint8_t digest_type) {
  switch (digest_type) {
    case 1: return 20;  // SHA-1
    case 2:             // SHA-256
    case 3: return 32;  // GOST R 34.11-94
    case 4: return 48;  // SHA-384
    default: return -1;
  }
}

Result<std::vector<uint8_t>> salt_from_text(const std::string& s) {
  if (s == "-") return std::vector<uint8_t>{};
  auto b = from_hex(s);
  if (!b || b->size() > 255) return unexpected(kBadText);
  return b;
}
std::string salt_to_text(const Bytes& salt) { return salt.empty() ? "-" : to_hex(salt); }
}  // namespace

// ---- DS -----------------------------------------------------------------------------------------

Result<Ds> Ds::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Ds ds;
  ds.key_tag = c.u16();
  ds.algorithm = c.u8();
  ds.digest_type = c.u8();
  ds.digest = c.rest();
  if (!c.ok()) return unexpected(c.error());
  int want = ds_digest_size(ds.digest_type);
  if (want >= 0 && ds.digest.size() != static_cast<size_t>(want))
    return unexpected(WireError::RdataLengthMismatch);
  return finish(c, std::move(ds));
}
void Ds::encode(Bytes& out) const {
  put_u16(out, key_tag);
  out.push_back(algorithm);
  out.push_back(digest_type);
  put_bytes(out, digest);
}
std::string Ds::to_text() const {
  return std::to_string(key_tag) + " " + std::to_string(algorithm) + " " +
         std::to_string(digest_type) + " " + chunked(to_hex(digest));
}
Result<Ds> Ds::from_text(Tokens t, const Name&) {
  if (t.size() < 3) return unexpected(kBadText);  // an unknown digest type may be empty
  auto tag = parse_u16(t[0].text);
  auto alg = parse_u8(t[1].text), dt = parse_u8(t[2].text);
  auto digest = from_hex(join_tokens(t, 3));
  if (!tag || !alg || !dt || !digest) return unexpected(kBadText);
  int want = ds_digest_size(*dt);
  if (want >= 0 && digest->size() != static_cast<size_t>(want)) return unexpected(kBadText);
  return Ds{*tag, *alg, *dt, std::move(*digest)};
}

// ---- DNSKEY -------------------------------------------------------------------------------------

Result<Dnskey> Dnskey::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Dnskey k;
  k.flags = c.u16();
  k.protocol = c.u8();
  k.algorithm = c.u8();
  k.public_key = c.rest();
  return finish(c, std::move(k));
}
void Dnskey::encode(Bytes& out) const {
  put_u16(out, flags);
  out.push_back(protocol);
  out.push_back(algorithm);
  put_bytes(out, public_key);
}
uint16_t Dnskey::key_tag() const {
  Bytes w;
  encode(w);
  uint32_t ac = 0;
  for (size_t i = 0; i < w.size(); ++i) ac += (i & 1) ? w[i] : static_cast<uint32_t>(w[i]) << 8;
  ac += (ac >> 16) & 0xFFFFu;
  return static_cast<uint16_t>(ac & 0xFFFFu);
}
std::string Dnskey::to_text() const {
  return std::to_string(flags) + " " + std::to_string(protocol) + " " +
         std::to_string(algorithm) + " " + chunked(to_base64(public_key));
}
Result<Dnskey> Dnskey::from_text(Tokens t, const Name&) {
  if (t.size() < 3) return unexpected(kBadText);  // the key may be empty
  auto f = parse_u16(t[0].text);
  auto p = parse_u8(t[1].text), a = parse_u8(t[2].text);
  auto key = from_base64(join_tokens(t, 3));
  if (!f || !p || !a || !key) return unexpected(kBadText);
  return Dnskey{*f, *p, *a, std::move(*key)};
}

// ---- RRSIG --------------------------------------------------------------------------------------

Result<Rrsig> Rrsig::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Rrsig s;
  s.type_covered = static_cast<RRType>(c.u16());
  s.algorithm = c.u8();
  s.labels = c.u8();
  s.original_ttl = c.u32();
  s.expiration = c.u32();
  s.inception = c.u32();
  s.key_tag = c.u16();
  s.signer = c.name();
  s.signature = c.rest();
  return finish(c, std::move(s));
}
void Rrsig::encode(Bytes& out) const {
  put_u16(out, to_u16(type_covered));
  out.push_back(algorithm);
  out.push_back(labels);
  put_u32(out, original_ttl);
  put_u32(out, expiration);
  put_u32(out, inception);
  put_u16(out, key_tag);
  put_name(out, signer);
  put_bytes(out, signature);
}
std::string Rrsig::to_text() const {
  return type_to_text(type_covered) + " " + std::to_string(algorithm) + " " +
         std::to_string(labels) + " " + std::to_string(original_ttl) + " " +
         time_to_text(expiration) + " " + time_to_text(inception) + " " +
         std::to_string(key_tag) + " " + signer.to_text() + " " + chunked(to_base64(signature));
}
Result<Rrsig> Rrsig::from_text(Tokens t, const Name& origin) {
  if (t.size() < 8) return unexpected(kBadText);  // the signature may be empty
  auto covered = type_from_text(t[0].text);
  auto alg = parse_u8(t[1].text), labels = parse_u8(t[2].text);
  auto ttl = parse_u32(t[3].text);
  auto exp = time_from_text(t[4].text), inc = time_from_text(t[5].text);
  auto tag = parse_u16(t[6].text);
  auto signer = name_from_token(t[7].text, origin);
  auto sig = from_base64(join_tokens(t, 8));
  if (!covered || !alg || !labels || !ttl || !exp || !inc || !tag || !signer || !sig)
    return unexpected(kBadText);
  return Rrsig{*covered, *alg, *labels, *ttl, *exp, *inc, *tag, *signer, std::move(*sig)};
}

// ---- type bitmap (RFC 4034 §4.1.2) --------------------------------------------------------------

bool TypeBitmap::contains(RRType t) const {
  return std::binary_search(types.begin(), types.end(), t,
                            [](RRType a, RRType b) { return to_u16(a) < to_u16(b); });
}

Result<TypeBitmap> TypeBitmap::decode(std::span<const uint8_t> w) {
  TypeBitmap bm;
  size_t pos = 0;
  int prev_window = -1;
  while (pos < w.size()) {
    if (w.size() - pos < 2) return unexpected(WireError::BadTypeBitmap);
    unsigned window = w[pos], len = w[pos + 1];
    pos += 2;
    if (static_cast<int>(window) <= prev_window) return unexpected(WireError::BadTypeBitmap);
    if (len < 1 || len > 32 || w.size() - pos < len) return unexpected(WireError::BadTypeBitmap);
    if (w[pos + len - 1] == 0) return unexpected(WireError::BadTypeBitmap);  // trailing zero
    for (unsigned i = 0; i < len; ++i) {
      for (unsigned bit = 0; bit < 8; ++bit) {
        if (w[pos + i] & (0x80u >> bit))
          bm.types.push_back(static_cast<RRType>(window * 256 + i * 8 + bit));
      }
    }
    prev_window = static_cast<int>(window);
    pos += len;
  }
  return bm;
}

void TypeBitmap::encode(Bytes& out) const {
  std::vector<uint16_t> v;
  for (RRType t : types) v.push_back(to_u16(t));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  size_t i = 0;
  while (i < v.size()) {
    unsigned window = v[i] >> 8;
    uint8_t bits[32] = {};
    unsigned len = 0;
    for (; i < v.size() && (v[i] >> 8) == window; ++i) {
      unsigned low = v[i] & 0xFFu;
      bits[low / 8] = static_cast<uint8_t>(bits[low / 8] | (0x80u >> (low % 8)));
      len = low / 8 + 1;
    }
    out.push_back(static_cast<uint8_t>(window));
    out.push_back(static_cast<uint8_t>(len));
    out.insert(out.end(), bits, bits + len);
  }
}

std::string TypeBitmap::to_text() const {
  std::string s;
  for (RRType t : types) {
    s += ' ';
    s += type_to_text(t);
  }
  return s;
}

Result<TypeBitmap> TypeBitmap::from_text(Tokens t) {
  TypeBitmap bm;
  for (auto& tok : t) {
    auto ty = type_from_text(tok.text);
    if (!ty) return unexpected(kBadText);
    bm.types.push_back(*ty);
  }
  std::sort(bm.types.begin(), bm.types.end(),
            [](RRType a, RRType b) { return to_u16(a) < to_u16(b); });
  bm.types.erase(std::unique(bm.types.begin(), bm.types.end()), bm.types.end());
  return bm;
}

// ---- NSEC ---------------------------------------------------------------------------------------

Result<Nsec> Nsec::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Nsec n;
  n.next = c.name();
  auto rest = c.rest();
  if (!c.ok()) return unexpected(c.error());
  auto bm = TypeBitmap::decode(rest);
  if (!bm) return unexpected(bm.error());
  n.types = std::move(*bm);
  return finish(c, std::move(n));
}
void Nsec::encode(Bytes& out) const {
  put_name(out, next);
  types.encode(out);
}
std::string Nsec::to_text() const { return next.to_text() + types.to_text(); }
Result<Nsec> Nsec::from_text(Tokens t, const Name& origin) {
  if (t.empty()) return unexpected(kBadText);
  auto n = name_from_token(t[0].text, origin);
  auto bm = TypeBitmap::from_text(t.subspan(1));
  if (!n || !bm) return unexpected(kBadText);
  return Nsec{*n, std::move(*bm)};
}

// ---- NSEC3 / NSEC3PARAM (RFC 5155 §3.2, §4.2) ---------------------------------------------------

Result<Nsec3> Nsec3::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Nsec3 n;
  n.hash_algorithm = c.u8();
  n.flags = c.u8();
  n.iterations = c.u16();
  uint8_t salt_len = c.u8();
  auto salt = c.bytes(salt_len);
  uint8_t hash_len = c.u8();
  auto hash = c.bytes(hash_len);
  if (!c.ok()) return unexpected(c.error());
  if (hash_len == 0) return unexpected(WireError::BadRdataField);  // RFC 5155 §3.2: >= 1
  n.salt.assign(salt.begin(), salt.end());
  n.next_hashed.assign(hash.begin(), hash.end());
  auto bm = TypeBitmap::decode(c.rest());
  if (!bm) return unexpected(bm.error());
  n.types = std::move(*bm);
  return finish(c, std::move(n));
}
void Nsec3::encode(Bytes& out) const {
  out.push_back(hash_algorithm);
  out.push_back(flags);
  put_u16(out, iterations);
  out.push_back(static_cast<uint8_t>(salt.size()));
  put_bytes(out, salt);
  out.push_back(static_cast<uint8_t>(next_hashed.size()));
  put_bytes(out, next_hashed);
  types.encode(out);
}
std::string Nsec3::to_text() const {
  return std::to_string(hash_algorithm) + " " + std::to_string(flags) + " " +
         std::to_string(iterations) + " " + salt_to_text(salt) + " " +
         to_base32hex(next_hashed) + types.to_text();
}
Result<Nsec3> Nsec3::from_text(Tokens t, const Name&) {
  if (t.size() < 5) return unexpected(kBadText);
  auto alg = parse_u8(t[0].text), flags = parse_u8(t[1].text);
  auto it = parse_u16(t[2].text);
  auto salt = salt_from_text(t[3].text);
  auto next = from_base32hex(t[4].text);
  auto bm = TypeBitmap::from_text(t.subspan(5));
  if (!alg || !flags || !it || !salt || !next || !bm) return unexpected(kBadText);
  if (next->empty() || next->size() > 255) return unexpected(kBadText);
  return Nsec3{*alg, *flags, *it, std::move(*salt), std::move(*next), std::move(*bm)};
}

Result<Nsec3param> Nsec3param::decode(std::span<const uint8_t> d) {
  RdataCursor c(d);
  Nsec3param n;
  n.hash_algorithm = c.u8();
  n.flags = c.u8();
  n.iterations = c.u16();
  uint8_t salt_len = c.u8();
  auto salt = c.bytes(salt_len);
  n.salt.assign(salt.begin(), salt.end());
  return finish(c, std::move(n));
}
void Nsec3param::encode(Bytes& out) const {
  out.push_back(hash_algorithm);
  out.push_back(flags);
  put_u16(out, iterations);
  out.push_back(static_cast<uint8_t>(salt.size()));
  put_bytes(out, salt);
}
std::string Nsec3param::to_text() const {
  return std::to_string(hash_algorithm) + " " + std::to_string(flags) + " " +
         std::to_string(iterations) + " " + salt_to_text(salt);
}
Result<Nsec3param> Nsec3param::from_text(Tokens t, const Name&) {
  if (t.size() != 4) return unexpected(kBadText);
  auto alg = parse_u8(t[0].text), flags = parse_u8(t[1].text);
  auto it = parse_u16(t[2].text);
  auto salt = salt_from_text(t[3].text);
  if (!alg || !flags || !it || !salt) return unexpected(kBadText);
  return Nsec3param{*alg, *flags, *it, std::move(*salt)};
}

}  // namespace tern::dns::rdata
