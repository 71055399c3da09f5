// Per-upstream counts (UpstreamObserver): what the iterator's NetTransport and the c-ares
// forwarder report for each server they talk to — queries sent, timeouts, replies rejected as
// spoof attempts, errors — against scripted servers on 127.0.0.1, and that each server's
// counters are looked up once, not per query.
#include <catch2/catch.hpp>

#include <map>
#include <memory>

#include "client/cares_forwarder.hpp"
#include "client/udp_tcp_transport.hpp"
#include "client/upstream_observer.hpp"
#include "fake_upstream.hpp"
#include "util/random.hpp"

using namespace tern;
using namespace tern::client;
using namespace tern::client::test;
using resolver::TransportStatus;

namespace {

class RecordingObserver final : public UpstreamObserver {
 public:
  UpstreamCounters& upstream_counters(const net::Endpoint& server) override {
    ++lookups[server];
    auto& c = counters[server];
    if (!c) c = std::make_unique<UpstreamCounters>();
    return *c;
  }
  const UpstreamCounters& of(const net::Endpoint& server) {
    auto& c = counters[server];
    if (!c) c = std::make_unique<UpstreamCounters>();
    return *c;
  }
  std::map<net::Endpoint, std::unique_ptr<UpstreamCounters>> counters;
  std::map<net::Endpoint, int> lookups;
};

dns::Message parsed(const std::vector<uint8_t>& bytes) {
  auto m = dns::parse_message(bytes);
  REQUIRE(m);
  return std::move(m).value();
}

// Answers every query, after a forged copy with another ID (RFC 5452: a spoof attempt).
void forge_then_answer(FakeUdpServer& srv) {
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    auto q = parsed(r.bytes);
    auto forged = answer_to(q, 66);
    forged.header.id = static_cast<uint16_t>(q.header.id ^ 0x5a5a);
    s.send_to(wire(forged), r.from);
    s.send_to(wire(answer_to(q, 1)), r.from);
  });
}

}  // namespace

TEST_CASE("the transport counts queries, spoof attempts, timeouts and errors per server",
          "[client][transport][metrics]") {
  TestLoop loop;
  util::SystemRandom rnd;
  RecordingObserver obs;
  TransportOptions o;
  o.observer = &obs;
  NetTransport t(loop.get(), rnd, o);
  FakeUdpServer good(loop.get()), silent(loop.get());
  REQUIRE(good.bound());
  REQUIRE(silent.bound());
  forge_then_answer(good);
  net::Endpoint closed;
  {
    FakeUdpServer tmp(loop.get());
    closed = tmp.endpoint();
  }
  run_until(loop.get(), [] { return false; }, 10);  // let it close

  int done = 0;
  std::map<TransportStatus, int> statuses;
  auto handler = [&](resolver::UpstreamReply r) {
    ++done;
    ++statuses[r.status];
  };
  for (int i = 0; i < 3; ++i) {
    resolver::UpstreamQuery q;
    q.server = good.endpoint();
    q.question = question("www.example.");
    t.send(q, handler);
  }
  resolver::UpstreamQuery q;
  q.question = question("www.example.");
  q.timeout_ms = 200;
  q.server = silent.endpoint();
  t.send(q, handler);
  q.server = closed;
  q.timeout_ms = 2000;
  t.send(q, handler);
  REQUIRE(run_until(loop.get(), [&] { return done == 5; }, 4000));
  CHECK(statuses[TransportStatus::Reply] == 3);
  CHECK(statuses[TransportStatus::Timeout] == 1);
  CHECK(statuses[TransportStatus::NetworkError] == 1);

  const UpstreamCounters& g = obs.of(good.endpoint());
  CHECK(g.queries == 3);
  CHECK(g.spoof_attempts == 3);
  CHECK(g.timeouts == 0);
  CHECK(g.errors == 0);
  const UpstreamCounters& s = obs.of(silent.endpoint());
  CHECK(s.queries == 1);
  CHECK(s.timeouts == 1);
  CHECK(s.spoof_attempts == 0);
  const UpstreamCounters& c = obs.of(closed);
  CHECK(c.queries == 1);
  CHECK(c.errors == 1);  // ICMP port unreachable
  // One lookup per server, however many queries went there.
  CHECK(obs.lookups[good.endpoint()] == 1);
  CHECK(obs.lookups[silent.endpoint()] == 1);
  CHECK(obs.lookups[closed] == 1);
}

TEST_CASE("a garbage datagram with the query's ID counts as an error of that server",
          "[client][transport][metrics]") {
  TestLoop loop;
  util::SystemRandom rnd;
  RecordingObserver obs;
  TransportOptions o;
  o.observer = &obs;
  NetTransport t(loop.get(), rnd, o);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    std::vector<uint8_t> junk(r.bytes.begin(), r.bytes.begin() + 2);  // our ID, then garbage
    junk.insert(junk.end(), {0x81, 0x80, 0, 9, 0, 9});
    s.send_to(junk, r.from);
  });
  int done = 0;
  resolver::UpstreamQuery q;
  q.server = srv.endpoint();
  q.question = question("www.example.");
  q.timeout_ms = 200;
  t.send(q, [&](resolver::UpstreamReply r) {
    ++done;
    CHECK(r.status == TransportStatus::Malformed);
  });
  REQUIRE(run_until(loop.get(), [&] { return done == 1; }, 3000));
  CHECK(obs.of(srv.endpoint()).queries == 1);
  CHECK(obs.of(srv.endpoint()).errors == 1);
  CHECK(obs.of(srv.endpoint()).timeouts == 0);  // it ended Malformed, not Timeout
}

TEST_CASE("the forwarder counts queries, timeouts and wrong-ID replies per upstream",
          "[client][forwarder][metrics]") {
  TestLoop loop;
  FakeUdpServer dead(loop.get()), good(loop.get());
  REQUIRE(dead.bound());
  REQUIRE(good.bound());
  forge_then_answer(good);
  util::SystemRandom rnd;
  RecordingObserver obs;
  ForwarderOptions fo;
  fo.attempt_timeout_ms = 200;
  fo.rounds = 1;
  fo.observer = &obs;
  auto pol = resolver::ForwardPolicy::create(
      {resolver::ForwardZone{name("example."), {dead.endpoint(), good.endpoint()}}});
  REQUIRE(pol);
  int done = 0;
  {
    CaresForwarder fwd(loop.get(), std::move(pol).value(), rnd, fo);
    resolver::Request req;
    req.question = question("www.example.");
    // First: the dead upstream times out, the good one answers (after a forged datagram).
    fwd.resolve(req, [&](resolver::Outcome o) {
      ++done;
      CHECK(o.status == resolver::Status::Answer);
    });
    REQUIRE(run_until(loop.get(), [&] { return done == 1; }, 3000));
    // Second: the same again (one timeout does not hold an upstream down, upstream_health).
    fwd.resolve(req, [&](resolver::Outcome o) {
      ++done;
      CHECK(o.status == resolver::Status::Answer);
    });
    REQUIRE(run_until(loop.get(), [&] { return done == 2; }, 3000));
    fwd.shutdown();
  }
  run_until(loop.get(), [] { return false; }, 20);
  const UpstreamCounters& d = obs.of(dead.endpoint());
  CHECK(d.queries == 2);
  CHECK(d.timeouts == 2);
  CHECK(d.spoof_attempts == 0);
  const UpstreamCounters& g = obs.of(good.endpoint());
  CHECK(g.queries == 2);
  CHECK(g.timeouts == 0);
  CHECK(g.spoof_attempts == 2);  // the forged datagrams c-ares dropped without a word
  CHECK(g.errors == 0);
  CHECK(obs.lookups[dead.endpoint()] == 1);  // once, at construction
  CHECK(obs.lookups[good.endpoint()] == 1);
}
