#include "net/sockaddr.hpp"

#include <cstddef>
#include <cstring>

namespace tern::net {

SockAddr to_sockaddr(const Endpoint& e) {
  SockAddr out;
  if (e.address.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(e.port);
    std::memcpy(&sin.sin_addr, e.address.bytes().data(), 4);
    std::memcpy(&out.storage, &sin, sizeof sin);
    out.length = sizeof sin;
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(e.port);
    std::memcpy(&sin6.sin6_addr, e.address.bytes().data(), 16);
    std::memcpy(&out.storage, &sin6, sizeof sin6);
    out.length = sizeof sin6;
  }
  return out;
}

std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t length) {
  if (sa == nullptr || length < static_cast<socklen_t>(sizeof(sa_family_t))) return std::nullopt;
  sa_family_t family;
  std::memcpy(&family, reinterpret_cast<const char*>(sa) + offsetof(sockaddr, sa_family),
              sizeof family);
  if (family == AF_INET) {
    if (length < static_cast<socklen_t>(sizeof(sockaddr_in))) return std::nullopt;
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    uint8_t b[4];
    std::memcpy(b, &sin.sin_addr, 4);
    return Endpoint{Address::v4(b[0], b[1], b[2], b[3]), ntohs(sin.sin_port)};
  }
  if (family == AF_INET6) {
    if (length < static_cast<socklen_t>(sizeof(sockaddr_in6))) return std::nullopt;
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), &sin6.sin6_addr, 16);
    return Endpoint{Address::v6(b), ntohs(sin6.sin6_port)};
  }
  return std::nullopt;
}

}  // namespace tern::net
