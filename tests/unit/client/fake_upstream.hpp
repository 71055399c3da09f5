// Test fixtures for client/: a libuv loop that runs for a bounded time, and scripted fake
// nameservers (UDP and TCP) that live in the same loop on 127.0.0.1 with kernel-chosen ports.
// A script sees each query (bytes and source) and decides what, if anything, to send back.
#pragma once

#include <uv.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "dns/message.hpp"
#include "net/endpoint.hpp"
#include "net/sockaddr.hpp"

namespace tern::client::test {

inline dns::Name name(const char* text) {
  return dns::Name::from_text(text).value();
}

inline dns::Question question(const char* qname, dns::RRType t = dns::RRType::A) {
  return dns::Question{name(qname), t, dns::RRClass::IN};
}

// A response to `query` with one A record for its qname (rdata 192.0.2.<last>).
inline dns::Message answer_to(const dns::Message& query, uint8_t last = 1) {
  dns::Message r;
  r.header = query.header;
  r.header.qr = true;
  r.header.ra = true;
  r.header.aa = true;
  r.questions = query.questions;
  if (!query.questions.empty())
    r.answer.push_back(dns::ResourceRecord{
        query.questions[0].qname, dns::RRType::A, dns::RRClass::IN, 300, {192, 0, 2, last}});
  if (query.edns) r.edns = dns::Edns{};
  return r;
}

inline std::vector<uint8_t> wire(const dns::Message& m) {
  return dns::encode_message(m);
}

inline net::Address loopback6() {
  std::array<uint8_t, 16> b{};
  b[15] = 1;
  return net::Address::v6(b);
}

// Runs the loop until done() or until limit_ms of loop time passed (a guard timer makes sure
// the loop wakes up). Returns done().
inline bool run_until(uv_loop_t* loop, const std::function<bool()>& done, uint64_t limit_ms) {
  uv_timer_t guard;
  uv_timer_init(loop, &guard);
  uv_timer_start(
      &guard, [](uv_timer_t*) {}, limit_ms, 0);
  uint64_t end = uv_now(loop) + limit_ms;
  while (!done() && uv_now(loop) < end) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return done();
}

struct TestLoop {
  uv_loop_t loop;
  TestLoop() { REQUIRE(uv_loop_init(&loop) == 0); }
  ~TestLoop() {
    // Let every close callback run; a handle left open is a leak the test must show.
    for (int i = 0; i < 100 && uv_loop_alive(&loop); ++i) uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  uv_loop_t* get() { return &loop; }
};

inline std::optional<net::Endpoint> local_endpoint(const uv_handle_t* h, bool tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  int rc = tcp ? uv_tcp_getsockname(reinterpret_cast<const uv_tcp_t*>(h),
                                    reinterpret_cast<sockaddr*>(&ss), &len)
               : uv_udp_getsockname(reinterpret_cast<const uv_udp_t*>(h),
                                    reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) return std::nullopt;
  return net::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), static_cast<socklen_t>(len));
}

class FakeUdpServer {
 public:
  struct Received {
    std::vector<uint8_t> bytes;
    net::Endpoint from;
  };
  using Script = std::function<void(FakeUdpServer&, const Received&)>;

  // port 0: the kernel picks one.
  explicit FakeUdpServer(uv_loop_t* loop, uint16_t port = 0,
                         net::Address address = net::Address::v4(127, 0, 0, 1))
      : s_(new State) {
    s_->self = this;
    REQUIRE(uv_udp_init(loop, &s_->sock) == 0);
    s_->sock.data = s_;
    auto sa = net::to_sockaddr(net::Endpoint{address, port});
    bind_rc_ = uv_udp_bind(&s_->sock, sa.get(), 0);
    if (bind_rc_ == 0) {
      endpoint_ = local_endpoint(reinterpret_cast<uv_handle_t*>(&s_->sock), false).value();
      REQUIRE(uv_udp_recv_start(&s_->sock, alloc, on_recv) == 0);
    }
  }
  ~FakeUdpServer() {
    s_->self = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&s_->sock),
             [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
  }
  FakeUdpServer(const FakeUdpServer&) = delete;
  FakeUdpServer& operator=(const FakeUdpServer&) = delete;

  bool bound() const { return bind_rc_ == 0; }
  const net::Endpoint& endpoint() const { return endpoint_; }
  void on_query(Script s) { script_ = std::move(s); }
  const std::vector<Received>& received() const { return received_; }

  void send_to(const std::vector<uint8_t>& bytes, const net::Endpoint& to) {
    auto sa = net::to_sockaddr(to);
    uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                             static_cast<unsigned>(bytes.size()));
    CHECK(uv_udp_try_send(&s_->sock, &b, 1, sa.get()) == static_cast<int>(bytes.size()));
  }

 private:
  struct State {
    uv_udp_t sock;
    FakeUdpServer* self;
    char buf[65536];
  };
  static void alloc(uv_handle_t* h, size_t, uv_buf_t* b) {
    auto* st = static_cast<State*>(h->data);
    *b = uv_buf_init(st->buf, sizeof st->buf);
  }
  static void on_recv(uv_udp_t* h, ssize_t n, const uv_buf_t* b, const sockaddr* addr, unsigned) {
    auto* st = static_cast<State*>(h->data);
    if (n <= 0 || addr == nullptr || st->self == nullptr) return;
    auto from = net::from_sockaddr(addr, sizeof(sockaddr_in6));
    if (!from) return;
    Received r{{reinterpret_cast<uint8_t*>(b->base), reinterpret_cast<uint8_t*>(b->base) + n},
               *from};
    st->self->received_.push_back(r);
    if (st->self->script_) st->self->script_(*st->self, r);
  }

  State* s_;
  int bind_rc_ = 0;
  net::Endpoint endpoint_;
  Script script_;
  std::vector<Received> received_;
};

// A TCP nameserver: reads RFC 1035 §4.2.2 framed queries, hands each to the script, which
// answers with reply() (framing added here) or by closing.
class FakeTcpServer {
 public:
  struct Conn;
  using Script = std::function<void(FakeTcpServer&, Conn&, const std::vector<uint8_t>&)>;

  explicit FakeTcpServer(uv_loop_t* loop, uint16_t port = 0,
                         net::Address address = net::Address::v4(127, 0, 0, 1))
      : loop_(loop), s_(new State) {
    s_->self = this;
    REQUIRE(uv_tcp_init(loop, &s_->sock) == 0);
    s_->sock.data = s_;
    auto sa = net::to_sockaddr(net::Endpoint{address, port});
    bind_rc_ = uv_tcp_bind(&s_->sock, sa.get(), 0);
    if (bind_rc_ == 0) bind_rc_ = uv_listen(reinterpret_cast<uv_stream_t*>(&s_->sock), 16, on_conn);
    if (bind_rc_ == 0)
      endpoint_ = local_endpoint(reinterpret_cast<uv_handle_t*>(&s_->sock), true).value();
  }
  ~FakeTcpServer() {
    s_->self = nullptr;
    for (Conn* c : conns_) close_conn(c);
    uv_close(reinterpret_cast<uv_handle_t*>(&s_->sock),
             [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
  }
  FakeTcpServer(const FakeTcpServer&) = delete;
  FakeTcpServer& operator=(const FakeTcpServer&) = delete;

  bool bound() const { return bind_rc_ == 0; }
  const net::Endpoint& endpoint() const { return endpoint_; }
  void on_query(Script s) { script_ = std::move(s); }
  size_t queries() const { return queries_; }

  struct Conn {
    uv_tcp_t sock;
    FakeTcpServer* server;
    std::vector<uint8_t> in;
    bool closing = false;
  };

  // Writes raw octets (the script adds framing itself when it wants odd framing).
  void write_raw(Conn& c, std::vector<uint8_t> bytes) {
    struct Req {
      uv_write_t req;
      std::vector<uint8_t> data;
    };
    auto* r = new Req{{}, std::move(bytes)};
    uv_buf_t b =
        uv_buf_init(reinterpret_cast<char*>(r->data.data()), static_cast<unsigned>(r->data.size()));
    int rc = uv_write(&r->req, reinterpret_cast<uv_stream_t*>(&c.sock), &b, 1,
                      [](uv_write_t* w, int) { delete reinterpret_cast<Req*>(w); });
    if (rc != 0) delete r;
  }
  void reply(Conn& c, const std::vector<uint8_t>& msg) {
    std::vector<uint8_t> framed{static_cast<uint8_t>(msg.size() >> 8),
                                static_cast<uint8_t>(msg.size() & 0xff)};
    framed.insert(framed.end(), msg.begin(), msg.end());
    write_raw(c, std::move(framed));
  }

 private:
  struct State {
    uv_tcp_t sock;
    FakeTcpServer* self;
  };
  static void close_conn(Conn* c) {
    if (c->closing) return;
    c->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->sock),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
  }
  static void on_conn(uv_stream_t* srv, int status) {
    auto* st = static_cast<State*>(srv->data);
    if (status < 0 || st->self == nullptr) return;
    auto* c = new Conn{{}, st->self, {}, false};
    uv_tcp_init(st->self->loop_, &c->sock);
    c->sock.data = c;
    if (uv_accept(srv, reinterpret_cast<uv_stream_t*>(&c->sock)) != 0) {
      close_conn(c);
      return;
    }
    st->self->conns_.push_back(c);
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->sock),
        [](uv_handle_t*, size_t, uv_buf_t* b) {
          static char buf[65536];
          *b = uv_buf_init(buf, sizeof buf);
        },
        on_read);
  }
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
    auto* c = static_cast<Conn*>(s->data);
    FakeTcpServer* self = c->server;
    if (n < 0) {
      std::erase(self->conns_, c);
      close_conn(c);
      return;
    }
    c->in.insert(c->in.end(), b->base, b->base + n);
    while (c->in.size() >= 2) {
      size_t len = (size_t{c->in[0]} << 8) | c->in[1];
      if (c->in.size() < 2 + len) return;
      std::vector<uint8_t> msg(c->in.begin() + 2, c->in.begin() + 2 + static_cast<long>(len));
      c->in.erase(c->in.begin(), c->in.begin() + 2 + static_cast<long>(len));
      ++self->queries_;
      if (self->script_) self->script_(*self, *c, msg);
    }
  }

  uv_loop_t* loop_;
  State* s_;
  int bind_rc_ = 0;
  net::Endpoint endpoint_;
  Script script_;
  std::vector<Conn*> conns_;
  size_t queries_ = 0;
};

}  // namespace tern::client::test
