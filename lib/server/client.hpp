// ClientRef and ReplySink: how a reply finds its way back to the client that asked. The
// pipeline is transport-independent: a listener hands it a query together with a ClientRef,
// and the pipeline later calls ref.sink->send_reply(ref, bytes) at most once for that query,
// either at once (cache hit, error) or when a resolution completes.
// Invariant: a sink must outlive every ClientRef that names it, or be withdrawn with
// Pipeline::forget_sink() first. TCP connections are named by id, not pointer, so a reply for a
// connection that has closed meanwhile is simply dropped by the listener.
#pragma once

#include <cstdint>
#include <span>

#include "net/endpoint.hpp"

namespace tern::server {

enum class Protocol : uint8_t { Udp, Tcp };

class ReplySink;

struct ClientRef {
  net::Endpoint peer;
  Protocol protocol = Protocol::Udp;
  ReplySink* sink = nullptr;
  uint64_t connection = 0;  // TCP connection id; 0 for UDP
  // UDP: the listener's kernel receive queue was backlogged when this query was read (the loop
  // is behind its clients), so the pipeline starts no new resolution for it (it sheds it).
  bool backlogged = false;
};

class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // `reply` is valid only during the call: a sink that cannot send at once copies it.
  virtual void send_reply(const ClientRef& client, std::span<const uint8_t> reply) = 0;
};

}  // namespace tern::server
