// Resolver: what the server asks when the cache cannot answer. Implementations: the forwarder
// (forward zones through c-ares, client/) and the iterator (recursion from the root hints).
// The server calls resolve() once per distinct (coalesced) miss and gets exactly one
// completion, always on the loop thread, never synchronously from inside resolve().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "dns/message.hpp"

namespace tern::resolver {

struct Request {
  dns::Question question;     // qname as the client asked it (case kept)
  bool dnssec_ok = false;     // client's DO bit
  bool checking_disabled = false;  // client's CD bit
};

enum class Status : uint8_t {
  Answer,    // response holds a final answer (NOERROR with data, NODATA, NXDOMAIN, ...)
  ServFail,  // resolution failed (all upstreams down, budget exceeded, bogus reply ...)
  Refused,   // policy refused it (e.g. a zone configured to refuse)
};

struct Outcome {
  Status status = Status::ServFail;
  // For Answer: the response as it should be cached and served (header rcode, AA clear, the
  // answer/authority/additional sections); the server sets ID, flags and question itself.
  std::optional<dns::Message> response;
};

using Completion = std::function<void(Outcome)>;

class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual void resolve(const Request& request, Completion done) = 0;
  // Stop all work; pending completions are called with ServFail before this returns.
  virtual void shutdown() = 0;
};

}  // namespace tern::resolver
