#include "client/udp_tcp_transport.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <cstring>
#include <exception>
#include <optional>
#include <vector>

#include "client/reply_check.hpp"
#include "net/endpoint.hpp"
#include "net/sockaddr.hpp"
#include "util/bug.hpp"
#include "util/recycled.hpp"

namespace tern::client {

using resolver::Protocol;
using resolver::TransportStatus;
using resolver::UpstreamReply;

namespace {

constexpr size_t kRxSize = 65536;         // the largest UDP payload, so nothing is cut
constexpr size_t kMaxTcpMessage = 65535;  // RFC 1035 §4.2.2: a 16-bit length
constexpr int kMaxDrainOnTimeout = 8;     // datagrams read from a query's socket at its timeout

enum class Delivery : uint8_t {
  Now,      // call the handler at once (we are in a libuv callback, not in send/cancel)
  OnClose,  // call it from the close callback: send() and cancel() must not call it
};

}  // namespace

struct NetTransport::Query : util::Recycled<NetTransport::Query, 4096> {
  NetTransport* owner = nullptr;  // nullptr once the transport is gone: handler is dropped
  Handle handle = 0;
  resolver::UpstreamQuery query;
  resolver::ReplyHandler handler;
  uint16_t id = 0;
  std::vector<uint8_t> out;  // the encoded query; over TCP with its 2-octet length first
  std::vector<uint8_t> in;   // TCP octets received and not yet consumed
  uint64_t started_ms = 0;
  UpstreamCounters* counters = nullptr;  // this server's, from the observer; may be nullptr
  bool saw_malformed = false;
  bool finished = false;
  int open_handles = 0;
  bool udp_open = false;
  bool tcp_open = false;
  std::optional<UpstreamReply> deferred;
  uv_timer_t timer{};
  uv_udp_t udp{};
  uv_tcp_t tcp{};
  uv_udp_send_t send_req{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};

  uint32_t elapsed_ms(uv_loop_t* loop) const {
    uint64_t now = uv_now(loop);
    return now > started_ms ? static_cast<uint32_t>(now - started_ms) : 0u;
  }
};

namespace {

using Query = NetTransport::Query;

void call_handler(resolver::ReplyHandler& handler, UpstreamReply reply) noexcept {
  if (!handler) return;
  try {
    handler(std::move(reply));
  } catch (const std::exception& e) {
    spdlog::error("[net] reply handler threw: {}", e.what());
  } catch (...) {
    spdlog::error("[net] reply handler threw");
  }
}

void on_close(uv_handle_t* h) noexcept {
  auto* q = static_cast<Query*>(h->data);
  if (--q->open_handles > 0) return;
  if (q->owner != nullptr) q->owner->forget_query(q->handle);
  if (q->deferred && q->owner != nullptr) {
    resolver::ReplyHandler handler = std::move(q->handler);
    UpstreamReply reply = std::move(*q->deferred);
    delete q;
    call_handler(handler, std::move(reply));
    return;
  }
  delete q;
}

void close_handles(Query& q) {
  uv_timer_stop(&q.timer);
  uv_close(reinterpret_cast<uv_handle_t*>(&q.timer), on_close);
  if (q.udp_open) {
    uv_udp_recv_stop(&q.udp);
    uv_close(reinterpret_cast<uv_handle_t*>(&q.udp), on_close);
  }
  if (q.tcp_open) uv_close(reinterpret_cast<uv_handle_t*>(&q.tcp), on_close);
}

}  // namespace

// Ends a query once: bookkeeping, handles closed, handler called now or from the close.
static void finish(Query& q, UpstreamReply reply, Delivery delivery) {
  if (q.finished) return;
  q.finished = true;
  if (NetTransport* t = q.owner) {
    auto& s = t->mutable_stats();
    switch (reply.status) {
      case TransportStatus::Reply:
        ++s.replies;
        break;
      case TransportStatus::Timeout:
        ++s.timeouts;
        if (q.counters) ++q.counters->timeouts;
        break;
      case TransportStatus::NetworkError:
        ++s.network_errors;
        if (q.counters) ++q.counters->errors;
        break;
      case TransportStatus::LocalError:
        ++s.local_errors;
        break;
      case TransportStatus::Malformed:
      case TransportStatus::Cancelled:
        break;
    }
  }
  close_handles(q);
  if (delivery == Delivery::OnClose) {
    q.deferred = std::move(reply);
    return;
  }
  // The query stays allocated until its close callbacks run, so nothing below can dangle
  // even if the handler destroys the transport.
  resolver::ReplyHandler handler = std::move(q.handler);
  call_handler(handler, std::move(reply));
}

namespace {

NetTransport::Stats& stats_of(Query& q) {
  return q.owner->mutable_stats();
}

void count_spoof(Query& q) {
  ++stats_of(q).spoof_attempts;
  if (q.counters) ++q.counters->spoof_attempts;
}

void count_malformed(Query& q) {
  ++stats_of(q).malformed;
  if (q.counters) ++q.counters->errors;
}

// Examines one complete message from the server. Returns true when the query is finished.
bool consider(Query& q, std::span<const uint8_t> wire, Protocol protocol) {
  ReplyCheck c = check_reply(wire, q.id, q.query.question);
  switch (c.verdict) {
    case ReplyVerdict::NotOurs:
      count_spoof(q);
      if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("[net] <= {} {} ignored: not the reply (ID/question/QR)",
                      q.query.server.to_string(), q.query.question.qname.to_text());
      return false;
    case ReplyVerdict::Malformed:
      count_malformed(q);
      if (protocol == Protocol::Tcp) {
        // A stream cannot resynchronise after a message it cannot read.
        UpstreamReply r{TransportStatus::Malformed, std::nullopt, q.elapsed_ms(q.owner->loop())};
        finish(q, std::move(r), Delivery::Now);
        return true;
      }
      q.saw_malformed = true;
      return false;
    case ReplyVerdict::Accepted: {
      UpstreamReply r{TransportStatus::Reply, std::move(c.message), q.elapsed_ms(q.owner->loop())};
      finish(q, std::move(r), Delivery::Now);
      return true;
    }
  }
  return false;
}

// Errors of our own side (resource exhaustion) say nothing about the server; the rest
// (unreachable, refused, reset) do.
TransportStatus error_status(int uv_status) {
  switch (uv_status) {
    case UV_EMFILE:
    case UV_ENFILE:
    case UV_ENOBUFS:
    case UV_ENOMEM:
    case UV_EAGAIN:
    case UV_EADDRINUSE:
    case UV_EADDRNOTAVAIL:
      return TransportStatus::LocalError;
    default:
      return TransportStatus::NetworkError;
  }
}

void on_udp_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                 unsigned flags) noexcept;

// libuv runs expired timers before it polls for I/O, so after an iteration that took longer
// than a query's timeout (a burst of work, or a CPU-starved host) the timer fires while the
// reply already sits in the socket. Read what is there before calling it a timeout: a
// false timeout would back the server off and, repeated, hold a healthy server down.
void drain_udp(Query& q) {
  uv_os_fd_t fd;
  if (!q.udp_open || uv_fileno(reinterpret_cast<uv_handle_t*>(&q.udp), &fd) != 0) return;
  for (int i = 0; i < kMaxDrainOnTimeout && !q.finished; ++i) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    uint8_t* rx = q.owner->rx_buffer();
    const ssize_t n = ::recvfrom(fd, rx, kRxSize, MSG_DONTWAIT | MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return;  // EAGAIN: nothing waiting; an error is left to the timeout
    const bool cut = static_cast<size_t>(n) > kRxSize;
    uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(rx), static_cast<unsigned>(kRxSize));
    const uint64_t finished_before = stats_of(q).replies;
    on_udp_recv(&q.udp, cut ? static_cast<ssize_t>(kRxSize) : n, &buf,
                reinterpret_cast<const sockaddr*>(&from), cut ? unsigned{UV_UDP_PARTIAL} : 0u);
    if (q.finished && stats_of(q).replies > finished_before) ++stats_of(q).late_replies;
  }
}

void on_timeout(uv_timer_t* t) noexcept {
  auto& q = *static_cast<Query*>(t->data);
  drain_udp(q);
  if (q.finished) return;
  // A right-ID datagram that did not parse says the server is alive but broken.
  UpstreamReply r{q.saw_malformed ? TransportStatus::Malformed : TransportStatus::Timeout,
                  std::nullopt, q.elapsed_ms(q.owner->loop())};
  finish(q, std::move(r), Delivery::Now);
}

void network_error(Query& q, int uv_status, const char* what) {
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[net] {} {}: {}", q.query.server.to_string(), what, uv_strerror(uv_status));
  UpstreamReply r{error_status(uv_status), std::nullopt, q.elapsed_ms(q.owner->loop())};
  finish(q, std::move(r), Delivery::Now);
}

void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
  auto& q = *static_cast<Query*>(h->data);
  *buf = uv_buf_init(reinterpret_cast<char*>(q.owner->rx_buffer()), kRxSize);
}

void on_udp_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                 unsigned flags) noexcept {
  auto& q = *static_cast<Query*>(h->data);
  if (q.finished) return;
  if (nread < 0) {
    // On a connected UDP socket an ICMP port/host unreachable arrives here (ECONNREFUSED).
    network_error(q, static_cast<int>(nread), "udp recv");
    return;
  }
  if (addr == nullptr) return;  // nothing more to read for now
  auto from = net::from_sockaddr(
      addr, addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  if (!from || *from != q.query.server) {
    count_spoof(q);
    return;
  }
  if (flags & UV_UDP_PARTIAL) {  // cannot happen with a 64 KiB buffer; never parse a cut one
    count_malformed(q);
    q.saw_malformed = true;
    return;
  }
  consider(q, {reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)},
           Protocol::Udp);
}

void on_udp_sent(uv_udp_send_t* req, int status) noexcept {
  auto& q = *static_cast<Query*>(req->data);
  if (status == UV_ECANCELED || q.finished) return;
  if (status < 0) network_error(q, status, "udp send");
}

void on_tcp_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto& q = *static_cast<Query*>(s->data);
  if (q.finished) return;
  if (nread < 0) {
    network_error(q, static_cast<int>(nread), nread == UV_EOF ? "tcp closed" : "tcp read");
    return;
  }
  try {
    q.in.insert(q.in.end(), buf->base, buf->base + nread);
  } catch (...) {
    network_error(q, UV_ENOMEM, "tcp read");
    return;
  }
  // RFC 1035 §4.2.2 framing; several messages may arrive in one read.
  while (q.in.size() >= 2) {
    size_t len = (size_t{q.in[0]} << 8) | q.in[1];
    if (q.in.size() < 2 + len) return;
    if (consider(q, {q.in.data() + 2, len}, Protocol::Tcp)) return;
    q.in.erase(q.in.begin(), q.in.begin() + static_cast<std::ptrdiff_t>(2 + len));
  }
}

void on_tcp_written(uv_write_t* req, int status) noexcept {
  auto& q = *static_cast<Query*>(req->data);
  if (status == UV_ECANCELED || q.finished) return;
  if (status < 0) network_error(q, status, "tcp write");
}

void on_tcp_connected(uv_connect_t* req, int status) noexcept {
  auto& q = *static_cast<Query*>(req->data);
  if (status == UV_ECANCELED || q.finished) return;
  if (status < 0) {
    network_error(q, status, "tcp connect");
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&q.tcp);
  int rc = uv_read_start(stream, on_alloc, on_tcp_read);
  if (rc < 0) {
    network_error(q, rc, "tcp read start");
    return;
  }
  uv_buf_t b =
      uv_buf_init(reinterpret_cast<char*>(q.out.data()), static_cast<unsigned>(q.out.size()));
  q.write_req.data = &q;
  rc = uv_write(&q.write_req, stream, &b, 1, on_tcp_written);
  if (rc < 0) network_error(q, rc, "tcp write");
}

}  // namespace

NetTransport::NetTransport(uv_loop_t* loop, util::Random& random, TransportOptions options)
    : loop_(loop), random_(random), options_(options), counters_(options.observer),
      rx_(new uint8_t[kRxSize]) {}

NetTransport::~NetTransport() {
  // Queries still in flight lose their handler (its owner may be gone too) and close; those
  // already closing forget us.
  for (auto& [h, q] : queries_) {
    q->owner = nullptr;
    q->handler = nullptr;
    q->deferred.reset();
    if (!q->finished) {
      q->finished = true;
      close_handles(*q);
    }
  }
}

resolver::Transport::Handle NetTransport::send(const resolver::UpstreamQuery& query,
                                               resolver::ReplyHandler handler) {
  Handle h = next_handle_++;
  auto* q = new Query;
  q->owner = this;
  q->handle = h;
  q->query = query;
  q->handler = std::move(handler);
  q->started_ms = uv_now(loop_);
  q->timer.data = q;
  int rc = uv_timer_init(loop_, &q->timer);
  if (rc < 0) TERN_BUG("uv_timer_init failed");  // it only initialises a struct
  q->open_handles = 1;

  const bool over_cap = queries_.size() >= options_.max_outstanding;
  queries_.emplace(h, q);  // until its last handle has closed
  if (over_cap) {
    ++stats_.overloaded;
    finish(*q, {TransportStatus::LocalError, std::nullopt, 0}, Delivery::OnClose);
    return h;
  }

  // Counted per server from here on (an overloaded refusal above never reached it).
  q->counters = counters_.get(query.server);
  q->id = random_.next_u16();
  QueryFlags flags;
  flags.recursion_desired = query.recursion_desired;
  flags.edns = query.edns;
  flags.edns_payload = query.edns_payload;
  flags.dnssec_ok = query.dnssec_ok;
  std::vector<uint8_t> wire = encode_query(q->id, query.question, flags);
  if (wire.empty() || wire.size() > kMaxTcpMessage) {
    finish(*q, {TransportStatus::LocalError, std::nullopt, 0}, Delivery::OnClose);
    return h;
  }
  if (query.protocol == Protocol::Udp) {
    q->out = std::move(wire);
    start_udp(*q);
  } else {
    q->out.reserve(wire.size() + 2);
    q->out.push_back(static_cast<uint8_t>(wire.size() >> 8));
    q->out.push_back(static_cast<uint8_t>(wire.size() & 0xff));
    q->out.insert(q->out.end(), wire.begin(), wire.end());
    start_tcp(*q);
  }
  return h;
}

void NetTransport::fail_start(Query& q, int uv_status, const char* what) {
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[net] {} {}: {}", q.query.server.to_string(), what, uv_strerror(uv_status));
  finish(q, {error_status(uv_status), std::nullopt, 0}, Delivery::OnClose);
}

void NetTransport::start_udp(Query& q) {
  const net::SockAddr server = net::to_sockaddr(q.query.server);
  const bool v6 = q.query.server.address.is_v6();
  int rc = uv_udp_init_ex(loop_, &q.udp, v6 ? AF_INET6 : AF_INET);
  if (rc < 0) return fail_start(q, rc, "udp socket");
  q.udp.data = &q;
  q.udp_open = true;
  ++q.open_handles;

  // RFC 5452 §9.2: a random source port per query. Ports in use are redrawn; after
  // kBindAttempts misses (a nearly full port space) the kernel picks an ephemeral one.
  net::Endpoint local{v6 ? net::Address::v6({}) : net::Address(), 0};
  rc = UV_EADDRINUSE;
  for (unsigned i = 0; i < kBindAttempts && rc < 0; ++i) {
    local.port =
        static_cast<uint16_t>(kFirstSourcePort + random_.uniform(65536u - kFirstSourcePort));
    net::SockAddr sa = net::to_sockaddr(local);
    rc = uv_udp_bind(&q.udp, sa.get(), 0);
    if (rc == UV_EADDRINUSE || rc == UV_EACCES)
      ++stats_.port_collisions;
    else if (rc < 0)
      break;
  }
  if (rc == UV_EADDRINUSE || rc == UV_EACCES) {
    local.port = 0;
    net::SockAddr sa = net::to_sockaddr(local);
    rc = uv_udp_bind(&q.udp, sa.get(), 0);
  }
  if (rc < 0) return fail_start(q, rc, "udp bind");
  // connect(): the kernel now delivers only datagrams from the server's address and port.
  rc = uv_udp_connect(&q.udp, server.get());
  if (rc < 0) return fail_start(q, rc, "udp connect");
  rc = uv_udp_recv_start(&q.udp, on_alloc, on_udp_recv);
  if (rc < 0) return fail_start(q, rc, "udp recv");
  uv_buf_t b =
      uv_buf_init(reinterpret_cast<char*>(q.out.data()), static_cast<unsigned>(q.out.size()));
  q.send_req.data = &q;
  rc = uv_udp_send(&q.send_req, &q.udp, &b, 1, nullptr, on_udp_sent);
  if (rc < 0) return fail_start(q, rc, "udp send");
  ++stats_.udp_sent;
  if (q.counters) ++q.counters->queries;
  uv_timer_start(&q.timer, on_timeout, q.query.timeout_ms, 0);
  if (spdlog::should_log(spdlog::level::trace))
    spdlog::trace("[net] => {} {} {} udp id {}", q.query.server.to_string(),
                  q.query.question.qname.to_text(), dns::type_to_text(q.query.question.qtype),
                  q.id);
}

void NetTransport::start_tcp(Query& q) {
  int rc = uv_tcp_init(loop_, &q.tcp);
  if (rc < 0) return fail_start(q, rc, "tcp socket");
  q.tcp.data = &q;
  q.tcp_open = true;
  ++q.open_handles;
  const net::SockAddr server = net::to_sockaddr(q.query.server);
  q.connect_req.data = &q;
  rc = uv_tcp_connect(&q.connect_req, &q.tcp, server.get(), on_tcp_connected);
  if (rc < 0) return fail_start(q, rc, "tcp connect");
  ++stats_.tcp_sent;
  if (q.counters) ++q.counters->queries;
  uv_timer_start(&q.timer, on_timeout, q.query.timeout_ms, 0);
  if (spdlog::should_log(spdlog::level::trace))
    spdlog::trace("[net] => {} {} {} tcp id {}", q.query.server.to_string(),
                  q.query.question.qname.to_text(), dns::type_to_text(q.query.question.qtype),
                  q.id);
}

void NetTransport::cancel(Handle handle) {
  auto it = queries_.find(handle);
  if (it == queries_.end() || it->second->finished) return;  // its handler ran or will run
  Query* q = it->second;
  finish(*q, {TransportStatus::Cancelled, std::nullopt, q->elapsed_ms(loop_)}, Delivery::OnClose);
}

void NetTransport::shutdown() {
  for (auto& [h, q] : queries_)
    finish(*q, {TransportStatus::Cancelled, std::nullopt, q->elapsed_ms(loop_)}, Delivery::OnClose);
}

}  // namespace tern::client
