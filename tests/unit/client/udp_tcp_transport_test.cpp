#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "client/reply_check.hpp"
#include "client/udp_tcp_transport.hpp"
#include "fake_upstream.hpp"
#include "util/random.hpp"

using namespace tern;
using namespace tern::client;
using namespace tern::client::test;
using resolver::Protocol;
using resolver::TransportStatus;
using resolver::UpstreamQuery;
using resolver::UpstreamReply;

namespace {

UpstreamQuery query_to(const net::Endpoint& server, const char* qname = "www.example.",
                       uint32_t timeout_ms = 1000) {
  UpstreamQuery q;
  q.server = server;
  q.question = question(qname);
  q.timeout_ms = timeout_ms;
  return q;
}

dns::Message parsed(const std::vector<uint8_t>& bytes) {
  auto m = dns::parse_message(bytes);
  REQUIRE(m);
  return std::move(m).value();
}

struct Result {
  std::optional<UpstreamReply> reply;
  int calls = 0;
  resolver::ReplyHandler handler() {
    return [this](UpstreamReply r) {
      ++calls;
      reply = std::move(r);
    };
  }
};

}  // namespace

TEST_CASE("a matching UDP reply is accepted and the query carries a random ID and EDNS",
          "[client][transport]") {
  TestLoop loop;
  util::FakeRandom rnd(7);
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  REQUIRE(srv.bound());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    s.send_to(wire(answer_to(parsed(r.bytes), 7)), r.from);
  });
  Result res;
  auto q = query_to(srv.endpoint());
  q.dnssec_ok = true;
  q.edns_payload = 1400;
  t.send(q, res.handler());
  CHECK(res.calls == 0);  // never from inside send()
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  REQUIRE(res.reply->status == TransportStatus::Reply);
  REQUIRE(res.reply->message);
  REQUIRE(res.reply->message->answer.size() == 1);
  CHECK(res.reply->message->answer[0].rdata == std::vector<uint8_t>{192, 0, 2, 7});

  REQUIRE(srv.received().size() == 1);
  auto sent = parsed(srv.received()[0].bytes);
  CHECK_FALSE(sent.header.rd);  // iteration asks authoritative servers: RD clear
  CHECK(sent.questions.at(0) == q.question);
  REQUIRE(sent.edns);
  CHECK(sent.edns->udp_payload == 1400);
  CHECK(sent.edns->dnssec_ok);
  CHECK(t.stats().replies == 1);
  CHECK(t.stats().spoof_attempts == 0);
  CHECK(res.calls == 1);
}

TEST_CASE("a reply with the wrong ID is ignored and the right one after it is accepted",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    auto q = parsed(r.bytes);
    auto forged = answer_to(q, 66);
    forged.header.id = static_cast<uint16_t>(q.header.id ^ 0x5a5a);
    s.send_to(wire(forged), r.from);
    s.send_to(wire(answer_to(q, 1)), r.from);
  });
  Result res;
  t.send(query_to(srv.endpoint()), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  REQUIRE(res.reply->status == TransportStatus::Reply);
  CHECK(res.reply->message->answer.at(0).rdata == std::vector<uint8_t>{192, 0, 2, 1});
  CHECK(t.stats().spoof_attempts == 1);
}

TEST_CASE("a reply for another question is ignored, counted, and the query times out",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    auto q = parsed(r.bytes);
    auto other = q;
    other.questions[0].qname = name("www.attacker.");
    s.send_to(wire(answer_to(other)), r.from);
    auto other_type = q;
    other_type.questions[0].qtype = dns::RRType::AAAA;
    s.send_to(wire(answer_to(other_type)), r.from);
    // The query itself echoed back (QR clear) is not a reply either.
    s.send_to(r.bytes, r.from);
  });
  Result res;
  t.send(query_to(srv.endpoint(), "www.example.", 300), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::Timeout);
  CHECK(t.stats().spoof_attempts == 3);
  CHECK(t.stats().timeouts == 1);
}

TEST_CASE("a qname that differs only in case is the same question", "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    auto q = parsed(r.bytes);
    q.questions[0].qname = name("WWW.EXAMPLE.");
    s.send_to(wire(answer_to(q)), r.from);
  });
  Result res;
  t.send(query_to(srv.endpoint(), "wWw.ExAmple."), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::Reply);
}

TEST_CASE("a correct-looking reply from another port of the server's address is not accepted",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  FakeUdpServer attacker(loop.get());
  REQUIRE(attacker.bound());
  srv.on_query([&](FakeUdpServer&, const FakeUdpServer::Received& r) {
    // The attacker knows ID, question and port (the worst case); only the source differs.
    attacker.send_to(wire(answer_to(parsed(r.bytes), 66)), r.from);
  });
  Result res;
  t.send(query_to(srv.endpoint(), "www.example.", 300), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::Timeout);
  CHECK_FALSE(res.reply->message);
}

TEST_CASE("garbage with the right ID is counted as malformed and a good reply still wins",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  bool send_good = true;
  srv.on_query([&](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    auto good = wire(answer_to(parsed(r.bytes)));
    std::vector<uint8_t> cut(good.begin(), good.begin() + 20);  // ends inside the question
    s.send_to(cut, r.from);
    std::vector<uint8_t> tiny(good.begin(), good.begin() + 3);
    s.send_to(tiny, r.from);
    if (send_good) s.send_to(good, r.from);
  });
  Result res;
  t.send(query_to(srv.endpoint(), "www.example.", 400), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::Reply);
  CHECK(t.stats().malformed == 2);

  SECTION("and with nothing better the query ends Malformed, not Timeout") {
    send_good = false;
    Result res2;
    t.send(query_to(srv.endpoint(), "www.example.", 300), res2.handler());
    REQUIRE(run_until(
        loop.get(), [&] { return res2.calls > 0; }, 3000));
    CHECK(res2.reply->status == TransportStatus::Malformed);
    CHECK(t.stats().malformed == 4);
  }
}

TEST_CASE("a silent server times out after the query's timeout", "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  Result res;
  uint64_t start = uv_now(loop.get());
  t.send(query_to(srv.endpoint(), "www.example.", 200), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  uint64_t took = uv_now(loop.get()) - start;
  CHECK(res.reply->status == TransportStatus::Timeout);
  CHECK(took >= 190);
  CHECK(took < 1000);
  CHECK(srv.received().size() == 1);
}

TEST_CASE("a truncated reply is handed back as it is: TCP retry is the caller's choice",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    auto a = answer_to(parsed(r.bytes));
    a.answer.clear();
    a.header.tc = true;
    s.send_to(wire(a), r.from);
  });
  Result res;
  t.send(query_to(srv.endpoint()), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  REQUIRE(res.reply->status == TransportStatus::Reply);
  CHECK(res.reply->message->header.tc);
}

TEST_CASE("a closed UDP port fails fast with a network error", "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  net::Endpoint closed;
  {
    FakeUdpServer tmp(loop.get());
    closed = tmp.endpoint();
  }
  run_until(
      loop.get(), [] { return false; }, 10);  // let it close
  Result res;
  t.send(query_to(closed, "www.example.", 2000), res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::NetworkError);
  CHECK(res.reply->rtt_ms < 1000);
}

TEST_CASE("a reply already waiting when the timer fires late is delivered, not timed out",
          "[client][transport]") {
  // libuv runs expired timers before it polls: after an iteration longer than the timeout
  // (here: the test not running the loop for 150 ms), the reply sits in the socket when the
  // timer fires. The transport must read it rather than report a timeout.
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  // A plain blocking socket as the server, so it answers while the loop is not running.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  net::Endpoint server{net::Address::v4(INADDR_LOOPBACK), ntohs(sa.sin_port)};

  Result res;
  t.send(query_to(server, "www.example.", 50), res.handler());
  uv_run(loop.get(), UV_RUN_NOWAIT);  // the query goes out
  std::vector<uint8_t> buf(1500);
  sockaddr_in from{};
  socklen_t from_len = sizeof from;
  ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                         &from_len);
  REQUIRE(n > 0);
  buf.resize(static_cast<size_t>(n));
  auto reply = wire(answer_to(parsed(buf), 9));
  REQUIRE(::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                   from_len) == static_cast<ssize_t>(reply.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // 3x the timeout
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  ::close(fd);
  REQUIRE(res.reply->status == TransportStatus::Reply);
  REQUIRE(res.reply->message);
  CHECK(res.reply->message->answer.at(0).rdata == std::vector<uint8_t>{192, 0, 2, 9});
  CHECK(t.stats().late_replies == 1);
  CHECK(t.stats().timeouts == 0);
}

TEST_CASE("a TCP query gets its framed reply, skipping a mismatched one, in pieces",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeTcpServer srv(loop.get());
  REQUIRE(srv.bound());
  srv.on_query([](FakeTcpServer& s, FakeTcpServer::Conn& c, const std::vector<uint8_t>& msg) {
    auto q = parsed(msg);
    auto wrong = answer_to(q, 66);
    wrong.header.id = static_cast<uint16_t>(q.header.id + 1);
    s.reply(c, wire(wrong));
    auto good = wire(answer_to(q, 9));
    std::vector<uint8_t> framed{static_cast<uint8_t>(good.size() >> 8),
                                static_cast<uint8_t>(good.size() & 0xff)};
    framed.insert(framed.end(), good.begin(), good.end());
    // Split inside the length prefix and inside the message.
    s.write_raw(c, {framed.begin(), framed.begin() + 1});
    s.write_raw(c, {framed.begin() + 1, framed.begin() + 10});
    s.write_raw(c, {framed.begin() + 10, framed.end()});
  });
  Result res;
  auto q = query_to(srv.endpoint());
  q.protocol = Protocol::Tcp;
  t.send(q, res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  REQUIRE(res.reply->status == TransportStatus::Reply);
  CHECK(res.reply->message->answer.at(0).rdata == std::vector<uint8_t>{192, 0, 2, 9});
  CHECK(t.stats().spoof_attempts == 1);
  CHECK(t.stats().tcp_sent == 1);
}

TEST_CASE("an unparseable TCP reply ends the query as malformed at once", "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeTcpServer srv(loop.get());
  srv.on_query([](FakeTcpServer& s, FakeTcpServer::Conn& c, const std::vector<uint8_t>& msg) {
    auto good = wire(answer_to(parsed(msg)));
    good.resize(good.size() - 3);  // the last record's RDATA is cut
    s.reply(c, good);
  });
  Result res;
  auto q = query_to(srv.endpoint(), "www.example.", 2000);
  q.protocol = Protocol::Tcp;
  t.send(q, res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::Malformed);
  CHECK(res.reply->rtt_ms < 1000);
}

TEST_CASE("a TCP server that never finishes its reply runs into the timeout",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeTcpServer srv(loop.get());
  srv.on_query([](FakeTcpServer& s, FakeTcpServer::Conn& c, const std::vector<uint8_t>&) {
    s.write_raw(c, {0x00});  // half a length prefix, then nothing
  });
  Result res;
  auto q = query_to(srv.endpoint(), "www.example.", 300);
  q.protocol = Protocol::Tcp;
  t.send(q, res.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  // The fake keeps the connection open: the timeout covers connect + reply.
  CHECK(res.reply->status == TransportStatus::Timeout);
}

TEST_CASE("cancel calls the handler with Cancelled later on the loop, not inside cancel",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  Result res;
  auto h = t.send(query_to(srv.endpoint()), res.handler());
  t.cancel(h);
  CHECK(res.calls == 0);
  t.cancel(h);  // twice is harmless
  REQUIRE(run_until(
      loop.get(), [&] { return res.calls > 0; }, 3000));
  CHECK(res.reply->status == TransportStatus::Cancelled);
  run_until(
      loop.get(), [&] { return t.outstanding() == 0; }, 1000);
  CHECK(res.calls == 1);
  CHECK(t.outstanding() == 0);
}

TEST_CASE("shutdown cancels every query in flight", "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  FakeTcpServer tcp(loop.get());
  Result a, b;
  t.send(query_to(srv.endpoint()), a.handler());
  auto q = query_to(tcp.endpoint());
  q.protocol = Protocol::Tcp;
  t.send(q, b.handler());
  t.shutdown();
  REQUIRE(run_until(
      loop.get(), [&] { return a.calls + b.calls == 2; }, 3000));
  CHECK(a.reply->status == TransportStatus::Cancelled);
  CHECK(b.reply->status == TransportStatus::Cancelled);
}

TEST_CASE("queries beyond the outstanding cap fail without a socket, never inside send",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  TransportOptions capped;
  capped.max_outstanding = 2;
  NetTransport t(loop.get(), rnd, capped);
  FakeUdpServer srv(loop.get());
  Result a, b, c;
  t.send(query_to(srv.endpoint(), "www.example.", 200), a.handler());
  t.send(query_to(srv.endpoint(), "www.example.", 200), b.handler());
  t.send(query_to(srv.endpoint(), "www.example.", 200), c.handler());
  CHECK(c.calls == 0);
  REQUIRE(run_until(
      loop.get(), [&] { return a.calls + b.calls + c.calls == 3; }, 3000));
  // Our cap, not the server's fault: LocalError, which the iterator does not hold against it.
  CHECK(c.reply->status == TransportStatus::LocalError);
  CHECK(a.reply->status == TransportStatus::Timeout);
  CHECK(t.stats().overloaded == 1);
  CHECK(t.stats().local_errors == 1);
  CHECK(srv.received().size() == 2);
}

TEST_CASE("a handler may send the next query and destroy nothing it does not own",
          "[client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    s.send_to(wire(answer_to(parsed(r.bytes))), r.from);
  });
  int done = 0;
  std::function<void(resolver::UpstreamReply)> chain = [&](resolver::UpstreamReply r) {
    CHECK(r.status == TransportStatus::Reply);
    if (++done < 5) t.send(query_to(srv.endpoint()), chain);
  };
  t.send(query_to(srv.endpoint()), chain);
  REQUIRE(run_until(
      loop.get(), [&] { return done == 5; }, 3000));
  CHECK(srv.received().size() == 5);
}

TEST_CASE("200 UDP queries use 200 random source ports and IDs (RFC 5452 measurement)",
          "[client][transport][ports]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    s.send_to(wire(answer_to(parsed(r.bytes))), r.from);
  });
  constexpr int kQueries = 200;
  int done = 0, ok = 0;
  for (int i = 0; i < kQueries; ++i)
    t.send(query_to(srv.endpoint()), [&](UpstreamReply r) {
      ++done;
      ok += r.status == TransportStatus::Reply;
    });
  REQUIRE(run_until(
      loop.get(), [&] { return done == kQueries; }, 10000));
  CHECK(ok == kQueries);
  std::set<uint16_t> ports, ids;
  uint16_t lo = 65535, hi = 0;
  for (auto& r : srv.received()) {
    ports.insert(r.from.port);
    ids.insert(static_cast<uint16_t>((r.bytes[0] << 8) | r.bytes[1]));
    lo = std::min(lo, r.from.port);
    hi = std::max(hi, r.from.port);
  }
  WARN("transport: " << ports.size() << " distinct source ports and " << ids.size()
                     << " distinct IDs in " << kQueries << " queries; ports " << lo << "-" << hi);
  // 200 draws from 64512 ports: P(any collision) is about 27%, P(more than 3) is tiny.
  CHECK(ports.size() >= 196);
  CHECK(ids.size() >= 190);
  CHECK(lo >= kFirstSourcePort);
  CHECK(hi - lo > 20000);  // spread over the range, not a sequence
}

TEST_CASE("reply checks: our ID and QR gate parsing; the question must repeat ours",
          "[client][reply]") {
  auto q = question("a.example.");
  auto query = encode_query(0x1234, q, QueryFlags{});
  auto m = parsed(query);
  CHECK(m.header.id == 0x1234);
  CHECK_FALSE(m.header.qr);
  auto good = wire(answer_to(m));
  CHECK(check_reply(good, 0x1234, q).verdict == ReplyVerdict::Accepted);
  CHECK(check_reply(good, 0x1235, q).verdict == ReplyVerdict::NotOurs);
  CHECK(check_reply(query, 0x1234, q).verdict == ReplyVerdict::NotOurs);  // QR clear
  CHECK(check_reply(good, 0x1234, question("b.example.")).verdict == ReplyVerdict::NotOurs);
  CHECK(check_reply(good, 0x1234, question("a.example.", dns::RRType::MX)).verdict ==
        ReplyVerdict::NotOurs);
  std::vector<uint8_t> cut(good.begin(), good.end() - 1);
  CHECK(check_reply(cut, 0x1234, q).verdict == ReplyVerdict::Malformed);
  CHECK(check_reply(std::vector<uint8_t>{0x12}, 0x1234, q).verdict == ReplyVerdict::NotOurs);
  CHECK(check_reply(std::vector<uint8_t>{}, 0x1234, q).verdict == ReplyVerdict::NotOurs);
  auto no_question = answer_to(m);
  no_question.questions.clear();
  CHECK(check_reply(wire(no_question), 0x1234, q).verdict == ReplyVerdict::NotOurs);
  auto notify = answer_to(m);
  notify.header.opcode = dns::Opcode::Notify;
  CHECK(check_reply(wire(notify), 0x1234, q).verdict == ReplyVerdict::NotOurs);
}

TEST_CASE("queries to an IPv6 server work over UDP and TCP", "[client][transport][v6]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer udp(loop.get(), 0, loopback6());
  if (!udp.bound()) {
    WARN("no ::1 on this machine: IPv6 not tested");
    return;
  }
  FakeTcpServer tcp(loop.get(), 0, loopback6());
  REQUIRE(tcp.bound());
  udp.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    s.send_to(wire(answer_to(parsed(r.bytes), 6)), r.from);
  });
  tcp.on_query([](FakeTcpServer& s, FakeTcpServer::Conn& c, const std::vector<uint8_t>& msg) {
    s.reply(c, wire(answer_to(parsed(msg), 7)));
  });
  Result a, b;
  t.send(query_to(udp.endpoint()), a.handler());
  auto q = query_to(tcp.endpoint());
  q.protocol = Protocol::Tcp;
  t.send(q, b.handler());
  REQUIRE(run_until(
      loop.get(), [&] { return a.calls + b.calls == 2; }, 3000));
  REQUIRE(a.reply->status == TransportStatus::Reply);
  REQUIRE(b.reply->status == TransportStatus::Reply);
  CHECK(a.reply->message->answer.at(0).rdata == std::vector<uint8_t>{192, 0, 2, 6});
  CHECK(b.reply->message->answer.at(0).rdata == std::vector<uint8_t>{192, 0, 2, 7});
  CHECK(udp.received().at(0).from.address == loopback6());
}

// Not run by default (hidden tag): queries per second through the transport, 100 in flight.
TEST_CASE("transport throughput to a loopback server", "[.bench][client][transport]") {
  TestLoop loop;
  util::SystemRandom rnd;
  NetTransport t(loop.get(), rnd);
  FakeUdpServer srv(loop.get());
  srv.on_query([](FakeUdpServer& s, const FakeUdpServer::Received& r) {
    s.send_to(wire(answer_to(parsed(r.bytes))), r.from);
  });
  constexpr int kTotal = 20000, kWindow = 100;
  int sent = 0, done = 0, ok = 0;
  std::function<void(UpstreamReply)> on_done = [&](UpstreamReply r) {
    ++done;
    ok += r.status == TransportStatus::Reply;
    if (sent < kTotal) {
      ++sent;
      t.send(query_to(srv.endpoint()), on_done);
    }
  };
  uint64_t start = uv_hrtime();
  for (; sent < kWindow; ++sent) t.send(query_to(srv.endpoint()), on_done);
  REQUIRE(run_until(
      loop.get(), [&] { return done == kTotal; }, 60000));
  double secs = static_cast<double>(uv_hrtime() - start) / 1e9;
  WARN("transport: " << kTotal << " queries in " << secs
                     << " s = " << static_cast<int>(kTotal / secs) << " q/s");
  CHECK(ok == kTotal);
}
