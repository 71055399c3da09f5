// SockAddr: the bridge between net::Endpoint and the BSD socket API, for the server and client
// modules' bind/connect/sendto/recvfrom. Conversions copy with memcpy (no casts of foreign
// buffers), and from_sockaddr checks the length the kernel reported before reading anything.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>

#include "net/endpoint.hpp"

namespace tern::net {

// A sockaddr_in or sockaddr_in6 ready for bind/connect/sendto, with its length.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

SockAddr to_sockaddr(const Endpoint& e);
// Reads an AF_INET/AF_INET6 address of at least the right length; anything else (another
// family, a short length) is nullopt. A sin6_scope_id is dropped: we do not carry zones.
std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t length);

}  // namespace tern::net
