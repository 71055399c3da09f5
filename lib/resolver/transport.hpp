// Transport: how the sans-I/O iterator reaches authoritative servers. The iterator says "send
// this question to that server"; client/ implements it on libuv sockets (tests use a scripted
// FakeTransport). The transport owns the forgery defences of RFC 5452 §9: a fresh random ID
// and, over UDP, a fresh random source port per query; a reply is accepted only from the
// queried address and port, with the same ID and the same question (compared
// case-insensitively: the caller checks 0x20 case itself, DESIGN.md). Everything else is
// counted as a spoof attempt and ignored while the query keeps waiting.
// Invariant: the handler runs exactly once, on the loop, never from inside send().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "dns/message.hpp"
#include "net/endpoint.hpp"

namespace tern::resolver {

enum class Protocol : uint8_t { Udp, Tcp };

struct UpstreamQuery {
  net::Endpoint server;
  dns::Question question;          // written exactly as given (0x20 case applied by the caller)
  Protocol protocol = Protocol::Udp;
  bool edns = true;                // send OPT (RFC 6891); false for the no-EDNS fallback
  uint16_t edns_payload = 1232;    // RFC 9715 / DNS Flag Day 2020
  bool dnssec_ok = false;
  bool recursion_desired = false;  // true only when talking to a recursive upstream
  uint32_t timeout_ms = 1500;
};

enum class TransportStatus : uint8_t {
  Reply,         // message holds a parsed, matched reply
  Timeout,       // nothing acceptable arrived in time
  NetworkError,  // the send or connect failed (unreachable, refused, reset)
  LocalError,    // our side could not send: out of sockets/buffers/ports, or over the cap on
                 // outstanding queries; says nothing about the server
  Malformed,     // a matching-ID reply from the right source that does not parse (UDP: counted,
                 // the query keeps waiting until timeout; TCP: the connection's reply)
  Cancelled,     // cancel() was called
};

struct UpstreamReply {
  TransportStatus status = TransportStatus::Timeout;
  std::optional<dns::Message> message;
  uint32_t rtt_ms = 0;
};

using ReplyHandler = std::function<void(UpstreamReply)>;

class Transport {
 public:
  using Handle = uint64_t;
  virtual ~Transport() = default;
  virtual Handle send(const UpstreamQuery& query, ReplyHandler handler) = 0;
  // The handler is still called, with Cancelled, on the loop.
  virtual void cancel(Handle handle) = 0;
};

}  // namespace tern::resolver
