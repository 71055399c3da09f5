// The client side of the control protocol (server/control_server.hpp): connect to the unix
// socket, send one JSON request line, read one JSON response line, with a deadline. Errors
// are worded for the operator at a shell, including what to do next.
#pragma once

#include <string>
#include <vector>

#include "server/control_json.hpp"
#include "util/expected.hpp"

namespace tern::ternctl {

enum class ClientErrc : uint8_t {
  NotRunning,        // no socket file, or nobody listening on it
  PermissionDenied,  // socket or its directory not accessible to this user
  ConnectFailed,     // anything else connect(2) said
  Timeout,           // no complete response before the deadline
  Disconnected,      // ternd closed the connection without a response
  BadResponse,       // a response line that is not the protocol's JSON
};

struct ClientError {
  ClientErrc code;
  std::string message;  // complete sentence for stderr
};

struct Response {
  bool ok = false;
  std::string error;           // when !ok
  server::JsonValue result;    // when ok
};

// Sends {"cmd":cmd,"args":args} and waits at most timeout_ms for the response line.
util::Expected<Response, ClientError> call(const std::string& socket_path, const std::string& cmd,
                                           const std::vector<std::string>& args,
                                           int timeout_ms);

}  // namespace tern::ternctl
