// The operator-facing message for a listener that could not bind, naming the endpoint, the
// cause and the fix (the two common ones: a system port without privilege, and another DNS
// server already on the address).
#pragma once

#include <string>

#include "net/endpoint.hpp"

namespace tern::server {

// uv_error is a libuv error code (negative errno), e.g. UV_EACCES.
std::string bind_error_message(const net::Endpoint& endpoint, int uv_error);

}  // namespace tern::server
