// MetricsHttpServer: a minimal HTTP/1.1 responder on the loop for `metrics.listen`. It answers
// `GET /metrics` (and HEAD) with the Prometheus exposition, everything else with 404/405/400,
// and closes every connection after one response (Connection: close). It is not a web server:
// no keep-alive, no chunked bodies, no request bodies read.
//
// Caller: the daemon, when metrics.listen is set; the render function is usually
// Metrics::render. Every byte a scraper sends is untrusted: the request head is bounded
// (kMaxRequestHead), connections are capped, and a connection that has not finished within
// the request timeout is closed, so a slow or hostile client pins a few KiB for a few seconds.
// Invariant: after close()'s callback ran no libuv handle of this object is open.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>

#include "net/endpoint.hpp"
#include "util/expected.hpp"

namespace tern::server {

inline constexpr size_t kMaxRequestHead = 8192;  // request line + headers; Prometheus sends ~300 B

struct MetricsHttpOptions {
  uint64_t request_timeout_ms = 5000;  // whole connection lifetime, response included
  size_t max_connections = 16;         // scrapers are few; more at once is abuse
};

class MetricsHttpServer {
 public:
  using Render = std::function<void(std::string& out)>;
  MetricsHttpServer(uv_loop_t* loop, Render render, MetricsHttpOptions opts = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds and listens; port 0 picks one (see endpoint()). The error names the address.
  util::Expected<void, std::string> start(const net::Endpoint& listen);
  // Closes the listener and every connection; done runs when all handles are closed.
  void close(std::function<void()> done);
  const net::Endpoint& endpoint() const { return bound_; }
  size_t connections() const { return conns_.size(); }

  struct Stats {
    uint64_t requests = 0, not_found = 0, bad_requests = 0, timeouts = 0, refused = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Conn;
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_listener_closed(uv_handle_t* h) noexcept;
  void respond(Conn* c);
  void finish(Conn* c);
  void conn_closed(Conn* c);
  void maybe_done();

  uv_loop_t* loop_;
  Render render_;
  MetricsHttpOptions opts_;
  uv_tcp_t listener_{};
  bool listening_ = false;
  bool listener_open_ = false;
  bool closing_ = false;
  net::Endpoint bound_;
  std::unordered_set<Conn*> conns_;
  std::function<void()> on_closed_;
  Stats stats_;
};

}  // namespace tern::server
