#include "server/adopted_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/sockaddr.hpp"

namespace tern::server {

const char* to_string(Protocol p) {
  return p == Protocol::Tcp ? "tcp" : "udp";
}

util::Expected<net::Endpoint, std::string> check_adoptable(int fd, Protocol expected) {
  const std::string what = "inherited socket fd " + std::to_string(fd) + " (" +
                           to_string(expected) + "): ";
  if (fd < 0) return util::unexpected(what + "not a file descriptor");
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return util::unexpected(what + "not a socket (" + std::strerror(errno) + ")");
  const int want_type = expected == Protocol::Udp ? SOCK_DGRAM : SOCK_STREAM;
  if (type != want_type)
    return util::unexpected(what + "is a " +
                            (type == SOCK_STREAM  ? std::string("stream")
                             : type == SOCK_DGRAM ? std::string("datagram")
                                                  : "type " + std::to_string(type)) +
                            " socket, expected a " +
                            (expected == Protocol::Udp ? "datagram (UDP)" : "stream (TCP)") +
                            " socket");
  net::SockAddr local;
  socklen_t alen = sizeof local.storage;
  if (::getsockname(fd, local.get(), &alen) != 0)
    return util::unexpected(what + "getsockname: " + std::strerror(errno));
  if (local.storage.ss_family != AF_INET && local.storage.ss_family != AF_INET6)
    return util::unexpected(what + "not an IPv4 or IPv6 socket (address family " +
                            std::to_string(local.storage.ss_family) + ")");
  int protocol = 0;
  len = sizeof protocol;
  const int want_protocol = expected == Protocol::Udp ? IPPROTO_UDP : IPPROTO_TCP;
  // SO_PROTOCOL tells UDP from e.g. SCTP or UDP-Lite on a socket of the same type.
  if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 && protocol != want_protocol)
    return util::unexpected(what + "protocol " + std::to_string(protocol) + " is not " +
                            (expected == Protocol::Udp ? "UDP" : "TCP"));
  auto ep = net::from_sockaddr(local.get(), alen);
  if (!ep) return util::unexpected(what + "unreadable local address");
  if (ep->port == 0) return util::unexpected(what + "not bound to a port");
  if (expected == Protocol::Tcp) {
    int listening = 0;
    len = sizeof listening;
    // A connected or merely bound stream socket is not a listener; listen() on the first
    // would fail, on the second it would serve, but then systemd did not set it up.
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && !listening)
      return util::unexpected(what + "bound to " + ep->to_string() + " but not listening");
  }
  return *ep;
}

}  // namespace tern::server
