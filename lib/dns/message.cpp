#include "dns/message.hpp"

#include <algorithm>
#include <cstring>

#include "dns/rdata.hpp"
#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace tern::dns {

using util::Expected;
using util::unexpected;

namespace {

constexpr size_t kMinRecordSize = 11;  // root name + type + class + ttl + rdlength

// The layout of RDATA for types that embed domain names: a sequence of fields.
enum class Field : uint8_t { Name, U16, U32, Fixed6, Fixed18, CharString, Rest, End };

struct Layout {
  Field fields[6];
  bool compressible;  // RFC 3597 §4: only RFC 1035 types may be compressed when sending
};

const Layout* layout_for(RRType t) {
  static constexpr Layout kOneName{{Field::Name, Field::End}, true};
  static constexpr Layout kSoa{{Field::Name, Field::Name, Field::Fixed18, Field::U16, Field::End},
                               true};  // 5 x u32 = 20 octets: 18 + 2
  static constexpr Layout kPrefName{{Field::U16, Field::Name, Field::End}, true};
  static constexpr Layout kTwoNames{{Field::Name, Field::Name, Field::End}, true};
  static constexpr Layout kOneNameNc{{Field::Name, Field::End}, false};
  static constexpr Layout kPrefNameNc{{Field::U16, Field::Name, Field::End}, false};
  static constexpr Layout kTwoNamesNc{{Field::Name, Field::Name, Field::End}, false};
  static constexpr Layout kSrv{{Field::Fixed6, Field::Name, Field::End}, false};
  static constexpr Layout kNaptr{{Field::U16, Field::U16, Field::CharString, Field::CharString,
                                  Field::CharString, Field::Name},
                                 false};
  static constexpr Layout kRrsig{{Field::Fixed18, Field::Name, Field::Rest, Field::End}, false};
  static constexpr Layout kNsec{{Field::Name, Field::Rest, Field::End}, false};
  static constexpr Layout kPx{{Field::U16, Field::Name, Field::Name, Field::End}, false};
  switch (static_cast<uint16_t>(t)) {
    case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:  // NS MD MF CNAME MB MG MR PTR
      return &kOneName;
    case 6: return &kSoa;
    case 14: return &kTwoNames;      // MINFO
    case 15: return &kPrefName;      // MX
    case 17: return &kTwoNamesNc;    // RP
    case 18: case 21: case 36:       // AFSDB RT KX
      return &kPrefNameNc;
    case 26: return &kPx;            // PX
    case 33: return &kSrv;           // SRV
    case 35: return &kNaptr;         // NAPTR
    case 39: return &kOneNameNc;     // DNAME
    case 46: return &kRrsig;         // RRSIG
    case 47: return &kNsec;          // NSEC
    default: return nullptr;
  }
}

// Fixed RDATA sizes that must match exactly.
int fixed_size(RRType t) {
  switch (t) {
    case RRType::A: return 4;
    case RRType::AAAA: return 16;
    default: return -1;
  }
}

size_t field_fixed(Field f) {
  switch (f) {
    case Field::U16: return 2;
    case Field::U32: return 4;
    case Field::Fixed6: return 6;
    case Field::Fixed18: return 18;
    default: return 0;
  }
}

// NAPTR's last field is a name without an End marker (the array is full).
template <class Fn>
void for_each_field(const Layout& l, Fn&& fn) {
  for (Field f : l.fields) {
    if (f == Field::End) return;
    if (!fn(f)) return;
  }
}

}  // namespace

bool read_rdata(WireReader& r, RRType type, uint16_t rdlength, std::vector<uint8_t>& out) {
  out.clear();
  if (r.remaining() < rdlength) {
    r.fail(WireError::Truncated);
    return false;
  }
  int fixed = fixed_size(type);
  if (fixed >= 0 && rdlength != fixed) {
    r.fail(WireError::RdataLengthMismatch);
    return false;
  }
  const Layout* layout = layout_for(type);
  if (!layout) {
    auto b = r.bytes(rdlength);
    out.assign(b.begin(), b.end());
    return r.ok();
  }
  size_t start = r.pos(), end = start + rdlength;
  // Names must stay inside this record's RDATA (pointers may reach earlier in the message).
  WireReader rr(r.message().first(end), start);
  out.reserve(rdlength + 32u);
  for_each_field(*layout, [&](Field f) {
    switch (f) {
      case Field::Name: {
        Name n = rr.name();
        if (!rr.ok()) return false;
        auto w = n.wire();
        out.insert(out.end(), w.begin(), w.end());
        return true;
      }
      case Field::CharString: {
        uint8_t len = rr.u8();
        auto b = rr.bytes(len);
        if (!rr.ok()) return false;
        out.push_back(len);
        out.insert(out.end(), b.begin(), b.end());
        return true;
      }
      case Field::Rest: {
        auto b = rr.bytes(end - rr.pos());
        out.insert(out.end(), b.begin(), b.end());
        return rr.ok();
      }
      default: {
        auto b = rr.bytes(field_fixed(f));
        out.insert(out.end(), b.begin(), b.end());
        return rr.ok();
      }
    }
  });
  if (!rr.ok()) {
    r.fail(rr.error() == WireError::Truncated ? WireError::RdataLengthMismatch : rr.error());
    return false;
  }
  if (rr.pos() != end) {
    r.fail(WireError::RdataLengthMismatch);
    return false;
  }
  r.seek(end);
  return r.ok();
}

namespace {

// Walks rdata along layout; calls on_name(offset, name) for each name field and
// on_bytes(offset, len) for every other run. Returns false (having called nothing more)
// as soon as the bytes do not follow the layout.
template <class OnName, class OnBytes>
bool walk_layout(const Layout& layout, std::span<const uint8_t> d, OnName&& on_name,
                 OnBytes&& on_bytes) {
  size_t pos = 0;
  bool good = true;
  for_each_field(layout, [&](Field f) {
    switch (f) {
      case Field::Name: {
        size_t p = pos;
        while (p < d.size() && d[p] != 0 && (d[p] & 0xC0) == 0) p += 1u + d[p];
        if (p >= d.size() || d[p] != 0) return good = false;
        auto n = Name::from_wire(d.subspan(pos, p + 1 - pos));
        if (!n) return good = false;
        on_name(*n);
        pos = p + 1;
        return true;
      }
      case Field::CharString: {
        if (pos >= d.size() || d.size() - pos < 1u + d[pos]) return good = false;
        on_bytes(d.subspan(pos, 1u + d[pos]));
        pos += 1u + d[pos];
        return true;
      }
      case Field::Rest:
        on_bytes(d.subspan(pos));
        pos = d.size();
        return true;
      default: {
        size_t n = field_fixed(f);
        if (d.size() - pos < n) return good = false;
        on_bytes(d.subspan(pos, n));
        pos += n;
        return true;
      }
    }
  });
  return good && pos == d.size();
}

}  // namespace

void write_rdata(WireWriter& w, const ResourceRecord& rr, Compression c) {
  const Layout* layout = layout_for(rr.type);
  // rdata came from read_rdata or a typed encoder, but a hand-built record may not follow the
  // layout: check the whole of it first and then write it as opaque bytes rather than guess
  // (a half-compressed RDATA would decode to something else).
  auto ignore_name = [](const Name&) {};
  auto ignore_bytes = [](std::span<const uint8_t>) {};
  if (!layout || !walk_layout(*layout, rr.rdata, ignore_name, ignore_bytes)) {
    w.bytes(rr.rdata);
    return;
  }
  Compression nc = (layout->compressible && c == Compression::On) ? Compression::On
                                                                   : Compression::Off;
  (void)walk_layout(
      *layout, rr.rdata, [&](const Name& n) { w.name(n, nc); },
      [&](std::span<const uint8_t> b) { w.bytes(b); });
}

RCode Message::rcode() const {
  unsigned v = header.rcode & 0xFu;
  if (edns) v |= static_cast<unsigned>(edns->extended_rcode) << 4;
  return static_cast<RCode>(v);
}

void Message::set_rcode(RCode r) {
  auto v = static_cast<unsigned>(r);
  header.rcode = static_cast<uint8_t>(v & 0xFu);
  if (edns) edns->extended_rcode = static_cast<uint8_t>(v >> 4);
}

std::vector<ResourceRecord>& Message::section(Section s) {
  return s == Section::Answer ? answer : s == Section::Authority ? authority : additional;
}
const std::vector<ResourceRecord>& Message::section(Section s) const {
  return s == Section::Answer ? answer : s == Section::Authority ? authority : additional;
}

namespace {

Expected<Edns, WireError> parse_opt(const Name& owner, uint16_t rclass, uint32_t ttl,
                                    std::span<const uint8_t> rdata) {
  if (!owner.is_root()) return unexpected(WireError::OptNameNotRoot);
  Edns e;
  e.udp_payload = rclass;
  e.extended_rcode = static_cast<uint8_t>(ttl >> 24);
  e.version = static_cast<uint8_t>(ttl >> 16);
  e.dnssec_ok = (ttl & 0x8000u) != 0;
  e.z = static_cast<uint16_t>(ttl & 0x7FFFu);
  size_t pos = 0;
  while (pos < rdata.size()) {
    if (rdata.size() - pos < 4) return unexpected(WireError::BadEdnsOption);
    uint16_t code = load_u16(rdata.data() + pos);
    uint16_t len = load_u16(rdata.data() + pos + 2);
    pos += 4;
    if (rdata.size() - pos < len) return unexpected(WireError::BadEdnsOption);
    e.options.push_back({code, {rdata.begin() + static_cast<std::ptrdiff_t>(pos),
                                rdata.begin() + static_cast<std::ptrdiff_t>(pos + len)}});
    pos += len;
  }
  return e;
}

}  // namespace

Expected<Message, WireError> parse_message(std::span<const uint8_t> wire) {
  WireReader r(wire);
  Message m;
  m.header = read_header(r);
  if (!r.ok()) return unexpected(r.error());
  // Each question needs >= 5 octets and each record >= 11: counts beyond that are lies.
  size_t need = m.header.qdcount * size_t{5} +
                (size_t{m.header.ancount} + m.header.nscount + m.header.arcount) * kMinRecordSize;
  if (need > r.remaining()) return unexpected(WireError::CountExceedsPacket);
  m.questions.reserve(m.header.qdcount);
  for (unsigned i = 0; i < m.header.qdcount; ++i) {
    Question q;
    q.qname = r.name();
    q.qtype = static_cast<RRType>(r.u16());
    q.qclass = static_cast<RRClass>(r.u16());
    if (!r.ok()) return unexpected(r.error());
    m.questions.push_back(q);
  }
  const uint16_t counts[3] = {m.header.ancount, m.header.nscount, m.header.arcount};
  for (unsigned s = 0; s < 3; ++s) {
    auto& out = m.section(static_cast<Section>(s));
    out.reserve(counts[s]);
    for (unsigned i = 0; i < counts[s]; ++i) {
      ResourceRecord rr;
      rr.name = r.name();
      uint16_t type = r.u16();
      uint16_t rclass = r.u16();
      uint32_t ttl = r.u32();
      uint16_t rdlen = r.u16();
      if (!r.ok()) return unexpected(r.error());
      if (type == to_u16(RRType::OPT)) {
        if (s != static_cast<unsigned>(Section::Additional))
          return unexpected(WireError::OptNotInAdditional);
        if (m.edns) return unexpected(WireError::DuplicateOpt);
        auto rd = r.bytes(rdlen);
        if (!r.ok()) return unexpected(r.error());
        auto e = parse_opt(rr.name, rclass, ttl, rd);
        if (!e) return unexpected(e.error());
        m.edns = std::move(*e);
        continue;
      }
      rr.type = static_cast<RRType>(type);
      rr.rclass = static_cast<RRClass>(rclass);
      rr.ttl = ttl;
      // RFC 2136 §2.4.2/§2.5.2: UPDATE prerequisites and deletions carry class ANY or NONE with
      // empty RDATA for any type; that is not a malformed A or SOA.
      bool empty_meta = rdlen == 0 && (rr.rclass == RRClass::ANY || rr.rclass == RRClass::NONE);
      if (empty_meta) {
        out.push_back(std::move(rr));
        continue;
      }
      if (!read_rdata(r, rr.type, rdlen, rr.rdata)) return unexpected(r.error());
      // Well-known types must decode under their own rules (rdata.hpp lists them); every
      // other type stays opaque (RFC 3597) and is never rejected for its content.
      if (auto valid = rdata::validate(rr.type, rr.rdata); !valid) return unexpected(valid.error());
      out.push_back(std::move(rr));
    }
  }
  if (r.remaining() != 0) return unexpected(WireError::TrailingData);
  return m;
}

namespace {

size_t opt_size(const Edns& e) {
  size_t n = 11;
  for (auto& o : e.options) n += 4 + o.data.size();
  return n;
}

void write_opt(WireWriter& w, const Edns& e) {
  w.u8(0);  // root owner
  w.u16(to_u16(RRType::OPT));
  w.u16(e.udp_payload);
  uint32_t ttl = (static_cast<uint32_t>(e.extended_rcode) << 24) |
                 (static_cast<uint32_t>(e.version) << 16) | (e.dnssec_ok ? 0x8000u : 0u) |
                 (e.z & 0x7FFFu);
  w.u32(ttl);
  size_t len = 0;
  for (auto& o : e.options) len += 4 + o.data.size();
  w.u16(static_cast<uint16_t>(len));
  for (auto& o : e.options) {
    w.u16(o.code);
    w.u16(static_cast<uint16_t>(o.data.size()));
    w.bytes(o.data);
  }
}

bool same_rrset(const ResourceRecord& a, const ResourceRecord& b) {
  return a.type == b.type && a.rclass == b.rclass && a.name == b.name;
}

}  // namespace

Expected<BuildResult, WireError> build_message(const Message& msg, std::span<uint8_t> out,
                                               const BuildOptions& opts) {
  size_t limit = std::min({opts.max_size, out.size(), size_t{65535}});
  size_t reserve = msg.edns ? opt_size(*msg.edns) : 0;
  if (reserve > limit) return unexpected(WireError::BufferTooSmall);
  WireWriter w(out, limit - reserve);
  Header h = msg.header;
  h.qdcount = static_cast<uint16_t>(msg.questions.size());
  h.ancount = h.nscount = h.arcount = 0;
  h.tc = msg.header.tc;
  write_header(w, h);
  for (auto& q : msg.questions) {
    w.name(q.qname, opts.compression);
    w.u16(to_u16(q.qtype));
    w.u16(to_u16(q.qclass));
  }
  if (w.overflowed()) return unexpected(WireError::BufferTooSmall);
  if (opts.ttl_offsets) opts.ttl_offsets->clear();
  size_t ttl_mark = 0;

  uint16_t counts[3] = {0, 0, 0};
  bool truncated = false;
  for (unsigned s = 0; s < 3 && !truncated; ++s) {
    const auto& recs = msg.section(static_cast<Section>(s));
    size_t i = 0;
    while (i < recs.size()) {
      size_t j = i + 1;
      while (j < recs.size() && same_rrset(recs[i], recs[j])) ++j;
      size_t mark = w.mark();
      if (opts.ttl_offsets) ttl_mark = opts.ttl_offsets->size();
      for (size_t k = i; k < j; ++k) {
        const auto& rr = recs[k];
        w.name(rr.name, opts.compression);
        w.u16(to_u16(rr.type));
        w.u16(to_u16(rr.rclass));
        if (opts.ttl_offsets && w.size() < 0x10000) {
          opts.ttl_offsets->push_back(static_cast<uint16_t>(w.size()));
        }
        w.u32(rr.ttl);
        size_t len_at = w.size();
        w.u16(0);
        write_rdata(w, rr, opts.compression);
        w.patch_u16(len_at, static_cast<uint16_t>(w.size() - len_at - 2));
      }
      if (w.overflowed()) {
        w.rewind(mark);
        if (opts.ttl_offsets) opts.ttl_offsets->resize(ttl_mark);
        if (s != static_cast<unsigned>(Section::Additional)) {
          truncated = true;
          h.tc = true;
        }
        break;
      }
      counts[s] = static_cast<uint16_t>(counts[s] + (j - i));
      i = j;
    }
  }
  w.set_limit(limit);
  if (msg.edns) {
    write_opt(w, *msg.edns);
    counts[2] = static_cast<uint16_t>(counts[2] + 1);
  }
  if (w.overflowed()) return unexpected(WireError::BufferTooSmall);
  h.ancount = counts[0];
  h.nscount = counts[1];
  h.arcount = counts[2];
  w.patch_u16(2, h.flags());
  w.patch_u16(6, h.ancount);
  w.patch_u16(8, h.nscount);
  w.patch_u16(10, h.arcount);
  return BuildResult{w.size(), truncated};
}

std::vector<uint8_t> encode_message(const Message& msg, const BuildOptions& opts) {
  std::vector<uint8_t> buf(std::min(opts.max_size, size_t{65535}));
  auto res = build_message(msg, buf, opts);
  if (!res) return {};
  buf.resize(res->size);
  return buf;
}

}  // namespace tern::dns
