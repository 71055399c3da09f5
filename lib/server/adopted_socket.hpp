// Sockets the server is handed instead of binding them itself: systemd socket activation
// (ternd.socket, LISTEN_FDS) passes UDP and TCP sockets that are already bound (and, for
// TCP, listening), so an unprivileged ternd can serve port 53. check_adoptable() is the one
// gate every such fd passes before libuv gets it (uv_udp_open / uv_tcp_open): it must be an
// IPv4/IPv6 socket of the expected protocol, bound to an address and a port.
// Invariant: check_adoptable() never closes or changes the fd; the listeners' adopt() does
// (it owns the fd from the call on, success or failure).
#pragma once

#include <string>

#include "net/endpoint.hpp"
#include "server/client.hpp"
#include "util/expected.hpp"

namespace tern::server {

// A socket the server serves as given. fd is owned by whoever holds it until Server::start()
// (then by the server, which closes it with the listener, or at once if it is rejected).
struct AdoptedSocket {
  int fd = -1;
  Protocol protocol = Protocol::Udp;
};

// The socket's bound address, or an operator-facing reason it cannot serve `expected`
// (not a socket, a stream where a datagram socket was expected, AF_UNIX, not bound...).
util::Expected<net::Endpoint, std::string> check_adoptable(int fd, Protocol expected);

const char* to_string(Protocol p);

}  // namespace tern::server
