#include "server/udp_listener.hpp"

#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <spdlog/spdlog.h>

#include "net/sockaddr.hpp"
#include "server/adopted_socket.hpp"
#include "server/bind_error.hpp"
#include "util/bug.hpp"

namespace tern::server {

namespace {

// libuv splits the buffer into 64 KiB slots, one datagram each, and reads up to 20 per
// recvmmsg call (UV__MMSG_MAXWIDTH); 16 slots keep most of that batching for 1 MiB.
constexpr size_t kDatagramSlot = size_t{64} * 1024;
constexpr size_t kRecvSlots = 16;
constexpr size_t kRecvBufferSize = kDatagramSlot * kRecvSlots;
// A kernel receive queue deep enough to ride out a burst while the loop is busy.
constexpr int kSocketBuffer = 4 << 20;

struct SendReq {
  uv_udp_send_t req;
  size_t* queued;  // the listener's count; send callbacks run before its close callback
  std::unique_ptr<uint8_t[]> data;
};

}  // namespace

UdpListener::UdpListener(uv_loop_t* loop, Pipeline& pipeline)
    : loop_(loop), pipeline_(pipeline), recv_buf_(new uint8_t[kRecvBufferSize]) {}

UdpListener::~UdpListener() {
  // The handle must have been closed and its callback run (the server runs the loop until
  // every handle is closed); anything else is a lifetime bug.
  if (initialised_ && !closed_) TERN_BUG("UdpListener destroyed with an open handle");
}

util::Expected<void, std::string> UdpListener::start(const net::Endpoint& endpoint) {
  net::SockAddr sa = net::to_sockaddr(endpoint);
  unsigned domain = endpoint.address.is_v6() ? AF_INET6 : AF_INET;
  int rc = uv_udp_init_ex(loop_, &handle_, domain | UV_UDP_RECVMMSG);
  if (rc != 0) return util::unexpected("udp socket for " + endpoint.to_string() + ": " + uv_strerror(rc));
  initialised_ = true;
  handle_.data = this;
  // An IPv6 listener takes IPv6 only, so "0.0.0.0:53" and "[::]:53" can both be listed.
  rc = uv_udp_bind(&handle_, sa.get(), endpoint.address.is_v6() ? UV_UDP_IPV6ONLY : 0);
  if (rc != 0) {
    close();
    return util::unexpected(bind_error_message(endpoint, rc) + " (udp)");
  }
  bound_ = endpoint;
  return begin_receiving(endpoint.to_string());
}

util::Expected<void, std::string> UdpListener::adopt(int fd) {
  auto local = check_adoptable(fd, Protocol::Udp);
  if (!local) {
    ::close(fd);
    return util::unexpected(local.error());
  }
  // AF_UNSPEC: uv_udp_init_ex must not create a socket of its own (uv_udp_open would then
  // refuse with EBUSY); the flag still asks for recvmmsg batching.
  int rc = uv_udp_init_ex(loop_, &handle_, AF_UNSPEC | UV_UDP_RECVMMSG);
  if (rc != 0) {
    ::close(fd);
    return util::unexpected("udp handle for inherited " + local->to_string() + ": " + uv_strerror(rc));
  }
  initialised_ = true;
  handle_.data = this;
  rc = uv_udp_open(&handle_, fd);
  if (rc != 0) {
    ::close(fd);  // not the handle's yet: closing the handle leaves it open
    close();
    return util::unexpected("inherited " + local->to_string() + " (udp): " + uv_strerror(rc));
  }
  bound_ = *local;
  return begin_receiving(local->to_string() + " (inherited)");
}

// What start() and adopt() share once the handle holds a bound socket.
util::Expected<void, std::string> UdpListener::begin_receiving(const std::string& where) {
  int size = kSocketBuffer;
  uv_recv_buffer_size(reinterpret_cast<uv_handle_t*>(&handle_), &size);  // best effort
  net::SockAddr got;
  int len = static_cast<int>(sizeof got.storage);
  if (uv_udp_getsockname(&handle_, got.get(), &len) == 0) {
    if (auto ep = net::from_sockaddr(got.get(), static_cast<socklen_t>(len))) bound_ = *ep;
  }
  int rc = uv_udp_recv_start(&handle_, &UdpListener::on_alloc, &UdpListener::on_recv);
  if (rc != 0) {
    close();
    return util::unexpected("udp receive on " + where + ": " + uv_strerror(rc));
  }
  spdlog::debug("[udp] {}: recvmmsg {}", bound_.to_string(),
                uv_udp_using_recvmmsg(&handle_) ? "on" : "off (one datagram per read)");
  return {};
}

void UdpListener::stop_receiving() {
  if (initialised_ && !closed_) uv_udp_recv_stop(&handle_);
}

void UdpListener::close() {
  if (!initialised_ || closed_ || uv_is_closing(reinterpret_cast<uv_handle_t*>(&handle_))) return;
  pipeline_.forget_sink(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), &UdpListener::on_close);
}

void UdpListener::on_close(uv_handle_t* h) noexcept {
  static_cast<UdpListener*>(h->data)->closed_ = true;
}

void UdpListener::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) noexcept {
  auto* self = static_cast<UdpListener*>(h->data);
  buf->base = reinterpret_cast<char*>(self->recv_buf_.get());
  buf->len = kRecvBufferSize;
}

void UdpListener::on_recv(uv_udp_t* h, ssize_t nread, const uv_buf_t* buf, const sockaddr* addr,
                          unsigned flags) noexcept {
  auto* self = static_cast<UdpListener*>(h->data);
  // nread == 0 with no address: the end of a batch (UV_UDP_MMSG_FREE) or nothing to read.
  // The buffer is ours and reused, so there is nothing to free.
  if (nread <= 0 || addr == nullptr) {
    self->in_batch_ = false;
    if (nread < 0) spdlog::debug("[udp] receive on {}: {}", self->bound_.to_string(),
                                 uv_strerror(static_cast<int>(nread)));
    return;
  }
  ++self->stats_.received;
  // Once per recvmmsg batch (every datagram without recvmmsg).
  if (!self->in_batch_) self->check_backlog();
  if (flags & UV_UDP_MMSG_CHUNK) self->in_batch_ = true;
  if (flags & UV_UDP_PARTIAL) {
    ++self->stats_.oversized;  // larger than a slot: not a query we would answer
    return;
  }
  socklen_t alen = addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  auto peer = net::from_sockaddr(addr, alen);
  if (!peer) return;
  ClientRef ref{*peer, Protocol::Udp, self, 0, self->backlogged_};
  if (self->backlogged_) ++self->stats_.backlogged;
  self->pipeline_.handle({reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)},
                         ref);
}

void UdpListener::check_backlog() noexcept {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&handle_), &fd) != 0) return;
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
      len < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1)) {
    backlogged_ = false;  // no reading (old kernel): never shed
    return;
  }
  backlogged_ = mem[SK_MEMINFO_RMEM_ALLOC] > mem[SK_MEMINFO_RCVBUF] / kBacklogFraction;
  stats_.kernel_drops = mem[SK_MEMINFO_DROPS];
}

void UdpListener::send_reply(const ClientRef& client, std::span<const uint8_t> reply) {
  if (!initialised_ || closed_ || uv_is_closing(reinterpret_cast<uv_handle_t*>(&handle_))) return;
  net::SockAddr sa = net::to_sockaddr(client.peer);
  uv_buf_t b = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(reply.data())),
                           static_cast<unsigned>(reply.size()));
  int rc = uv_udp_try_send(&handle_, &b, 1, sa.get());
  if (rc >= 0) {
    ++stats_.sent;
    return;
  }
  if (rc != UV_EAGAIN && rc != UV_ENOSYS) {
    ++stats_.send_errors;
    spdlog::debug("[udp] send to {}: {}", client.peer.to_string(), uv_strerror(rc));
    return;
  }
  // The kernel queue is full (or libuv queued earlier sends): copy and send asynchronously,
  // up to a bound, so a client that does not read cannot make us hold its replies.
  if (queued_sends_ >= kMaxQueuedSends) {
    ++stats_.send_dropped;
    return;
  }
  auto* req = new SendReq{};
  req->req.data = req;
  req->queued = &queued_sends_;
  req->data.reset(new uint8_t[reply.size()]);
  std::memcpy(req->data.get(), reply.data(), reply.size());
  b = uv_buf_init(reinterpret_cast<char*>(req->data.get()), static_cast<unsigned>(reply.size()));
  rc = uv_udp_send(&req->req, &handle_, &b, 1, sa.get(), [](uv_udp_send_t* r, int status) {
    if (status != 0) spdlog::debug("[udp] queued send: {}", uv_strerror(status));
    auto* done = static_cast<SendReq*>(r->data);
    --*done->queued;
    delete done;
  });
  if (rc != 0) {
    ++stats_.send_errors;
    delete req;
    return;
  }
  ++queued_sends_;
  ++stats_.send_queued;
}

}  // namespace tern::server
