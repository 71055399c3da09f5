#include "resolver/server_selection.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace tern::resolver {
namespace {

// Zone (lowered wire form), family, address octets; on the stack: is_lame() runs for every
// candidate of every step and must not allocate.
class LameKey {
 public:
  LameKey(const dns::Name& zone, const net::Address& a) {
    const auto z = zone.lowered();
    auto out = std::copy(z.wire().begin(), z.wire().end(), buf_.begin());
    *out++ = static_cast<char>(a.family());
    out = std::copy(a.bytes().begin(), a.bytes().begin() + static_cast<long>(a.size()), out);
    size_ = static_cast<size_t>(out - buf_.begin());
  }
  std::string_view view() const { return {buf_.data(), size_}; }

 private:
  std::array<char, dns::kMaxNameWire + 1 + 16> buf_;
  size_t size_ = 0;
};

}  // namespace

ServerSelection::ServerSelection(const util::Clock& clock, util::Random& random,
                                 SelectionOptions opts)
    : clock_(clock), random_(random), opts_(opts) {}

ServerSelection::Host& ServerSelection::host(const net::Address& a) {
  if (Host* h = hosts_.find(a)) return *h;
  Host h;
  h.rto = opts_.initial_timeout_ms;
  Host& stored = hosts_.put(a, h);
  trim();
  return stored;
}

void ServerSelection::trim() {
  while (hosts_.size() > opts_.max_entries) hosts_.pop_coldest();
  while (lame_.size() > opts_.max_entries) lame_.pop_coldest();
}

bool ServerSelection::held_down(const net::Address& a) {
  const Host* h = hosts_.peek(a);
  return h && h->held_until_ms > clock_.mono_ms();
}

bool ServerSelection::is_lame(const dns::Name& zone, const net::Address& a) {
  if (lame_.empty()) return false;
  const LameKey key(zone, a);
  const int64_t* until = lame_.peek(key.view());
  if (!until) return false;
  if (*until > clock_.wall_seconds()) return true;
  lame_.erase(key.view());
  return false;
}

bool ServerSelection::usable(const net::Address& a, const dns::Name& zone) {
  return !held_down(a) && !is_lame(zone, a);
}

uint32_t ServerSelection::score(const net::Address& a) {
  const Host* h = hosts_.peek(a);
  if (!h) return opts_.unknown_rtt_ms;
  if (h->timeouts > 0) return std::max(h->rto, opts_.unknown_rtt_ms + opts_.band_ms);
  return h->known ? h->srtt : opts_.unknown_rtt_ms;
}

std::optional<size_t> ServerSelection::choose(std::span<const net::Address> candidates,
                                              const dns::Name& zone) {
  std::vector<std::pair<uint32_t, size_t>> eligible;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (usable(candidates[i], zone)) eligible.emplace_back(score(candidates[i]), i);
  if (eligible.empty()) return choose_probe(candidates, zone);
  uint32_t best = UINT32_MAX;
  for (auto& e : eligible) best = std::min(best, e.first);
  std::vector<size_t> band;
  for (auto& e : eligible)
    if (e.first <= best + opts_.band_ms) band.push_back(e.second);
  return band[random_.uniform(static_cast<uint32_t>(band.size()))];
}

std::optional<size_t> ServerSelection::choose_probe(std::span<const net::Address> candidates,
                                                    const dns::Name& zone) {
  const uint64_t now = clock_.mono_ms();
  std::optional<size_t> pick;
  uint32_t best = UINT32_MAX;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Host* h = hosts_.peek(candidates[i]);
    if (h == nullptr || h->held_until_ms <= now || h->next_probe_ms > now) continue;
    if (is_lame(zone, candidates[i])) continue;
    if (uint32_t s = score(candidates[i]); s < best) best = s, pick = i;
  }
  if (pick) host(candidates[*pick]).next_probe_ms = now + opts_.probe_interval_ms;
  return pick;
}

uint32_t ServerSelection::timeout_ms(const net::Address& a) {
  const Host* h = hosts_.peek(a);
  return h ? h->rto : opts_.initial_timeout_ms;
}

void ServerSelection::on_reply(const net::Address& a, uint32_t rtt_ms) {
  Host& h = host(a);
  if (!h.known) {  // RFC 6298 §2.2
    h.srtt = rtt_ms;
    h.rttvar = rtt_ms / 2;
    h.known = true;
  } else {  // §2.3 with alpha 1/8, beta 1/4
    uint32_t diff = h.srtt > rtt_ms ? h.srtt - rtt_ms : rtt_ms - h.srtt;
    h.rttvar = (3 * h.rttvar + diff) / 4;
    h.srtt = (7 * h.srtt + rtt_ms) / 8;
  }
  h.rto = std::clamp(h.srtt + 4 * h.rttvar, opts_.min_timeout_ms, opts_.max_timeout_ms);
  h.timeouts = 0;
  h.held_until_ms = 0;
}

void ServerSelection::on_timeout(const net::Address& a, uint32_t sent_rto_ms) {
  Host& h = host(a);
  if (sent_rto_ms < h.rto) return;  // a parallel query at a level already counted
  h.rto = std::min(h.rto * 2, opts_.max_timeout_ms);  // RFC 6298 §5.5 back-off
  ++h.timeouts;
  if (h.timeouts >= opts_.hold_down_after) {
    const uint64_t now = clock_.mono_ms();
    if (h.held_until_ms <= now) h.next_probe_ms = now + opts_.probe_interval_ms;
    h.held_until_ms = now + opts_.hold_down_ms;
  }
}

void ServerSelection::mark_lame(const dns::Name& zone, const net::Address& a) {
  lame_.put(std::string(LameKey(zone, a).view()), clock_.wall_seconds() + opts_.lame_ttl_s);
  trim();
}

void ServerSelection::set_no_0x20(const net::Address& a) {
  host(a).no_0x20_until = clock_.wall_seconds() + opts_.no_0x20_ttl_s;
}
bool ServerSelection::no_0x20(const net::Address& a) {
  const Host* h = hosts_.peek(a);
  return h && h->no_0x20_until > clock_.wall_seconds();
}
void ServerSelection::set_no_edns(const net::Address& a) { host(a).no_edns = true; }
bool ServerSelection::no_edns(const net::Address& a) {
  const Host* h = hosts_.peek(a);
  return h && h->no_edns;
}

}  // namespace tern::resolver
