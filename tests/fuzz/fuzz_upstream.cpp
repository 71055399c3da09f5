// Fuzz target: the upstream reply path. A real Iterator (resolver/iterator.hpp) resolves one
// or two client questions through a scripted transport whose replies are the fuzzer's bytes:
// every query the iterator sends, whatever server it goes to, takes the next chunk of input.
//
// Input: byte 0 steers the harness, byte 1 picks the qtype, then chunks [ctl][len:2][bytes]:
//   byte 0  bits 0-1 QNAME minimisation (off, relaxed, strict, relaxed), bit 2 0x20 on,
//           bit 3 IPv6 servers used, bit 4 a second question after the first completes,
//           bits 5-7 which qname is asked
//   chunk   ctl bits 0-1: 0/1 a reply (bytes that do not parse arrive as Malformed), 2 a
//           timeout, 3 a network error; bit 2: the reply is fixed up to be accepted (QR=1,
//           the question exactly as sent), else it arrives as written (both paths matter);
//           bits 4-7: the reply's RTT in 25 ms steps (never beyond the query's timeout).
//   Queries beyond the last chunk time out.
// Checked: each resolution completes exactly once and never from inside resolve(); the
// queries sent stay within kMaxUpstreamQueries per client question and per priming; a
// resolution ends within kMaxResolutionTimeMs (plus one RTT of slack); every run ends (the
// event pump is bounded); shutdown leaves nothing running; ASan/UBSan/LSan find nothing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <spdlog/spdlog.h>

#include "dns/message.hpp"
#include "resolver/infra_cache.hpp"
#include "resolver/iterator.hpp"
#include "resolver/limits.hpp"
#include "resolver/scheduler.hpp"
#include "resolver/transport.hpp"
#include "util/bug.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

using namespace tern;
using namespace tern::resolver;

namespace {

constexpr size_t kMaxEvents = 200000;  // far beyond any bounded resolution: a runaway is a bug

// One event queue for replies and posted work, delivered in time order; the clock follows it.
class ScriptedNet final : public Transport, public Scheduler {
 public:
  ScriptedNet(util::FakeClock& clock, std::span<const uint8_t> script)
      : clock_(clock), script_(script) {}

  Handle send(const UpstreamQuery& q, ReplyHandler handler) override {
    TERN_ASSERT(handler != nullptr);
    TERN_ASSERT(q.timeout_ms > 0);
    ++sent_;
    Handle h = next_handle_++;
    UpstreamReply reply;
    uint64_t delay = next_reply(q, reply);
    handlers_[h] = std::move(handler);
    push(clock_.mono_ms() + delay, [this, h, reply = std::move(reply)]() mutable {
      auto it = handlers_.find(h);
      if (it == handlers_.end()) return;
      auto fn = std::move(it->second);
      handlers_.erase(it);
      fn(std::move(reply));
    });
    return h;
  }
  void cancel(Handle h) override {
    if (!handlers_.count(h)) return;
    push(clock_.mono_ms(), [this, h] {
      auto it = handlers_.find(h);
      if (it == handlers_.end()) return;
      auto fn = std::move(it->second);
      handlers_.erase(it);
      UpstreamReply r;
      r.status = TransportStatus::Cancelled;
      fn(std::move(r));
    });
  }
  void post(std::function<void()> fn) override { push(clock_.mono_ms(), std::move(fn)); }

  void run() {
    while (!events_.empty()) {
      if (++delivered_ > kMaxEvents) TERN_BUG("the iterator keeps the event queue busy forever");
      auto it = std::min_element(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
        return a.due != b.due ? a.due < b.due : a.seq < b.seq;
      });
      Event e = std::move(*it);
      events_.erase(it);
      if (e.due > clock_.mono_ms()) clock_.advance_ms(e.due - clock_.mono_ms());
      e.fn();
    }
  }
  size_t sent() const { return sent_; }
  size_t waiting() const { return handlers_.size(); }

 private:
  struct Event {
    uint64_t due;
    uint64_t seq;
    std::function<void()> fn;
  };
  void push(uint64_t due, std::function<void()> fn) {
    events_.push_back(Event{due, next_seq_++, std::move(fn)});
  }

  uint64_t next_reply(const UpstreamQuery& q, UpstreamReply& reply) {
    if (script_.size() < 3) {
      reply.status = TransportStatus::Timeout;
      return q.timeout_ms;
    }
    const uint8_t ctl = script_[0];
    size_t len = std::min<size_t>(static_cast<size_t>((script_[1] << 8) | script_[2]),
                                  script_.size() - 3);
    auto bytes = script_.subspan(3, len);
    script_ = script_.subspan(3 + len);
    const uint64_t rtt = std::min<uint64_t>(1u + 25u * (ctl >> 4), q.timeout_ms);
    switch (ctl & 3u) {
      case 2:
        reply.status = TransportStatus::Timeout;
        return q.timeout_ms;
      case 3:
        reply.status = TransportStatus::NetworkError;
        return 1;
      default:
        break;
    }
    auto m = dns::parse_message(bytes);
    if (!m) {
      reply.status = TransportStatus::Malformed;
      return rtt;
    }
    if (ctl & 4u) {
      m->header.qr = true;
      m->questions.assign(1, q.question);
    }
    reply.status = TransportStatus::Reply;
    reply.message = std::move(*m);
    reply.rtt_ms = static_cast<uint32_t>(rtt);
    return rtt;
  }

  util::FakeClock& clock_;
  std::span<const uint8_t> script_;
  std::vector<Event> events_;
  std::map<Handle, ReplyHandler> handlers_;
  Handle next_handle_ = 1;
  uint64_t next_seq_ = 1;
  size_t sent_ = 0;
  size_t delivered_ = 0;
};

const char* const kNames[] = {"www.example.com.", "example.com.",         "a.b.c.d.e.example.org.",
                              ".",                "WwW.ExAmPlE.CoM.",     "ns1.example.net.",
                              "x.y.test.",        "mail.sub.example.com."};
const dns::RRType kTypes[] = {dns::RRType::A,   dns::RRType::AAAA, dns::RRType::NS,
                              dns::RRType::MX,  dns::RRType::TXT,  dns::RRType::CNAME,
                              dns::RRType::SOA, dns::RRType::DS,   dns::RRType::ANY,
                              dns::RRType::PTR, dns::RRType::SRV,  dns::RRType::DNAME};

dns::Name name(const char* text) {
  auto n = dns::Name::from_text(text);
  TERN_ASSERT(n.has_value());
  return *n;
}

net::Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return net::Address::v4(a, b, c, d); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 256 * 1024) return 0;
  static const bool quiet = [] {  // the iterator's warnings would drown the fuzzer's output
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  const uint8_t ctl = data[0];
  const dns::RRType qtype = kTypes[data[1] % std::size(kTypes)];

  util::FakeClock clock;
  util::FakeRandom random{static_cast<uint64_t>(size) * 2654435761u + 1};
  ScriptedNet net(clock, {data + 2, size - 2});
  InfraCache infra(clock, 1u << 20);
  IteratorOptions opts;
  opts.root_hints = {RootHint{name("a.root-servers.net."), {v4(10, 0, 0, 1)}},
                     RootHint{name("b.root-servers.net."), {v4(10, 0, 0, 2)}}};
  static constexpr QnameMinimisation kModes[] = {QnameMinimisation::Off, QnameMinimisation::Relaxed,
                                                 QnameMinimisation::Strict,
                                                 QnameMinimisation::Relaxed};
  opts.qname_minimisation = kModes[ctl & 3u];
  opts.use_0x20 = (ctl & 4u) != 0;
  opts.query_ipv6 = (ctl & 8u) != 0;
  auto it = std::make_unique<Iterator>(net, net, clock, random, opts, infra);

  unsigned questions = (ctl & 16u) ? 2 : 1;
  for (unsigned i = 0; i < questions; ++i) {
    const char* qname = kNames[((ctl >> 5) + i * 3) % std::size(kNames)];
    int completions = 0;
    bool inside = true;
    const uint64_t start = clock.mono_ms();
    uint64_t finished = 0;
    const size_t sent_before = net.sent();
    const uint64_t primings_before = it->stats().primings;
    it->resolve(Request{dns::Question{name(qname), qtype, dns::RRClass::IN}}, [&](Outcome o) {
      TERN_ASSERT(!inside);  // never from inside resolve()
      ++completions;
      finished = clock.mono_ms();
      if (o.status == Status::Answer) TERN_ASSERT(o.response.has_value());
      if (o.response) {
        std::vector<uint8_t> buf(65535);
        (void)dns::build_message(*o.response, buf);  // what the server will do with it
      }
    });
    inside = false;
    net.run();
    if (completions != 1) {
      std::fprintf(stderr, "resolution %u completed %d times\n", i, completions);
      TERN_BUG("a resolution did not complete exactly once");
    }
    const uint64_t primings = it->stats().primings - primings_before;
    const size_t sent = net.sent() - sent_before;
    if (sent > kMaxUpstreamQueries * (1 + primings)) {
      std::fprintf(stderr, "%zu queries sent for one question (%llu primings)\n", sent,
                   static_cast<unsigned long long>(primings));
      TERN_BUG("upstream query budget exceeded");
    }
    if (finished - start > kMaxResolutionTimeMs + 1000) {
      std::fprintf(stderr, "resolution took %llu ms\n",
                   static_cast<unsigned long long>(finished - start));
      TERN_BUG("resolution time budget exceeded");
    }
    TERN_ASSERT(net.waiting() == 0);
    TERN_ASSERT(it->active_resolutions() == 0);
  }
  it->shutdown();
  net.run();
  TERN_ASSERT(it->active_resolutions() == 0);
  it.reset();
  return 0;
}
