#include "server/metrics_http.hpp"
#include "net/sockaddr.hpp"

#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

namespace tern::server {

// One scrape: a TCP handle and its deadline timer, both closed before the Conn is freed.
struct MetricsHttpServer::Conn {
  MetricsHttpServer* owner = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_write_t write{};
  uv_shutdown_t shutdown{};
  std::string head;      // bytes of the request head read so far
  std::string response;  // kept alive until the write completes
  bool responded = false;
  bool closing = false;
  int open_handles = 0;
};

namespace {

std::string status_response(int code, std::string_view reason, std::string_view extra_headers) {
  std::string body = std::to_string(code) + " " + std::string(reason) + "\n";
  std::string r = "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  r += "Content-Type: text/plain; charset=utf-8\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r.append(extra_headers);
  r += "Connection: close\r\n\r\n";
  r += body;
  return r;
}

}  // namespace

MetricsHttpServer::MetricsHttpServer(uv_loop_t* loop, Render render, MetricsHttpOptions opts)
    : loop_(loop), render_(std::move(render)), opts_(opts) {}

MetricsHttpServer::~MetricsHttpServer() {
  // The owner must have run close() to completion; freeing open handles would corrupt the loop.
  if (listener_open_ || !conns_.empty()) std::abort();
}

util::Expected<void, std::string> MetricsHttpServer::start(const net::Endpoint& listen) {
  const std::string where = listen.to_string();
  int rc = uv_tcp_init(loop_, &listener_);
  if (rc != 0) return util::unexpected("metrics " + where + ": " + uv_strerror(rc));
  listener_.data = this;
  listener_open_ = true;
  net::SockAddr sa = net::to_sockaddr(listen);
  rc = uv_tcp_bind(&listener_, sa.get(), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 16, on_connection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), on_listener_closed);
    return util::unexpected("cannot listen for metrics on " + where + ": " + uv_strerror(rc));
  }
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    if (auto ep = net::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), static_cast<socklen_t>(len)))
      bound_ = *ep;
  }
  listening_ = true;
  return {};
}

void MetricsHttpServer::on_listener_closed(uv_handle_t* h) noexcept {
  auto* self = static_cast<MetricsHttpServer*>(h->data);
  self->listener_open_ = false;
  self->maybe_done();
}

void MetricsHttpServer::on_connection(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<MetricsHttpServer*>(server->data);
  if (status != 0 || self->closing_) return;
  auto c = std::make_unique<Conn>();
  c->owner = self;
  if (uv_tcp_init(self->loop_, &c->tcp) != 0) return;
  c->tcp.data = c.get();
  c->open_handles = 1;
  Conn* conn = c.release();
  self->conns_.insert(conn);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&conn->tcp)) != 0 ||
      self->conns_.size() > self->opts_.max_connections) {
    if (self->conns_.size() > self->opts_.max_connections) ++self->stats_.refused;
    self->finish(conn);
    return;
  }
  uv_timer_init(self->loop_, &conn->timer);
  conn->timer.data = conn;
  conn->open_handles = 2;
  uv_timer_start(
      &conn->timer,
      [](uv_timer_t* t) noexcept {
        auto* cc = static_cast<Conn*>(t->data);
        ++cc->owner->stats_.timeouts;
        cc->owner->finish(cc);
      },
      self->opts_.request_timeout_ms, 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&conn->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
        // A fixed small buffer per read; the head is copied into Conn::head, bounded.
        static char scratch[4096];
        (void)h;
        *buf = uv_buf_init(scratch, sizeof scratch);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
        auto* cc = static_cast<Conn*>(s->data);
        if (cc->responded || cc->closing) return;
        if (nread < 0) {
          cc->owner->finish(cc);
          return;
        }
        size_t n = static_cast<size_t>(nread);
        size_t room = kMaxRequestHead + 1 - cc->head.size();
        cc->head.append(buf->base, n < room ? n : room);
        cc->owner->respond(cc);
      });
}

void MetricsHttpServer::respond(Conn* c) {
  std::string_view head = c->head;
  size_t end = head.find("\r\n\r\n");
  if (end == std::string_view::npos) end = head.find("\n\n");
  if (end == std::string_view::npos) {
    if (head.size() <= kMaxRequestHead) return;  // wait for more
    ++stats_.bad_requests;
    c->response = status_response(431, "Request Header Fields Too Large", "");
  } else {
    std::string_view line = head.substr(0, head.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    std::string_view method, target, version;
    if (sp2 != std::string_view::npos) {
      method = line.substr(0, sp1);
      target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      version = line.substr(sp2 + 1);
    }
    std::string_view path = target.substr(0, target.find('?'));
    if (method.empty() || target.empty() || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
      ++stats_.bad_requests;
      c->response = status_response(400, "Bad Request", "");
    } else if (method != "GET" && method != "HEAD") {
      ++stats_.bad_requests;
      c->response = status_response(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
    } else if (path != "/metrics") {
      ++stats_.not_found;
      c->response = status_response(404, "Not Found", "");
    } else {
      ++stats_.requests;
      std::string body;
      render_(body);
      c->response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n";
      c->response += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      c->response += "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
      if (method == "GET") c->response += body;
    }
  }
  c->responded = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
  uv_buf_t buf = uv_buf_init(c->response.data(), static_cast<unsigned>(c->response.size()));
  c->write.data = c;
  int rc = uv_write(&c->write, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1,
                    [](uv_write_t* w, int status) noexcept {
                      auto* cc = static_cast<Conn*>(w->data);
                      if (status != 0 || cc->closing) {
                        cc->owner->finish(cc);
                        return;
                      }
                      // Half-close after the response so the client sees a clean EOF.
                      cc->shutdown.data = cc;
                      if (uv_shutdown(&cc->shutdown, reinterpret_cast<uv_stream_t*>(&cc->tcp),
                                      [](uv_shutdown_t* sd, int) noexcept {
                                        auto* c3 = static_cast<Conn*>(sd->data);
                                        c3->owner->finish(c3);
                                      }) != 0)
                        cc->owner->finish(cc);
                    });
  if (rc != 0) finish(c);
}

void MetricsHttpServer::finish(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  auto on_close = [](uv_handle_t* h) noexcept {
    auto* cc = static_cast<Conn*>(h->data);
    if (--cc->open_handles == 0) cc->owner->conn_closed(cc);
  };
  if (c->open_handles == 2) uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_close);
}

void MetricsHttpServer::conn_closed(Conn* c) {
  conns_.erase(c);
  delete c;
  maybe_done();
}

void MetricsHttpServer::close(std::function<void()> done) {
  on_closed_ = std::move(done);
  closing_ = true;
  if (listener_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), on_listener_closed);
  listening_ = false;
  std::vector<Conn*> open(conns_.begin(), conns_.end());
  for (Conn* c : open) finish(c);
  maybe_done();
}

void MetricsHttpServer::maybe_done() {
  if (!closing_ || listener_open_ || !conns_.empty() || !on_closed_) return;
  auto done = std::move(on_closed_);
  on_closed_ = nullptr;
  done();
}

}  // namespace tern::server
