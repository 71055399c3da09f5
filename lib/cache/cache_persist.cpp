// MessageCache::peek, dump and load: the control-plane views of what the cache holds.
// The dump format (all integers big endian):
//   "TERNMC\r\n" (8 octets), u32 version = 1,
//   per entry: u8 tag = 1, u8 kind, u8 key flags, i64 inserted_at, i64 expires_at,
//              u16 length, the stored message (lower-case question, original TTLs, no OPT),
//   u8 tag = 0 at the end.
// Times are absolute wall seconds (DESIGN.md "Two clocks"), so a dump read after a restart
// serves the same remaining TTLs. load() treats the file as hostile: every message is parsed
// and re-encoded through the same path as an insert, so offsets never come from the file.
#include <algorithm>
#include <array>
#include <cstring>
#include <istream>
#include <ostream>

#include "cache/message_cache.hpp"
#include "cache/message_cache_impl.hpp"
#include "dns/wire_reader.hpp"
#include "util/bug.hpp"

namespace tern::cache {

using detail::Entry;
using detail::EntryKind;
using detail::kNoSlot;

namespace {

constexpr std::array<char, 8> kMagic = {'T', 'E', 'R', 'N', 'M', 'C', '\r', '\n'};
constexpr uint32_t kVersion = 1;
constexpr uint8_t kTagEntry = 1;
constexpr uint8_t kTagEnd = 0;

void put_u64(std::ostream& out, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  out.write(reinterpret_cast<const char*>(b), 8);
}

bool get_bytes(std::istream& in, uint8_t* p, size_t n) {
  in.read(reinterpret_cast<char*>(p), static_cast<std::streamsize>(n));
  return static_cast<size_t>(in.gcount()) == n;
}

bool get_u64(std::istream& in, uint64_t& v) {
  uint8_t b[8];
  if (!get_bytes(in, b, 8)) return false;
  v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return true;
}

}  // namespace

std::optional<MessageCache::Peek> MessageCache::peek(const CacheKey& key) const {
  const Impl& m = *impl_;
  if (key.qname_lower.empty() || key.qname_lower.size() > dns::kMaxNameWire) return std::nullopt;
  size_t slot = m.find(m.hasher(key), key);
  if (slot == kNoSlot) return std::nullopt;
  const Entry* e = m.slots[slot].entry;
  int64_t now = m.clock.wall_seconds();
  if (m.dead(e, now)) return std::nullopt;
  bool stale = now >= e->expires_at;
  std::vector<uint8_t> wire(e->wire_len);
  m.render(e, now, stale, wire.data());
  auto parsed = dns::parse_message(wire);
  if (!parsed) TERN_BUG("cache holds a message it cannot parse");
  Peek p;
  p.message = std::move(*parsed);
  p.inserted_at = e->inserted_at;
  p.expires_at = e->expires_at;
  p.state = stale ? EntryState::Stale : EntryState::Fresh;
  return p;
}

bool MessageCache::dump(std::ostream& out) const {
  const Impl& m = *impl_;
  int64_t now = m.clock.wall_seconds();
  out.write(kMagic.data(), kMagic.size());
  uint8_t ver[4];
  dns::store_u32(ver, kVersion);
  out.write(reinterpret_cast<const char*>(ver), 4);
  // Oldest first, so a load rebuilds the same recency order.
  for (const Entry* e = m.tail; e && out; e = e->newer) {
    if (m.dead(e, now)) continue;
    uint8_t head[3] = {kTagEntry, static_cast<uint8_t>(e->kind), e->key_flags};
    out.write(reinterpret_cast<const char*>(head), 3);
    put_u64(out, static_cast<uint64_t>(e->inserted_at));
    put_u64(out, static_cast<uint64_t>(e->expires_at));
    uint8_t len[2];
    dns::store_u16(len, e->wire_len);
    out.write(reinterpret_cast<const char*>(len), 2);
    out.write(reinterpret_cast<const char*>(e->wire()), e->wire_len);
  }
  char end = static_cast<char>(kTagEnd);
  out.write(&end, 1);
  out.flush();
  return static_cast<bool>(out);
}

size_t MessageCache::load(std::istream& in) {
  Impl& m = *impl_;
  std::array<char, 8> magic{};
  in.read(magic.data(), magic.size());
  if (in.gcount() != static_cast<std::streamsize>(magic.size()) || magic != kMagic) return 0;
  uint8_t ver[4];
  if (!get_bytes(in, ver, 4) || dns::load_u32(ver) != kVersion) return 0;

  int64_t now = m.clock.wall_seconds();
  size_t loaded = 0;
  std::vector<uint8_t> wire;
  while (true) {
    uint8_t head[3];
    if (!get_bytes(in, head, 1) || head[0] != kTagEntry) break;  // end tag, EOF or garbage
    if (!get_bytes(in, head + 1, 2)) break;
    uint64_t ins = 0, exp = 0;
    uint8_t len[2];
    if (!get_u64(in, ins) || !get_u64(in, exp) || !get_bytes(in, len, 2)) break;
    wire.resize(dns::load_u16(len));
    if (!get_bytes(in, wire.data(), wire.size())) break;

    // From here on a bad entry is skipped; the framing above is intact.
    if (head[1] > static_cast<uint8_t>(EntryKind::Failure)) continue;
    auto kind = static_cast<EntryKind>(head[1]);
    auto inserted_at = static_cast<int64_t>(ins), expires_at = static_cast<int64_t>(exp);
    // Plausible wall-clock seconds only (year < 36000), so no time arithmetic can overflow.
    constexpr int64_t kMaxTime = int64_t{1} << 40;
    if (inserted_at < 0 || expires_at > kMaxTime || expires_at <= inserted_at) continue;
    if (expires_at - inserted_at > int64_t{UINT32_MAX}) continue;
    // Today's limits apply to yesterday's entries.
    uint32_t cap = kind == EntryKind::Failure    ? m.opts.servfail_ttl
                   : kind == EntryKind::Negative ? m.opts.max_negative_ttl
                                                 : m.opts.max_ttl;
    auto lifetime = static_cast<uint32_t>(std::min<int64_t>(expires_at - inserted_at, cap));
    if (lifetime == 0) continue;
    auto parsed = dns::parse_message(wire);
    if (!parsed) continue;
    dns::Message& msg = *parsed;
    if (msg.questions.size() != 1 || msg.edns || !msg.header.qr ||
        msg.header.opcode != dns::Opcode::Query)
      continue;
    auto rc = msg.rcode();
    bool rc_fits = kind == EntryKind::Failure
                       ? rc == dns::RCode::ServFail
                       : (rc == dns::RCode::NoError || rc == dns::RCode::NxDomain);
    if (!rc_fits) continue;
    const dns::Question& q = msg.questions[0];
    if (!q.qname.equals_exact(q.qname.lowered())) continue;
    for (auto* sec : {&msg.answer, &msg.authority, &msg.additional})
      for (auto& rr : *sec) rr.ttl = std::min(rr.ttl, lifetime);

    CacheKey key;
    key.qname_lower = q.qname.wire();
    key.qtype = dns::to_u16(q.qtype);
    key.qclass = dns::to_u16(q.qclass);
    key.flags = static_cast<uint8_t>(head[2] & (kKeyDO | kKeyCD));
    // Skip what can no longer be served (the same test as dead(), before storing).
    if (now >= inserted_at + lifetime) {
      bool may_stale = m.opts.serve_stale && kind != EntryKind::Failure;
      if (!may_stale || now - (inserted_at + lifetime) >= static_cast<int64_t>(m.opts.max_stale))
        continue;
    }
    if (m.encode_and_store(key, kind, lifetime, inserted_at, msg)) ++loaded;
  }
  return loaded;
}

}  // namespace tern::cache
