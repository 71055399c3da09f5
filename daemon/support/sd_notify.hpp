// Notifier: the systemd notify protocol (sd_notify(3)) without libsystemd. ternd runs as
// Type=notify: it says READY=1 only once every listener is bound, RELOADING=1 + READY=1 around
// a SIGHUP reload, STOPPING=1 when shutdown starts, and STATUS= lines for `systemctl status`.
// The protocol is one datagram per message to the AF_UNIX socket named by $NOTIFY_SOCKET
// (a path, or an abstract name written with a leading '@'); newline-separated KEY=VALUE lines.
//
// Callers: daemon/run.cpp (start-up, reload, shutdown, a periodic status timer).
// Invariant: without $NOTIFY_SOCKET every call is a successful no-op, so ternd behaves the same
// outside systemd; a malformed $NOTIFY_SOCKET is an error, never a send to somewhere else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/expected.hpp"

namespace tern::daemon {

enum class NotifyError : uint8_t {
  BadSocketName,  // not an absolute path or '@name', or too long for sun_path
  SocketFailed,   // socket(2) failed
  SendFailed,     // sendto(2) failed (no listener, permission, message too large)
};
const char* to_string(NotifyError e);

class Notifier {
 public:
  // Reads $NOTIFY_SOCKET now; later changes to the environment are not seen.
  static Notifier from_environment();
  // socket_name: as $NOTIFY_SOCKET would hold it; empty disables notification.
  explicit Notifier(std::string socket_name) : socket_(std::move(socket_name)) {}

  bool enabled() const { return !socket_.empty(); }

  // Sends one message (already KEY=VALUE lines).
  util::Expected<void, NotifyError> send(std::string_view message) const;

  util::Expected<void, NotifyError> ready() const { return send("READY=1"); }
  // "RELOADING=1" with MONOTONIC_USEC (CLOCK_MONOTONIC, µs) as systemd >= 253 requires.
  util::Expected<void, NotifyError> reloading() const;
  util::Expected<void, NotifyError> stopping() const { return send("STOPPING=1"); }
  // STATUS=<text>; newlines in text become spaces (a newline would start a new assignment).
  util::Expected<void, NotifyError> status(std::string_view text) const;

 private:
  std::string socket_;
};

// CLOCK_MONOTONIC in microseconds, as MONOTONIC_USEC wants it.
uint64_t monotonic_usec();

}  // namespace tern::daemon
