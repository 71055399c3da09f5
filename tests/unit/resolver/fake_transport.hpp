// FakeTransport: a scripted network for iterator tests. No sockets, no real time: queries go
// into an event queue and run() delivers replies in time order, moving the FakeClock forward
// (a timeout costs exactly the query's timeout_ms). Each server address either serves small
// in-memory zones like an authoritative server (referrals with glue, CNAME, DNAME, NODATA and
// NXDOMAIN with SOA) or follows per-query scripts and per-server misbehaviours (dead, REFUSED,
// no 0x20 echo, FORMERR to EDNS, TC over UDP, a wrong question). Every query is recorded so
// tests assert the count, order and target of what the iterator sent.
// It is also the Scheduler: posted work runs from the same pump, at the current time.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dns/message.hpp"
#include "resolver/record_util.hpp"
#include "resolver/scheduler.hpp"
#include "resolver/transport.hpp"
#include "util/clock.hpp"

namespace tern::resolver::test {

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return s;
}

struct SentQuery {
  net::Endpoint server;
  dns::Question question;  // exactly as sent (0x20 case)
  Protocol protocol = Protocol::Udp;
  bool edns = true;
  uint32_t timeout_ms = 0;
  // "10.0.0.1 www.example.com. A" (+ " tcp", " noedns"): the form tests compare.
  std::string line() const {
    std::string s = server.address.to_string() + " " + lower(question.qname.to_text()) + " " +
                    dns::type_to_text(question.qtype);
    if (protocol == Protocol::Tcp) s += " tcp";
    if (!edns) s += " noedns";
    return s;
  }
};

struct FakeZone {
  dns::Name origin;
  std::vector<dns::ResourceRecord> records;
};

// What a server does beyond serving its zones.
struct Misbehaviour {
  bool dead = false;              // every query times out
  unsigned drop_next = 0;         // the next N queries are lost (time out)
  bool refuse_all = false;        // REFUSED to everything
  bool no_case_echo = false;      // question echoed lower-cased (ignores 0x20)
  bool formerr_on_edns = false;   // FORMERR without OPT to EDNS queries (pre-RFC 6891)
  bool tc_over_udp = false;       // every UDP answer truncated; TCP works
  bool nxdomain_ent = false;      // NXDOMAIN for empty non-terminals (broken for QNAME-min)
  uint32_t rtt_ms = 10;
};

struct Script {
  enum class Kind { Reply, Timeout, NetworkError } kind = Kind::Reply;
  dns::Message message;
  std::optional<dns::Question> question_override;  // a reply for another question (spoof)
  bool clear_qr = false;                           // a "reply" that is a query
};

class FakeTransport final : public Transport, public Scheduler {
 public:
  explicit FakeTransport(util::FakeClock& clock) : clock_(clock) {}

  void add_zone(const net::Address& server, FakeZone zone) {
    servers_[server].zones.push_back(std::move(zone));
  }
  Misbehaviour& behaviour(const net::Address& server) { return servers_[server].mis; }
  // An exact reply for (server, qname, qtype), taking precedence over the zones.
  void script(const net::Address& server, const std::string& qname, dns::RRType qtype,
              Script s) {
    scripts_[key(server, qname, qtype)] = std::move(s);
  }

  Handle send(const UpstreamQuery& q, ReplyHandler handler) override {
    Handle h = next_handle_++;
    sent_.push_back(SentQuery{q.server, q.question, q.protocol, q.edns, q.timeout_ms});
    UpstreamReply reply;
    uint64_t delay = respond(q, reply);
    push(clock_.mono_ms() + delay, h, [handler, reply]() mutable { handler(std::move(reply)); });
    handlers_[h] = handler;
    return h;
  }
  void cancel(Handle h) override {
    auto it = handlers_.find(h);
    if (it == handlers_.end()) return;
    ++cancelled_;
    auto handler = it->second;
    std::erase_if(events_, [h](const Event& e) { return e.handle == h; });
    push(clock_.mono_ms(), h, [handler] {
      UpstreamReply r;
      r.status = TransportStatus::Cancelled;
      handler(std::move(r));
    });
  }
  void post(std::function<void()> fn) override { push(clock_.mono_ms(), 0, std::move(fn)); }

  // Delivers everything queued, in time order. Bounded: a runaway test fails, never hangs.
  void run(size_t max_events = 20000) {
    for (size_t n = 0; run_one(); ++n) REQUIRE(n < max_events);
  }
  // Delivers the next event; false when there was none.
  bool run_one() {
    if (events_.empty()) return false;
    {
      auto it = std::min_element(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
        return a.due != b.due ? a.due < b.due : a.seq < b.seq;
      });
      Event e = std::move(*it);
      events_.erase(it);
      if (e.due > clock_.mono_ms()) clock_.advance_ms(e.due - clock_.mono_ms());
      if (e.handle) handlers_.erase(e.handle);
      e.fn();
    }
    return true;
  }

  const std::vector<SentQuery>& sent() const { return sent_; }
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    for (const auto& s : sent_) v.push_back(s.line());
    return v;
  }
  void clear_sent() { sent_.clear(); }
  size_t cancelled() const { return cancelled_; }
  size_t pending() const { return events_.size(); }

 private:
  struct Event {
    uint64_t due;
    uint64_t seq;
    Handle handle;
    std::function<void()> fn;
  };
  struct Server {
    std::vector<FakeZone> zones;
    Misbehaviour mis;
  };

  static std::string key(const net::Address& a, const std::string& qname, dns::RRType t) {
    auto n = dns::Name::from_text(qname);
    return a.to_string() + " " + (n ? lower(n->to_text()) : qname) + " " + dns::type_to_text(t);
  }
  void push(uint64_t due, Handle h, std::function<void()> fn) {
    events_.push_back(Event{due, next_seq_++, h, std::move(fn)});
  }

  // Fills reply; returns the delay until it arrives.
  uint64_t respond(const UpstreamQuery& q, UpstreamReply& reply) {
    Server& srv = servers_[q.server.address];
    auto& mis = srv.mis;
    if (mis.drop_next > 0) {
      --mis.drop_next;
      reply.status = TransportStatus::Timeout;
      return q.timeout_ms;
    }
    auto it = scripts_.find(key(q.server.address, q.question.qname.to_text(), q.question.qtype));
    if (mis.dead || (it != scripts_.end() && it->second.kind == Script::Kind::Timeout)) {
      reply.status = TransportStatus::Timeout;
      return q.timeout_ms;
    }
    if (it != scripts_.end() && it->second.kind == Script::Kind::NetworkError) {
      reply.status = TransportStatus::NetworkError;
      return 1;
    }
    dns::Message m;
    if (it != scripts_.end()) {
      m = it->second.message;
    } else if (mis.refuse_all) {
      m.set_rcode(dns::RCode::Refused);
    } else if (q.edns && mis.formerr_on_edns) {
      m.set_rcode(dns::RCode::FormErr);
    } else {
      m = serve(srv, q.question, mis.nxdomain_ent);
    }
    m.header.qr = !(it != scripts_.end() && it->second.clear_qr);
    m.header.id = 4242;
    m.questions = {q.question};
    if (it != scripts_.end() && it->second.question_override)
      m.questions = {*it->second.question_override};
    if (mis.no_case_echo) m.questions[0].qname.to_lower();
    const bool formerr_edns = q.edns && mis.formerr_on_edns && it == scripts_.end();
    if (q.edns && !formerr_edns) {
      auto rcode = m.rcode();
      m.edns = dns::Edns{};
      m.set_rcode(rcode);
    } else {
      m.edns.reset();
    }
    if (formerr_edns) m.questions.clear();  // as old servers do: a bare FORMERR header
    if (mis.tc_over_udp && q.protocol == Protocol::Udp) {
      m.answer.clear();
      m.authority.clear();
      m.additional.clear();
      m.header.tc = true;
    }
    reply.status = TransportStatus::Reply;
    reply.rtt_ms = mis.rtt_ms;
    reply.message = std::move(m);
    return mis.rtt_ms;
  }

  // A small authoritative server (RFC 1034 §4.3.2, simplified to what the tests need).
  static dns::Message serve(const Server& srv, const dns::Question& q, bool nxdomain_ent) {
    dns::Message m;
    const FakeZone* zone = nullptr;
    for (const auto& z : srv.zones)
      if (q.qname.is_subdomain_of(z.origin) &&
          (!zone || z.origin.label_count() >= zone->origin.label_count()))  // later wins
        zone = &z;
    if (!zone) {
      m.set_rcode(dns::RCode::Refused);
      return m;
    }
    const auto soa = [&] {
      for (const auto& rr : zone->records)
        if (rr.type == dns::RRType::SOA) m.authority.push_back(rr);
    };
    const auto glue = [&](const dns::Name& target) {
      for (const auto& rr : zone->records)
        if (rr.name == target && (rr.type == dns::RRType::A || rr.type == dns::RRType::AAAA))
          m.additional.push_back(rr);
    };
    dns::Name name = q.qname;
    for (int hop = 0; hop < 8; ++hop) {
      // A delegation between the origin and the name (the highest one wins).
      const unsigned zl = zone->origin.label_count();
      for (unsigned l = zl + 1; l <= name.label_count(); ++l) {
        dns::Name cut = name.suffix(l);
        if (q.qtype == dns::RRType::DS && cut == name) break;  // DS is the parent's
        bool delegated = false;
        for (const auto& rr : zone->records)
          if (rr.type == dns::RRType::NS && rr.name == cut) {
            delegated = true;
            m.authority.push_back(rr);
            if (auto t = rdata_target(rr)) glue(*t);
          }
        if (delegated) return m;
      }
      for (const auto& rr : zone->records)
        if (rr.type == dns::RRType::DNAME && !(rr.name == name) && name.is_subdomain_of(rr.name)) {
          m.header.aa = true;
          m.answer.push_back(rr);
          auto next = name.replace_suffix(rr.name, *rdata_target(rr));
          dns::ResourceRecord c{name, dns::RRType::CNAME, dns::RRClass::IN, rr.ttl, {}};
          c.rdata.assign(next->wire().begin(), next->wire().end());
          m.answer.push_back(c);
          name = *next;
          if (!name.is_subdomain_of(zone->origin)) return m;
          goto next_hop;
        }
      {
        m.header.aa = true;
        bool exists = false, found = false, owns = false;
        const dns::ResourceRecord* cname = nullptr;
        for (const auto& rr : zone->records) {
          if (rr.name.is_subdomain_of(name)) exists = true;
          if (!(rr.name == name)) continue;
          owns = true;
          if (rr.type == q.qtype) {
            m.answer.push_back(rr);
            found = true;
          } else if (rr.type == dns::RRType::CNAME) {
            cname = &rr;
          }
        }
        if (found) {
          if (q.qtype == dns::RRType::NS)
            for (const auto& rr : m.answer)
              if (auto t = rdata_target(rr)) glue(*t);
          return m;
        }
        if (cname) {
          m.answer.push_back(*cname);
          name = *rdata_target(*cname);
          if (!name.is_subdomain_of(zone->origin)) return m;
          continue;
        }
        if (!exists || (nxdomain_ent && !owns)) m.set_rcode(dns::RCode::NxDomain);
        soa();
        return m;
      }
    next_hop:;
    }
    return m;
  }

  util::FakeClock& clock_;
  std::map<net::Address, Server> servers_;
  std::map<std::string, Script> scripts_;
  std::vector<Event> events_;
  std::map<Handle, ReplyHandler> handlers_;
  std::vector<SentQuery> sent_;
  Handle next_handle_ = 1;
  uint64_t next_seq_ = 1;
  size_t cancelled_ = 0;
};

}  // namespace tern::resolver::test
