#include "server/bind_error.hpp"

#include <uv.h>

namespace tern::server {

std::string bind_error_message(const net::Endpoint& endpoint, int uv_error) {
  std::string where = "cannot bind " + endpoint.to_string() + ": ";
  switch (uv_error) {
    case UV_EACCES:
    case UV_EPERM:
      if (net::is_system_port(endpoint.port))
        return where +
               "permission denied — ports below 1024 need root or CAP_NET_BIND_SERVICE (or "
               "choose a port >= 1024 in server.listen)";
      return where + "permission denied";
    case UV_EADDRINUSE:
      return where +
             "address in use: another DNS server (systemd-resolved, dnsmasq?) is listening there";
    case UV_EADDRNOTAVAIL:
      return where + "address not available: no interface of this host has that address";
    default:
      return where + uv_strerror(uv_error);
  }
}

}  // namespace tern::server
