// Listeners that serve sockets they are handed (systemd socket activation) instead of binding
// them: a bound UDP socket and a listening TCP socket on 127.0.0.1 answer real queries; a fd
// of the wrong kind is refused with a reason and closed; Server::start() does not bind again
// a server.listen endpoint an inherited socket already covers.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "cache/message_cache.hpp"
#include "dns/message.hpp"
#include "fakes.hpp"
#include "server/adopted_socket.hpp"
#include "server/pipeline.hpp"
#include "server/server.hpp"
#include "server/tcp_listener.hpp"
#include "server/udp_listener.hpp"
#include "server/uv_scheduler.hpp"
#include "util/clock.hpp"

using namespace tern;
using namespace tern::server;
using namespace tern::server::test;

namespace {

constexpr int kMaxTurns = 400;  // every wait is bounded by this many 5 ms loop turns

// A socket bound to 127.0.0.1 on a port the kernel picks; listening when it is a stream.
int bound_socket(int type, bool listening = true) {
  int fd = ::socket(AF_INET, type, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  if (type == SOCK_STREAM && listening) REQUIRE(::listen(fd, 16) == 0);
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  return ntohs(sa.sin_port);
}

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

struct Rig {
  uv_loop_t loop{};
  util::FakeClock clock;
  std::unique_ptr<cache::MessageCache> cache;
  FakeResolver resolver;
  std::unique_ptr<UvScheduler> scheduler;
  std::unique_ptr<Pipeline> pipeline;

  Rig() {
    REQUIRE(uv_loop_init(&loop) == 0);
    cache = std::make_unique<cache::MessageCache>(cache::CacheOptions{}, clock);
    scheduler = std::make_unique<UvScheduler>(&loop);
    pipeline = std::make_unique<Pipeline>(options(), *cache, resolver, *scheduler, clock);
  }
  ~Rig() {
    scheduler->cancel_all();
    for (int i = 0; i < 8; ++i) uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
  }
  // CHAOS version.bind is answered by the pipeline itself: a real answer with no resolver.
  static PipelineOptions options() {
    PipelineOptions o;
    o.acl.add(net::Prefix::make(net::Address::v4(127, 0, 0, 0), 8), net::AclAction::Allow);
    o.chaos_version = "tern test";
    return o;
  }
  template <class L>
  void close(L& l) {
    l.close();
    for (int i = 0; i < kMaxTurns && !l.closed(); ++i) uv_run(&loop, UV_RUN_NOWAIT);
    REQUIRE(l.closed());
  }
  void turn() {
    uv_run(&loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
};

std::vector<uint8_t> version_query(uint16_t id) {
  return make_query({.qname = "version.bind.", .qtype = dns::RRType::TXT,
                     .qclass = dns::RRClass::CH, .id = id});
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

// One UDP query to 127.0.0.1:port while the loop runs; the reply, or empty.
std::vector<uint8_t> ask_udp(Rig& rig, uint16_t port, uint16_t id) {
  int c = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  REQUIRE(c >= 0);
  auto q = version_query(id);
  sockaddr_in to = loopback(port);
  REQUIRE(::sendto(c, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
          static_cast<ssize_t>(q.size()));
  std::vector<uint8_t> got;
  for (int i = 0; i < kMaxTurns && got.empty(); ++i) {
    rig.turn();
    uint8_t buf[4096];
    ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n > 0) got.assign(buf, buf + n);
  }
  ::close(c);
  return got;
}

// One framed TCP query to 127.0.0.1:port while the loop runs; the reply message, or empty.
std::vector<uint8_t> ask_tcp(Rig& rig, uint16_t port, uint16_t id) {
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(c >= 0);
  sockaddr_in to = loopback(port);
  // The kernel completes the handshake from the listen backlog: no loop turn needed.
  REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  ::fcntl(c, F_SETFL, O_NONBLOCK);
  auto q = version_query(id);
  std::vector<uint8_t> framed = {static_cast<uint8_t>(q.size() >> 8), static_cast<uint8_t>(q.size())};
  framed.insert(framed.end(), q.begin(), q.end());
  REQUIRE(::send(c, framed.data(), framed.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(framed.size()));
  std::vector<uint8_t> got;
  for (int i = 0; i < kMaxTurns; ++i) {
    rig.turn();
    uint8_t buf[4096];
    ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n > 0) got.insert(got.end(), buf, buf + n);
    if (n == 0) break;
    if (got.size() >= 2 && got.size() >= 2 + ((size_t{got[0]} << 8) | got[1])) break;
  }
  ::close(c);
  if (got.size() < 2) return {};
  return {got.begin() + 2, got.end()};
}

void check_version_answer(const std::vector<uint8_t>& wire, uint16_t id) {
  REQUIRE(!wire.empty());
  auto m = dns::parse_message(wire);
  REQUIRE(m.has_value());
  CHECK(m->header.id == id);
  CHECK(m->header.qr);
  CHECK(m->rcode() == dns::RCode::NoError);
  REQUIRE(m->answer.size() == 1);
  CHECK(m->answer[0].rclass == dns::RRClass::CH);
}

}  // namespace

TEST_CASE("a bound UDP socket handed to a listener is served as it is", "[server][adopt]") {
  Rig rig;
  int fd = bound_socket(SOCK_DGRAM);
  const uint16_t port = port_of(fd);
  UdpListener udp(&rig.loop, *rig.pipeline);
  auto r = udp.adopt(fd);
  REQUIRE(r.has_value());
  CHECK(udp.endpoint() == net::Endpoint{net::Address::v4(127, 0, 0, 1), port});
  check_version_answer(ask_udp(rig, port, 0x5151), 0x5151);
  CHECK(udp.stats().received == 1);
  rig.close(udp);
  CHECK_FALSE(fd_is_open(fd));  // closing the listener closed the inherited socket
}

TEST_CASE("a listening TCP socket handed to a listener accepts and answers", "[server][adopt]") {
  Rig rig;
  int fd = bound_socket(SOCK_STREAM);
  const uint16_t port = port_of(fd);
  TcpListener tcp(&rig.loop, *rig.pipeline, TcpOptions{});
  auto r = tcp.adopt(fd);
  REQUIRE(r.has_value());
  CHECK(tcp.endpoint() == net::Endpoint{net::Address::v4(127, 0, 0, 1), port});
  check_version_answer(ask_tcp(rig, port, 0x7272), 0x7272);
  CHECK(tcp.stats().accepted == 1);
  CHECK(tcp.stats().queries == 1);
  rig.close(tcp);
  CHECK_FALSE(fd_is_open(fd));
}

TEST_CASE("a socket of the wrong kind is refused with the reason and closed", "[server][adopt]") {
  Rig rig;
  SECTION("a TCP socket offered as UDP") {
    int fd = bound_socket(SOCK_STREAM);
    UdpListener udp(&rig.loop, *rig.pipeline);
    auto r = udp.adopt(fd);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error(), Catch::Contains("is a stream socket, expected a datagram (UDP) socket"));
    CHECK_FALSE(fd_is_open(fd));
    rig.close(udp);
  }
  SECTION("a UDP socket offered as TCP") {
    int fd = bound_socket(SOCK_DGRAM);
    TcpListener tcp(&rig.loop, *rig.pipeline, TcpOptions{});
    auto r = tcp.adopt(fd);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error(), Catch::Contains("is a datagram socket, expected a stream (TCP) socket"));
    CHECK_FALSE(fd_is_open(fd));
    rig.close(tcp);
  }
  SECTION("a TCP socket that is bound but not listening") {
    int fd = bound_socket(SOCK_STREAM, false);
    TcpListener tcp(&rig.loop, *rig.pipeline, TcpOptions{});
    auto r = tcp.adopt(fd);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error(), Catch::Contains("but not listening"));
    CHECK_FALSE(fd_is_open(fd));
  }
  SECTION("a UDP socket that is not bound") {
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    UdpListener udp(&rig.loop, *rig.pipeline);
    auto r = udp.adopt(fd);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error(), Catch::Contains("not bound to a port"));
    CHECK_FALSE(fd_is_open(fd));
  }
  SECTION("a unix socket") {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    UdpListener udp(&rig.loop, *rig.pipeline);
    auto r = udp.adopt(fd);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error(), Catch::Contains("not an IPv4 or IPv6 socket"));
    CHECK_FALSE(fd_is_open(fd));
  }
  SECTION("a pipe") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ::close(p[1]);
    UdpListener udp(&rig.loop, *rig.pipeline);
    auto r = udp.adopt(p[0]);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error(), Catch::Contains("not a socket"));
    CHECK_FALSE(fd_is_open(p[0]));
  }
}

TEST_CASE("the server serves inherited sockets and binds only the listen endpoints they miss",
          "[server][adopt]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  util::FakeClock clock;
  int ufd = bound_socket(SOCK_DGRAM);
  const uint16_t port = port_of(ufd);
  // The same port over TCP: an inherited pair, as ternd.socket passes them.
  int tfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa = loopback(port);
  REQUIRE(::bind(tfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(tfd, 16) == 0);

  ServerOptions o;
  o.pipeline = Rig::options();
  o.tcp.idle_timeout_ms = 1234;
  const net::Endpoint inherited{net::Address::v4(127, 0, 0, 1), port};
  // The inherited endpoint again (binding it would fail: address in use), and one more.
  o.listen = {inherited, {net::Address::v4(127, 0, 0, 1), 0}};
  auto srv = std::make_unique<Server>(&loop, o, clock);
  srv->set_resolver(std::make_unique<FakeResolver>());
  auto started = srv->start({{ufd, Protocol::Udp}, {tfd, Protocol::Tcp}});
  REQUIRE(started.has_value());
  CHECK(srv->inherited_udp() == 1);
  CHECK(srv->inherited_tcp() == 1);
  auto udp = srv->udp_endpoints();
  auto tcp = srv->tcp_endpoints();
  REQUIRE(udp.size() == 2);
  REQUIRE(tcp.size() == 2);
  CHECK(udp[0] == inherited);
  CHECK(tcp[0] == inherited);
  CHECK(udp[1].port != 0);
  CHECK(udp[1].port != port);
  CHECK(tcp[1] == udp[1]);

  bool stopped = false;
  srv->stop(0, [&] { stopped = true; });
  for (int i = 0; i < kMaxTurns && !(stopped && srv->closed()); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(srv->closed());
  CHECK_FALSE(fd_is_open(ufd));
  CHECK_FALSE(fd_is_open(tfd));
  srv.reset();
  for (int i = 0; i < 8; ++i) uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("a server whose inherited socket is unusable starts nothing and says why",
          "[server][adopt]") {
  uv_loop_t loop{};
  REQUIRE(uv_loop_init(&loop) == 0);
  util::FakeClock clock;
  int good = bound_socket(SOCK_DGRAM);
  int wrong = bound_socket(SOCK_DGRAM);  // offered as TCP
  ServerOptions o;
  o.pipeline = Rig::options();
  auto srv = std::make_unique<Server>(&loop, o, clock);
  srv->set_resolver(std::make_unique<FakeResolver>());
  auto started = srv->start({{good, Protocol::Udp}, {wrong, Protocol::Tcp}});
  REQUIRE_FALSE(started.has_value());
  REQUIRE(started.error().size() == 1);
  CHECK_THAT(started.error()[0], Catch::Contains("expected a stream (TCP) socket"));
  for (int i = 0; i < kMaxTurns && !srv->closed(); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(srv->closed());
  CHECK_FALSE(fd_is_open(good));
  CHECK_FALSE(fd_is_open(wrong));
  srv.reset();
  for (int i = 0; i < 8; ++i) uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("an inherited TCP socket gets the configured idle timeout like a bound one",
          "[server][adopt]") {
  Rig rig;
  int fd = bound_socket(SOCK_STREAM);
  const uint16_t port = port_of(fd);
  TcpOptions opts;
  opts.idle_timeout_ms = 100;
  TcpListener tcp(&rig.loop, *rig.pipeline, opts);
  REQUIRE(tcp.adopt(fd).has_value());
  int c = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to = loopback(port);
  REQUIRE(::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  ::fcntl(c, F_SETFL, O_NONBLOCK);
  bool closed_by_server = false;
  for (int i = 0; i < kMaxTurns && !closed_by_server; ++i) {
    rig.turn();
    uint8_t b;
    closed_by_server = ::recv(c, &b, 1, 0) == 0;
  }
  ::close(c);
  CHECK(closed_by_server);
  CHECK(tcp.stats().closed_idle == 1);
  rig.close(tcp);
}
