#include "server/tcp_listener.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "dns/wire_reader.hpp"
#include "net/sockaddr.hpp"
#include "server/adopted_socket.hpp"
#include "server/bind_error.hpp"
#include "util/bug.hpp"

namespace tern::server {

namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr int kBacklog = 256;

struct WriteReq {
  uv_write_t req;
  std::unique_ptr<uint8_t[]> data;
};

}  // namespace

struct TcpListener::Connection {
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  TcpListener* owner = nullptr;
  uint64_t id = 0;
  net::Endpoint peer;
  std::vector<uint8_t> in;  // received, not yet handled: in[in_start..]
  size_t in_start = 0;
  uint32_t outstanding = 0;  // queries handed to the pipeline, reply not yet written
  uint64_t last_active = 0;  // loop time of the last read or reply
  uint64_t idle_due = 0;     // loop time at which the connection counts as idle
  uint64_t msg_start = 0;    // loop time of the first byte of an incomplete message; 0: none
  int handles_open = 0;
  bool reading = false;
  bool eof = false;          // the client half-closed: answer what it asked, then close
  bool closing = false;
  bool processing = false;   // re-entrancy guard: a reply may be written from inside handle()
  bool counted = false;      // counted as open in the metrics
};

TcpListener::TcpListener(uv_loop_t* loop, Pipeline& pipeline, TcpOptions opts)
    : loop_(loop), pipeline_(pipeline), opts_(opts), read_buf_(new uint8_t[kReadChunk]) {}

TcpListener::~TcpListener() {
  if (!closed()) TERN_BUG("TcpListener destroyed with open handles");
}

util::Expected<void, std::string> TcpListener::start(const net::Endpoint& endpoint) {
  net::SockAddr sa = net::to_sockaddr(endpoint);
  int rc = uv_tcp_init(loop_, &listener_);
  if (rc != 0) return util::unexpected("tcp socket for " + endpoint.to_string() + ": " + uv_strerror(rc));
  initialised_ = true;
  listener_.data = this;
  rc = uv_tcp_bind(&listener_, sa.get(), endpoint.address.is_v6() ? UV_TCP_IPV6ONLY : 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog,
                              &TcpListener::on_connection);
  if (rc != 0) {
    close();
    // libuv defers some bind errors (EADDRINUSE) to listen(); both name the same fault.
    return util::unexpected(bind_error_message(endpoint, rc) + " (tcp)");
  }
  bound_ = endpoint;
  net::SockAddr got;
  int len = static_cast<int>(sizeof got.storage);
  if (uv_tcp_getsockname(&listener_, got.get(), &len) == 0) {
    if (auto ep = net::from_sockaddr(got.get(), static_cast<socklen_t>(len))) bound_ = *ep;
  }
  return {};
}

util::Expected<void, std::string> TcpListener::adopt(int fd) {
  auto local = check_adoptable(fd, Protocol::Tcp);
  if (!local) {
    ::close(fd);
    return util::unexpected(local.error());
  }
  int rc = uv_tcp_init(loop_, &listener_);
  if (rc != 0) {
    ::close(fd);
    return util::unexpected("tcp handle for inherited " + local->to_string() + ": " + uv_strerror(rc));
  }
  initialised_ = true;
  listener_.data = this;
  rc = uv_tcp_open(&listener_, fd);
  if (rc != 0) {
    ::close(fd);  // not the handle's yet: closing the handle leaves it open
    close();
    return util::unexpected("inherited " + local->to_string() + " (tcp): " + uv_strerror(rc));
  }
  // listen() again on a listening socket only sets the backlog; libuv needs the call to
  // start accepting.
  rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), kBacklog, &TcpListener::on_connection);
  if (rc != 0) {
    close();
    return util::unexpected("inherited " + local->to_string() + " (tcp): listen: " + uv_strerror(rc));
  }
  bound_ = *local;
  return {};
}

void TcpListener::stop_accepting() {
  accepting_ = false;
  if (initialised_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), &TcpListener::on_listener_close);
  for (auto& [id, c] : conns_) {
    if (c->reading) uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
    c->reading = false;
  }
}

void TcpListener::close() {
  stop_accepting();
  pipeline_.forget_sink(this);
  while (!conns_.empty()) close_connection(conns_.begin()->second);
}

bool TcpListener::closed() const {
  return (!initialised_ || listener_closed_) && conns_.empty() && closing_ == 0;
}

size_t TcpListener::write_backlog() const {
  size_t n = 0;
  for (const auto& [id, c] : conns_) n += c->tcp.write_queue_size;
  return n;
}

void TcpListener::on_listener_close(uv_handle_t* h) noexcept {
  static_cast<TcpListener*>(h->data)->listener_closed_ = true;
}

void TcpListener::on_connection(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<TcpListener*>(server->data);
  if (status != 0) {
    spdlog::warn("[tcp] accept on {}: {}", self->bound_.to_string(), uv_strerror(status));
    return;
  }
  self->accept_one();
}

void TcpListener::accept_one() {
  auto* c = new Connection{};
  c->owner = this;
  c->id = next_id_++;
  int rc = uv_tcp_init(loop_, &c->tcp);
  if (rc != 0) {
    spdlog::warn("[tcp] uv_tcp_init: {}", uv_strerror(rc));
    delete c;
    return;
  }
  c->tcp.data = c;
  c->handles_open = 1;
  rc = uv_timer_init(loop_, &c->timer);
  if (rc == 0) {
    c->timer.data = c;
    c->handles_open = 2;
  }
  conns_.emplace(c->id, c);
  int arc = uv_accept(reinterpret_cast<uv_stream_t*>(&listener_),
                      reinterpret_cast<uv_stream_t*>(&c->tcp));
  if (rc != 0 || arc != 0) {
    spdlog::warn("[tcp] accept on {}: {}", bound_.to_string(), uv_strerror(rc != 0 ? rc : arc));
    return close_connection(c);
  }
  // At the cap, the oldest idle connection makes room (RFC 7766 §6.2.3); with none idle the
  // newcomer is refused rather than starving clients that have queries in flight.
  if (conns_.size() > opts_.max_connections && !make_room()) {
    ++stats_.refused_full;
    if (metrics_) metrics_->tcp_connection_refused();
    return close_connection(c);
  }
  ++stats_.accepted;
  if (metrics_) {
    metrics_->tcp_connection_opened();
    c->counted = true;
  }
  net::SockAddr peer;
  int len = static_cast<int>(sizeof peer.storage);
  if (uv_tcp_getpeername(&c->tcp, peer.get(), &len) != 0) return close_connection(c);
  auto ep = net::from_sockaddr(peer.get(), static_cast<socklen_t>(len));
  if (!ep) return close_connection(c);
  c->peer = *ep;
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), &TcpListener::on_alloc,
                    &TcpListener::on_read) != 0)
    return close_connection(c);
  c->reading = true;
  touch(c);
}

bool TcpListener::make_room() {
  Connection* oldest = nullptr;
  for (auto& [id, c] : conns_) {
    if (c->outstanding != 0 || c->tcp.write_queue_size != 0 || c->last_active == 0) continue;
    if (!oldest || c->last_active < oldest->last_active) oldest = c;
  }
  if (!oldest) return false;
  ++stats_.evicted_idle;
  close_connection(oldest);
  return true;
}

void TcpListener::touch(Connection* c) {
  c->last_active = uv_now(loop_);
  c->idle_due = c->last_active + opts_.idle_timeout_ms;
  arm(c);
}

// One timer per connection, due at the earlier of the idle time and the message deadline.
void TcpListener::arm(Connection* c) {
  if (c->handles_open != 2 || c->closing) return;
  uint64_t now = uv_now(loop_);
  uint64_t due = c->idle_due;
  if (c->msg_start != 0) due = std::min(due, c->msg_start + kMessageDeadlineMs);
  uv_timer_start(&c->timer, &TcpListener::on_idle, due > now ? due - now : 0, 0);
}

void TcpListener::on_idle(uv_timer_t* t) noexcept {
  auto* c = static_cast<Connection*>(t->data);
  TcpListener* self = c->owner;
  if (c->closing) return;
  uint64_t now = uv_now(self->loop_);
  if (c->msg_start != 0 && now >= c->msg_start + kMessageDeadlineMs) {
    ++self->stats_.closed_slow;  // bytes kept trickling, the message never completed
    spdlog::debug("[tcp] {}: message not complete within {} ms, closing", c->peer.to_string(),
                  kMessageDeadlineMs);
    self->close_connection(c);
    return;
  }
  if (now >= c->idle_due) {
    if (c->outstanding == 0 && c->tcp.write_queue_size == 0) {
      ++self->stats_.closed_idle;
      self->close_connection(c);
      return;
    }
    // Queries still running: the connection is not idle; look again later.
    c->idle_due = now + self->opts_.idle_timeout_ms;
  }
  self->arm(c);
}

void TcpListener::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
  auto* c = static_cast<Connection*>(h->data);
  buf->base = reinterpret_cast<char*>(c->owner->read_buf_.get());
  buf->len = kReadChunk;
}

void TcpListener::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* c = static_cast<Connection*>(s->data);
  TcpListener* self = c->owner;
  if (c->closing) return;
  if (nread < 0) {
    if (c->reading) uv_read_stop(s);
    c->reading = false;
    if (nread == UV_EOF) {
      c->eof = true;
      // Frames that arrived complete before the EOF still get their answers.
      self->process(c);
      self->maybe_finish(c);
    } else {
      self->close_connection(c);
    }
    return;
  }
  if (nread == 0) return;
  auto n = static_cast<size_t>(nread);
  const auto* data = reinterpret_cast<const uint8_t*>(buf->base);
  try {
    c->in.insert(c->in.end(), data, data + n);
  } catch (const std::bad_alloc&) {
    return self->close_connection(c);
  }
  self->touch(c);  // re-arms the idle time, never the message deadline (see process())
  self->process(c);
}

void TcpListener::process(Connection* c) {
  if (c->processing || c->closing) return;
  c->processing = true;
  bool consumed = false;
  while (!c->closing && accepting_ && c->outstanding < kMaxPipelined) {
    size_t avail = c->in.size() - c->in_start;
    if (avail < 2) break;
    size_t len = dns::load_u16(c->in.data() + c->in_start);
    if (len == 0 || len > kMaxTcpQuery) {
      ++stats_.framing_errors;
      c->processing = false;
      return close_connection(c);
    }
    if (avail < 2 + len) break;
    std::span<const uint8_t> frame(c->in.data() + c->in_start + 2, len);
    ++c->outstanding;
    ++stats_.queries;
    ClientRef ref{c->peer, Protocol::Tcp, this, c->id};
    Disposition d = pipeline_.handle(frame, ref);
    c->in_start += 2 + len;  // after handle(): the frame stays valid while it runs
    consumed = true;
    if (d == Disposition::Dropped && c->outstanding > 0) --c->outstanding;
  }
  c->processing = false;
  if (c->closing) return;
  if (c->in_start == c->in.size()) {
    c->in.clear();
    c->in_start = 0;
  } else if (c->in_start > 0) {
    c->in.erase(c->in.begin(), c->in.begin() + static_cast<std::ptrdiff_t>(c->in_start));
    c->in_start = 0;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (c->outstanding >= kMaxPipelined) {
    if (c->reading) uv_read_stop(stream);
    c->reading = false;
  } else if (!c->reading && !c->eof && accepting_) {
    if (uv_read_start(stream, &TcpListener::on_alloc, &TcpListener::on_read) == 0) c->reading = true;
  }
  // Message deadline: it starts with the first byte of an incomplete message and is not
  // extended by more bytes of the same message. Not while we are not reading (back-pressure
  // or EOF): then the client cannot finish it.
  size_t avail = c->in.size();
  bool partial = avail > 0 && (avail < 2 || avail < 2 + size_t{dns::load_u16(c->in.data())});
  uint64_t before = c->msg_start;
  if (!partial || !c->reading) {
    c->msg_start = 0;
  } else if (c->msg_start == 0 || consumed) {
    c->msg_start = uv_now(loop_);
  }
  if (c->msg_start != before) arm(c);
}

void TcpListener::resume(Connection* c) {
  if (c->processing || c->closing || c->reading || !accepting_) return;
  if (c->outstanding < kMaxPipelined) process(c);
}

void TcpListener::maybe_finish(Connection* c) {
  if (!c->closing && c->eof && c->outstanding == 0 && c->tcp.write_queue_size == 0)
    close_connection(c);
}

void TcpListener::send_reply(const ClientRef& client, std::span<const uint8_t> reply) {
  auto it = conns_.find(client.connection);
  if (it == conns_.end()) return;  // the connection closed while the query was resolved
  Connection* c = it->second;
  if (c->closing) return;
  if (c->outstanding > 0) --c->outstanding;
  if (reply.size() > 65535) return;
  uint8_t prefix[2];
  dns::store_u16(prefix, static_cast<uint16_t>(reply.size()));
  uv_buf_t bufs[2] = {
      uv_buf_init(reinterpret_cast<char*>(prefix), 2),
      uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(reply.data())),
                  static_cast<unsigned>(reply.size()))};
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  size_t total = 2 + reply.size();
  int rc = uv_try_write(stream, bufs, 2);
  size_t written = rc > 0 ? static_cast<size_t>(rc) : 0;
  if (rc < 0 && rc != UV_EAGAIN) {
    ++stats_.write_errors;
    return close_connection(c);
  }
  if (written < total) {
    if (c->tcp.write_queue_size + (total - written) > kMaxWriteQueue) {
      ++stats_.write_errors;  // the client does not read its answers
      return close_connection(c);
    }
    auto* req = new WriteReq{};
    req->req.data = req;
    req->data.reset(new uint8_t[total - written]);
    size_t pos = 0;
    for (size_t i = written; i < total; ++i)
      req->data[pos++] = i < 2 ? prefix[i] : reply[i - 2];
    uv_buf_t rest = uv_buf_init(reinterpret_cast<char*>(req->data.get()),
                                static_cast<unsigned>(total - written));
    rc = uv_write(&req->req, stream, &rest, 1, [](uv_write_t* r, int status) {
      auto* conn = static_cast<Connection*>(r->handle->data);
      delete static_cast<WriteReq*>(r->data);
      if (status != 0 || conn->closing) return;
      conn->owner->maybe_finish(conn);
    });
    if (rc != 0) {
      delete req;
      ++stats_.write_errors;
      return close_connection(c);
    }
  }
  ++stats_.replies;
  touch(c);
  resume(c);
  maybe_finish(c);
}

void TcpListener::close_connection(Connection* c) {
  if (c->closing) return;
  c->closing = true;
  conns_.erase(c->id);
  if (c->counted && metrics_) metrics_->tcp_connection_closed();
  ++closing_;
  if (c->reading) uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
  c->reading = false;
  if (c->handles_open == 2) {
    uv_timer_stop(&c->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), &TcpListener::on_conn_close);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), &TcpListener::on_conn_close);
}

void TcpListener::on_conn_close(uv_handle_t* h) noexcept {
  auto* c = static_cast<Connection*>(h->data);
  if (--c->handles_open > 0) return;
  --c->owner->closing_;
  delete c;
}

}  // namespace tern::server
