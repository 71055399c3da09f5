// Test doubles for the server tests: a resolver whose completions the test triggers, a
// scheduler whose timers the test fires, a sink that records replies, and query builders.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "dns/message.hpp"
#include "resolver/resolver.hpp"
#include "server/client.hpp"
#include "server/scheduler.hpp"

namespace tern::server::test {

class FakeResolver final : public resolver::Resolver {
 public:
  struct Call {
    resolver::Request request;
    resolver::Completion done;
    bool completed = false;
  };
  void resolve(const resolver::Request& request, resolver::Completion done) override {
    calls.push_back({request, std::move(done), false});
  }
  void shutdown() override {
    for (size_t i = 0; i < calls.size(); ++i)
      if (!calls[i].completed) complete(i, {resolver::Status::ServFail, std::nullopt});
  }
  void complete(size_t i, resolver::Outcome o) {
    calls.at(i).completed = true;
    auto fn = std::move(calls[i].done);
    fn(std::move(o));
  }
  std::deque<Call> calls;
};

class FakeScheduler final : public Scheduler {
 public:
  TimerId after(uint64_t ms, std::function<void()> fn) override {
    TimerId id = next_++;
    timers[id] = {ms, std::move(fn)};
    return id;
  }
  void cancel(TimerId id) override { timers.erase(id); }
  // Runs every armed timer (as if all were due).
  void fire_all() {
    auto due = std::move(timers);
    timers.clear();
    for (auto& [id, t] : due) t.second();
  }
  std::map<TimerId, std::pair<uint64_t, std::function<void()>>> timers;

 private:
  TimerId next_ = 1;
};

class FakeSink final : public ReplySink {
 public:
  struct Sent {
    ClientRef client;
    std::vector<uint8_t> bytes;
  };
  void send_reply(const ClientRef& client, std::span<const uint8_t> reply) override {
    sent.push_back({client, {reply.begin(), reply.end()}});
  }
  std::vector<Sent> sent;
};

struct QuerySpec {
  std::string qname = "www.example.com.";
  dns::RRType qtype = dns::RRType::A;
  dns::RRClass qclass = dns::RRClass::IN;
  uint16_t id = 0x1234;
  bool rd = true;
  bool cd = false;
  bool edns = false;
  uint16_t payload = 1232;
  uint8_t version = 0;
  bool dnssec_ok = false;
};

inline std::vector<uint8_t> make_query(const QuerySpec& s) {
  dns::Message m;
  m.header.id = s.id;
  m.header.rd = s.rd;
  m.header.cd = s.cd;
  m.questions.push_back({*dns::Name::from_text(s.qname), s.qtype, s.qclass});
  if (s.edns) {
    dns::Edns e;
    e.udp_payload = s.payload;
    e.version = s.version;
    e.dnssec_ok = s.dnssec_ok;
    m.edns = e;
  }
  dns::BuildOptions bo;
  bo.compression = dns::Compression::Off;
  return dns::encode_message(m, bo);
}

inline dns::ResourceRecord a_record(const std::string& owner, uint32_t ttl, uint8_t last) {
  return {*dns::Name::from_text(owner), dns::RRType::A, dns::RRClass::IN, ttl, {192, 0, 2, last}};
}

inline dns::ResourceRecord txt_record(const std::string& owner, uint32_t ttl, size_t len) {
  dns::ResourceRecord rr{*dns::Name::from_text(owner), dns::RRType::TXT, dns::RRClass::IN, ttl, {}};
  rr.rdata.push_back(static_cast<uint8_t>(len));
  rr.rdata.insert(rr.rdata.end(), len, 'x');
  return rr;
}

// A resolver answer (question and flags are the server's business).
inline resolver::Outcome answer(std::vector<dns::ResourceRecord> rrs,
                                dns::RCode rcode = dns::RCode::NoError) {
  dns::Message m;
  m.header.qr = true;
  m.header.ra = true;
  m.answer = std::move(rrs);
  m.set_rcode(rcode);
  return {resolver::Status::Answer, m};
}

}  // namespace tern::server::test
