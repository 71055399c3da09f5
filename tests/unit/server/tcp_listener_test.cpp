// TcpListener on a real loop and a real loopback socket: framing across odd splits, replies in
// completion order, and a zero length closing the connection (RFC 7766).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "cache/message_cache.hpp"
#include "fakes.hpp"
#include "server/pipeline.hpp"
#include "server/tcp_listener.hpp"
#include "server/uv_scheduler.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::server;
using namespace tern::server::test;

namespace {

constexpr int kMaxTurns = 400;  // every wait below is bounded by this many 5 ms loop turns

struct LoopRig {
  uv_loop_t loop{};
  util::FakeClock clock;
  std::unique_ptr<cache::MessageCache> cache;
  FakeResolver resolver;
  std::unique_ptr<UvScheduler> scheduler;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<TcpListener> tcp;
  int fd = -1;

  LoopRig() {
    REQUIRE(uv_loop_init(&loop) == 0);
    cache = std::make_unique<cache::MessageCache>(cache::CacheOptions{}, clock);
    scheduler = std::make_unique<UvScheduler>(&loop);
    PipelineOptions o;
    o.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
    pipeline = std::make_unique<Pipeline>(o, *cache, resolver, *scheduler, clock);
    tcp = std::make_unique<TcpListener>(&loop, *pipeline, TcpOptions{});
    auto started = tcp->start({net::Address::v4(127, 0, 0, 1), 0});
    REQUIRE(started.has_value());
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(tcp->endpoint().port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  ~LoopRig() {
    if (fd >= 0) ::close(fd);
    tcp->close();
    scheduler->cancel_all();
    for (int i = 0; i < kMaxTurns && !tcp->closed(); ++i) uv_run(&loop, UV_RUN_NOWAIT);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
  }
  void turn() {
    uv_run(&loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void send_bytes(const std::vector<uint8_t>& b) {
    REQUIRE(::send(fd, b.data(), b.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(b.size()));
  }
  // Runs the loop until `want` more bytes arrived or the peer closed; returns what came.
  std::vector<uint8_t> receive(size_t want, bool* closed = nullptr) {
    std::vector<uint8_t> got;
    for (int i = 0; i < kMaxTurns && got.size() < want; ++i) {
      turn();
      uint8_t buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0) {
        if (closed) *closed = true;
        break;
      }
      if (n > 0) got.insert(got.end(), buf, buf + n);
    }
    return got;
  }
};

std::vector<uint8_t> framed(const std::vector<uint8_t>& m) {
  std::vector<uint8_t> f(m.size() + 2);
  f[0] = static_cast<uint8_t>(m.size() >> 8);
  f[1] = static_cast<uint8_t>(m.size());
  std::copy(m.begin(), m.end(), f.begin() + 2);
  return f;
}

// Splits a byte stream of framed replies into messages.
std::vector<std::vector<uint8_t>> unframe(const std::vector<uint8_t>& s) {
  std::vector<std::vector<uint8_t>> out;
  size_t pos = 0;
  while (s.size() - pos >= 2) {
    size_t n = (size_t{s[pos]} << 8) | s[pos + 1];
    if (s.size() - pos - 2 < n) break;
    out.emplace_back(s.begin() + static_cast<std::ptrdiff_t>(pos + 2),
                     s.begin() + static_cast<std::ptrdiff_t>(pos + 2 + n));
    pos += 2 + n;
  }
  return out;
}

uint16_t id_of(const std::vector<uint8_t>& m) { return static_cast<uint16_t>((m[0] << 8) | m[1]); }

}  // namespace

TEST_CASE("pipelined TCP queries split across writes are answered in completion order",
          "[server][tcp]") {
  LoopRig rig;
  auto stream = framed(make_query({.qname = "one.example.", .id = 1}));
  auto second = framed(make_query({.qname = "two.example.", .id = 2}));
  stream.insert(stream.end(), second.begin(), second.end());
  // First a single octet (half a length), then the rest of frame one plus part of frame two.
  rig.send_bytes({stream.begin(), stream.begin() + 1});
  rig.receive(0);
  rig.turn();
  rig.send_bytes({stream.begin() + 1, stream.begin() + 20});
  for (int i = 0; i < 10; ++i) rig.turn();
  CHECK(rig.resolver.calls.empty());  // no frame complete yet
  rig.send_bytes({stream.begin() + 20, stream.end()});
  for (int i = 0; i < kMaxTurns && rig.resolver.calls.size() < 2; ++i) rig.turn();
  REQUIRE(rig.resolver.calls.size() == 2);
  // The second query finishes first and its answer must not wait for the first.
  rig.resolver.complete(1, answer({a_record("two.example.", 60, 2)}));
  auto first_bytes = rig.receive(14);
  auto msgs = unframe(first_bytes);
  REQUIRE(msgs.size() == 1);
  CHECK(id_of(msgs[0]) == 2);
  rig.resolver.complete(0, answer({a_record("one.example.", 60, 1)}));
  msgs = unframe(rig.receive(14));
  REQUIRE(msgs.size() == 1);
  CHECK(id_of(msgs[0]) == 1);
  CHECK(rig.tcp->stats().queries == 2);
  CHECK(rig.tcp->stats().replies == 2);
}

TEST_CASE("a zero-length TCP frame closes the connection", "[server][tcp]") {
  LoopRig rig;
  rig.send_bytes({0, 0});
  bool closed = false;
  rig.receive(1, &closed);
  CHECK(closed);
  CHECK(rig.tcp->stats().framing_errors == 1);
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("a TCP frame longer than any query closes the connection", "[server][tcp]") {
  LoopRig rig;
  rig.send_bytes({0x20, 0x00, 0, 0, 0, 0});  // announces 8192 octets
  bool closed = false;
  rig.receive(1, &closed);
  CHECK(closed);
  CHECK(rig.tcp->stats().framing_errors == 1);
}

namespace {

using Ms = std::chrono::milliseconds;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Peeks without consuming: true once the server closed the connection.
bool peer_closed(int fd) {
  uint8_t b;
  ssize_t n = ::recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

TEST_CASE("a message trickled one byte at a time is cut off at the message deadline",
          "[server][tcp][slowloris]") {
  LoopRig rig;  // idle timeout 10 s: only the message deadline can close this connection
  auto frame = framed(make_query({.qname = "slow.example.", .id = 9}));
  auto first = std::chrono::steady_clock::now();
  bool closed = false;
  size_t sent = 0;
  // Bounded: 4 s of 5 ms turns, one byte every 250 ms (the whole frame would need ~8 s).
  for (int i = 0; i < 800 && !closed; ++i) {
    if (i % 50 == 0 && sent < frame.size()) {
      if (::send(rig.fd, frame.data() + sent, 1, MSG_NOSIGNAL) == 1) ++sent;
    }
    rig.turn();
    closed = peer_closed(rig.fd);
  }
  double took = seconds_since(first);
  REQUIRE(closed);
  CHECK(took >= static_cast<double>(kMessageDeadlineMs) / 1000.0 - 0.05);
  CHECK(took < static_cast<double>(kMessageDeadlineMs) / 1000.0 + 1.0);
  CHECK(sent < frame.size());
  CHECK(rig.tcp->stats().closed_slow == 1);
  CHECK(rig.tcp->stats().closed_idle == 0);
  CHECK(rig.resolver.calls.empty());
}

TEST_CASE("a connection whose query is still being resolved is not idle, and is once answered",
          "[server][tcp][slowloris]") {
  LoopRig rig;
  rig.tcp->set_options({.idle_timeout_ms = 200, .max_connections = 1000});
  rig.turn();  // accept with the short idle timeout
  rig.send_bytes(framed(make_query({.qname = "pending.example.", .id = 5})));
  auto start = std::chrono::steady_clock::now();
  while (seconds_since(start) < 1.0) rig.turn();  // five idle timeouts
  REQUIRE(rig.resolver.calls.size() == 1);
  CHECK_FALSE(peer_closed(rig.fd));
  rig.resolver.complete(0, answer({a_record("pending.example.", 60, 5)}));
  auto msgs = unframe(rig.receive(14));
  REQUIRE(msgs.size() == 1);
  CHECK(id_of(msgs[0]) == 5);
  bool closed = false;
  start = std::chrono::steady_clock::now();
  while (!closed && seconds_since(start) < 2.0) {
    rig.turn();
    closed = peer_closed(rig.fd);
  }
  CHECK(closed);
  CHECK(rig.tcp->stats().closed_idle == 1);
  CHECK(rig.tcp->stats().closed_slow == 0);
}
