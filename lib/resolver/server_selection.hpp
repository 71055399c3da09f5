// ServerSelection: which authoritative server address to ask next, learned from experience
// and shared by every resolution (Unbound's infra_host model). Per address: a smoothed RTT and
// variance (RFC 6298 arithmetic), the retransmission timeout derived from them, consecutive
// timeouts with exponential back-off, a hold-down after repeated timeouts, and what the server
// cannot do (echo 0x20 case, EDNS). Per (zone, address): lame / REFUSED marks.
// Selection: unknown servers score kUnknownRttMs, timed-out ones their backed-off RTO; among
// candidates within a band of the best score one is picked at random, so new servers are
// explored and load spreads, while a server that timed out is avoided until it recovers - a
// dead server costs one timeout, not one per query.
// Evidence is counted per RTO level, as Unbound's rtt_lost() does: queries sent in parallel
// with the same RTO that all time out (one outage, or one stall of our own loop under load)
// back the server off once, not once each - otherwise a burst of N lost queries would hold a
// healthy server down. A held-down server is still probed, one query per probe interval, when
// no other server of the zone is usable: a zone whose servers all had a bad moment comes back
// within seconds of them answering, not after the whole hold-down.
// Time: monotonic ms for RTTs and hold-downs, wall seconds for lame marks (Clock).
// Invariant: the tables never exceed Options::max_entries (least recently used evicted).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "dns/name.hpp"
#include "net/address.hpp"
#include "resolver/lru_map.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

namespace tern::resolver {

struct SelectionOptions {
  uint32_t unknown_rtt_ms = 376;      // Unbound's UNKNOWN_SERVER_NICENESS: under the band, so
                                      // a new server is tried next to a known fast one
  uint32_t band_ms = 400;             // servers within best+band are equally eligible
  uint32_t initial_timeout_ms = 800;  // the first query to a server we know nothing about
  uint32_t min_timeout_ms = 100;      // floor of the RTO: scheduler and network jitter
  uint32_t max_timeout_ms = 4000;     // ceiling of the back-off
  uint32_t hold_down_after = 3;       // consecutive timeouts that put a server on hold
  uint32_t hold_down_ms = 60000;      // how long it then stays unused...
  uint32_t probe_interval_ms = 5000;  // ...except for one probe per interval when no other
                                      // server of the zone is usable
  uint32_t lame_ttl_s = 900;          // how long a lame/REFUSED mark lasts
  uint32_t no_0x20_ttl_s = 900;       // how long a 0x20 case mismatch turns 0x20 off
  size_t max_entries = 8192;          // per table
};

class ServerSelection {
 public:
  ServerSelection(const util::Clock& clock, util::Random& random, SelectionOptions opts = {});

  // Index of the chosen candidate, or nullopt when every candidate is lame for the zone or
  // held down (and no held-down one is due for its probe).
  std::optional<size_t> choose(std::span<const net::Address> candidates, const dns::Name& zone);
  bool usable(const net::Address& a, const dns::Name& zone);
  uint32_t timeout_ms(const net::Address& a);

  void on_reply(const net::Address& a, uint32_t rtt_ms);
  // A query sent with timeout sent_rto_ms (timeout_ms() at send time) got no answer. It backs
  // off the RTO and counts toward hold-down only if sent at the current RTO level.
  void on_timeout(const net::Address& a, uint32_t sent_rto_ms);
  void mark_lame(const dns::Name& zone, const net::Address& a);
  bool is_lame(const dns::Name& zone, const net::Address& a);
  bool held_down(const net::Address& a);

  void set_no_0x20(const net::Address& a);
  bool no_0x20(const net::Address& a);
  void set_no_edns(const net::Address& a);
  bool no_edns(const net::Address& a);

  // For tests and metrics: the score choose() would use (ms).
  uint32_t score(const net::Address& a);
  const SelectionOptions& options() const { return opts_; }

 private:
  struct Host {
    bool known = false;  // at least one RTT sample
    uint32_t srtt = 0, rttvar = 0, rto = 0;
    uint32_t timeouts = 0;  // consecutive
    uint64_t held_until_ms = 0;
    uint64_t next_probe_ms = 0;  // while held down: when the next probe may go
    // Until when 0x20 is off for this server. It expires: a mismatch may be a forgery with a
    // guessed ID and port (then a permanent switch-off would let one lucky forgery remove
    // 0x20's entropy for good), or a server that was fixed.
    int64_t no_0x20_until = 0;  // wall seconds
    bool no_edns = false;
  };
  Host& host(const net::Address& a);
  void trim();
  std::optional<size_t> choose_probe(std::span<const net::Address> candidates,
                                     const dns::Name& zone);

  const util::Clock& clock_;
  util::Random& random_;
  SelectionOptions opts_;
  LruMap<net::Address, Host> hosts_;
  LruMap<std::string, int64_t, StringKeyHash> lame_;  // zone wire (lower) + address bytes -> expiry (wall s)
};

}  // namespace tern::resolver
