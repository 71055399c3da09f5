// UdpListener: one UDP socket on one `server.listen` endpoint. Reads in batches with recvmmsg
// (UV_UDP_RECVMMSG) into one preallocated buffer, hands each datagram to the pipeline, and
// sends replies with uv_udp_try_send straight from the pipeline's buffer; only when the kernel
// queue is full (EAGAIN) is the reply copied for an asynchronous uv_udp_send.
// Overload: at the start of each receive batch the listener reads its socket's receive-queue
// fill (SO_MEMINFO). Above 1/kBacklogFraction of the buffer the loop is behind its clients,
// and queries of that batch go to the pipeline marked backlogged (no new resolutions, see
// pipeline.hpp), until a batch starts with the queue short again. Replies that cannot be sent
// at once are queued up to kMaxQueuedSends, then dropped and counted.
// Invariant: the object outlives its handle (close() then run the loop until closed() before
// destroying it); the receive buffer is reused only after a batch has been handled.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "net/endpoint.hpp"
#include "server/client.hpp"
#include "server/pipeline.hpp"
#include "util/expected.hpp"

namespace tern::server {

struct UdpStats {
  uint64_t received = 0, sent = 0, send_queued = 0, send_errors = 0, oversized = 0;
  uint64_t backlogged = 0;     // queries read while the receive queue was backlogged
  uint64_t send_dropped = 0;   // replies dropped: kMaxQueuedSends were already queued
  uint64_t kernel_drops = 0;   // datagrams the kernel dropped on this socket (queue full)
};

// The receive queue counts as backlogged above this fraction of its buffer: with the usual
// 4-8 MiB that is ~1000 queries, tens of milliseconds of work, more than a loop turn reads.
inline constexpr uint32_t kBacklogFraction = 8;
// Replies waiting for the kernel's send queue; each holds a copy (at most 64 KiB).
inline constexpr size_t kMaxQueuedSends = 1024;

class UdpListener final : public ReplySink {
 public:
  UdpListener(uv_loop_t* loop, Pipeline& pipeline);
  ~UdpListener() override;
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Binds and starts reading. The error is the operator-facing message (bind_error.hpp).
  util::Expected<void, std::string> start(const net::Endpoint& endpoint);
  // Serves an already-bound UDP socket (systemd socket activation) instead of binding one.
  // Takes ownership of fd whatever the outcome: it is closed with the handle, or at once when
  // it is not a bound IPv4/IPv6 UDP socket (adopted_socket.hpp says why in the error).
  util::Expected<void, std::string> adopt(int fd);
  void stop_receiving();
  void close();
  bool closed() const { return !initialised_ || closed_; }
  // The bound address (with the real port when 0 was asked for).
  const net::Endpoint& endpoint() const { return bound_; }
  const UdpStats& stats() const { return stats_; }

  void send_reply(const ClientRef& client, std::span<const uint8_t> reply) override;
  // Whether the last receive batch started with a backlogged queue.
  bool backlogged() const { return backlogged_; }

 private:
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                      unsigned flags) noexcept;
  static void on_close(uv_handle_t* h) noexcept;
  util::Expected<void, std::string> begin_receiving(const std::string& where);
  void check_backlog() noexcept;

  uv_loop_t* loop_;
  Pipeline& pipeline_;
  uv_udp_t handle_{};
  bool initialised_ = false;
  bool closed_ = false;
  net::Endpoint bound_;
  std::unique_ptr<uint8_t[]> recv_buf_;
  UdpStats stats_;
  bool in_batch_ = false;    // a recvmmsg batch is being handed over
  bool backlogged_ = false;
  size_t queued_sends_ = 0;
};

}  // namespace tern::server
