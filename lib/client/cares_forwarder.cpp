#include "client/cares_forwarder.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>
#include <utility>

#include "client/reply_check.hpp"
#include "client/udp_tcp_transport.hpp"  // kFirstSourcePort, kBindAttempts
#include "net/sockaddr.hpp"
#include "util/bug.hpp"

namespace tern::client {

using resolver::Outcome;
using resolver::Status;

struct CaresForwarder::Pending {
  uint64_t id = 0;
  resolver::Request request;
  resolver::Completion done;
  size_t zone = 0;            // index into policy_.zones()
  std::vector<size_t> order;  // upstream indexes, healthy ones first (UpstreamHealth)
  unsigned attempt = 0;       // upstream tries started
};

struct CaresForwarder::Attempt {
  CaresForwarder* owner = nullptr;
  Channel* channel = nullptr;  // valid only until the c-ares callback has run
  uint64_t request_id = 0;
  uint16_t id = 0;
  size_t upstream_index = 0;
  net::Endpoint upstream;
  int status = ARES_SUCCESS;
  std::vector<uint8_t> reply;
};

namespace {

// One uv_poll_t per c-ares socket. Freed in its close callback, which touches nothing else.
struct Poll {
  uv_poll_t handle{};
  ares_socket_t fd = ARES_SOCKET_BAD;
  CaresForwarder::Channel* channel = nullptr;
};

}  // namespace

struct CaresForwarder::Channel {
  CaresForwarder* owner = nullptr;
  ares_channel ares = nullptr;
  size_t zone = 0, upstream = 0;
  uint32_t sent = 0;          // queries given to this channel (its socket) so far
  uint32_t in_flight = 0;     // of those, not yet called back
  bool retired = false;       // takes no new queries; destroyed once in_flight is 0
  std::vector<uint16_t> ids;  // IDs in flight: c-ares matches replies by ID per channel
  std::unordered_map<ares_socket_t, Poll*> polls;
  UpstreamCounters* counters = nullptr;  // its upstream's, or nullptr
};

namespace {

void call_completion(resolver::Completion& done, Outcome outcome) noexcept {
  if (!done) return;
  try {
    done(std::move(outcome));
  } catch (const std::exception& e) {
    spdlog::error("[fwd] completion threw: {}", e.what());
  } catch (...) {
    spdlog::error("[fwd] completion threw");
  }
}

void on_poll(uv_poll_t* h, int status, int events) noexcept {
  auto* p = static_cast<Poll*>(h->data);
  CaresForwarder::Channel* c = p->channel;
  // On a poll error let c-ares try both directions: it then sees the socket's error itself.
  ares_socket_t r = (status < 0 || (events & UV_READABLE)) ? p->fd : ARES_SOCKET_BAD;
  ares_socket_t w = (status < 0 || (events & UV_WRITABLE)) ? p->fd : ARES_SOCKET_BAD;
  CaresForwarder* f = c->owner;
  ares_process_fd(c->ares, r, w);
  f->after_cares();  // may destroy c and close p: neither is touched below
}

void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
  auto* c = static_cast<CaresForwarder::Channel*>(data);
  auto it = c->polls.find(fd);
  if (readable || writable) {
    Poll* p = nullptr;
    if (it == c->polls.end()) {
      p = new (std::nothrow) Poll;
      if (p == nullptr) return;  // the query times out through the timer instead
      p->fd = fd;
      p->channel = c;
      p->handle.data = p;
      int rc = uv_poll_init_socket(c->owner->loop(), &p->handle, fd);
      if (rc != 0) {
        spdlog::error("[fwd] uv_poll_init_socket: {}", uv_strerror(rc));
        delete p;
        return;
      }
      try {
        c->polls.emplace(fd, p);
      } catch (...) {
        uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
                 [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
        return;
      }
    } else {
      p = it->second;
    }
    int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    int rc = uv_poll_start(&p->handle, events, on_poll);
    if (rc != 0) spdlog::error("[fwd] uv_poll_start: {}", uv_strerror(rc));
  } else if (it != c->polls.end()) {
    // c-ares is about to close fd: stop watching it before the number can be reused.
    Poll* p = it->second;
    c->polls.erase(it);
    uv_poll_stop(&p->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
             [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
  }
}

// Runs inside c-ares: only records the result. Everything that may call back into c-ares
// (next attempt, destroying the channel, the completion) happens after c-ares returned.
void on_ares_reply(void* arg, int status, int /*timeouts*/, unsigned char* abuf,
                   int alen) noexcept {
  auto* a = static_cast<CaresForwarder::Attempt*>(arg);
  CaresForwarder::Channel* c = a->channel;
  a->channel = nullptr;
  --c->in_flight;
  auto it = std::find(c->ids.begin(), c->ids.end(), a->id);
  if (it != c->ids.end()) c->ids.erase(it);
  a->status = status;
  if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
    try {
      a->reply.assign(abuf, abuf + alen);
    } catch (...) {
      a->status = ARES_ENOMEM;
    }
  }
  a->owner->on_attempt_done(a);
}

// c-ares's socket calls, ours so that each UDP socket is bound to a source port drawn from
// util::Random over 1024-65535 like NetTransport's, instead of the kernel's ephemeral range
// (32768-60999 by default): about 16 bits of port entropy instead of under 15 (RFC 5452
// §9.2). With socket functions set c-ares 1.18 applies no socket options itself, so the
// socket is made non-blocking and close-on-exec here.
ares_socket_t cares_socket(int domain, int type, int protocol, void* user) noexcept {
  int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ARES_SOCKET_BAD;
  CaresForwarder* f = static_cast<CaresForwarder::Channel*>(user)->owner;
  if (type == SOCK_DGRAM && (domain == AF_INET || domain == AF_INET6)) {
    net::Endpoint local{domain == AF_INET6 ? net::Address::v6({}) : net::Address(), 0};
    bool bound = false;
    for (unsigned i = 0; i < kBindAttempts && !bound; ++i) {
      local.port = f->random_port();
      net::SockAddr sa = net::to_sockaddr(local);
      if (::bind(fd, sa.get(), sa.length) == 0)
        bound = true;
      else if (errno != EADDRINUSE && errno != EACCES)
        break;
    }
    // Not bound: connect() gives it a kernel-chosen ephemeral port, still random on Linux.
  } else if (type == SOCK_STREAM) {
    int one = 1;  // a query is one small write: do not wait for more (Nagle)
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int cares_close(ares_socket_t fd, void*) noexcept {
  return ::close(fd);
}

int cares_connect(ares_socket_t fd, const sockaddr* addr, ares_socklen_t len, void*) noexcept {
  return ::connect(fd, addr, len);
}

ares_ssize_t cares_recvfrom(ares_socket_t fd, void* buf, size_t len, int flags, sockaddr* from,
                            ares_socklen_t* from_len, void* user) noexcept {
  ares_ssize_t n = ::recvfrom(fd, buf, len, flags, from, from_len);
  // c-ares 1.18 passes an address buffer only for UDP reads; its TCP reads (length prefix,
  // then the rest) have no message boundary to look at here.
  if (n > 0 && from != nullptr) {
    auto* c = static_cast<CaresForwarder::Channel*>(user);
    c->owner->on_datagram(*c, static_cast<const uint8_t*>(buf), static_cast<size_t>(n));
  }
  return n;
}

ares_ssize_t cares_sendv(ares_socket_t fd, const iovec* iov, int count, void*) noexcept {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<size_t>(count);
  return ::sendmsg(fd, &m, MSG_NOSIGNAL);  // a reset TCP upstream must not raise SIGPIPE
}

const ares_socket_functions kSocketFunctions = {cares_socket, cares_close, cares_connect,
                                                cares_recvfrom, cares_sendv};

uint64_t timeout_ms(const timeval& tv) {
  uint64_t sec = tv.tv_sec > 0 ? static_cast<uint64_t>(tv.tv_sec) : 0u;
  uint64_t usec = tv.tv_usec > 0 ? static_cast<uint64_t>(tv.tv_usec) : 0u;
  return sec * 1000u + (usec + 999u) / 1000u;  // round up: early wake-ups would spin
}

void close_timer(uv_timer_t* t) {
  uv_close(reinterpret_cast<uv_handle_t*>(t),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

}  // namespace

CaresForwarder::CaresForwarder(uv_loop_t* loop, resolver::ForwardPolicy policy,
                               util::Random& random, ForwarderOptions options)
    : loop_(loop), policy_(std::move(policy)), random_(random), options_(options) {
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS)
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(library));
  if (options_.rounds == 0) options_.rounds = 1;
  if (options_.queries_per_socket == 0) options_.queries_per_socket = 1;
  active_.resize(policy_.zones().size());
  for (size_t z = 0; z < policy_.zones().size(); ++z) {
    active_[z].assign(policy_.zones()[z].upstreams.size(), nullptr);
    health_.emplace_back(policy_.zones()[z].upstreams.size());
    UpstreamCounterCache cache(options_.observer);  // one lookup per configured upstream
    counters_.emplace_back();
    for (const net::Endpoint& ep : policy_.zones()[z].upstreams) counters_.back().push_back(cache.get(ep));
  }
  timer_ = new uv_timer_t;
  kick_ = new uv_timer_t;
  if (uv_timer_init(loop_, timer_) != 0 || uv_timer_init(loop_, kick_) != 0)
    TERN_BUG("uv_timer_init failed");  // it only initialises a struct
  timer_->data = this;
  kick_->data = this;
}

CaresForwarder::~CaresForwarder() {
  shutdown();
  // Completions deferred by resolve() calls after shutdown() still run exactly once.
  auto deferred = std::exchange(deferred_, {});
  for (auto& [done, outcome] : deferred) call_completion(done, std::move(outcome));
  if (kick_) close_timer(kick_);
  kick_ = nullptr;
}

uv_loop_t* CaresForwarder::loop() const {
  return loop_;
}

void CaresForwarder::on_datagram(const Channel& c, const uint8_t* data, size_t len) noexcept {
  if (c.counters == nullptr) return;
  // c-ares drops a datagram shorter than a header, or whose ID has no query in flight on this
  // socket, without a word: count those here. (The socket is connected: the kernel already
  // dropped datagrams from any other address.)
  if (len < 12) {
    ++c.counters->errors;
    return;
  }
  const uint16_t id = static_cast<uint16_t>((uint16_t{data[0]} << 8) | data[1]);
  if (std::find(c.ids.begin(), c.ids.end(), id) == c.ids.end()) ++c.counters->spoof_attempts;
}

uint16_t CaresForwarder::random_port() {
  return static_cast<uint16_t>(kFirstSourcePort + random_.uniform(65536u - kFirstSourcePort));
}

void CaresForwarder::resolve(const resolver::Request& request, resolver::Completion done) {
  ++stats_.requests;
  if (shut_down_) return later(std::move(done), Outcome{});
  const resolver::ForwardZone* zone = policy_.match(request.question.qname);
  if (zone == nullptr) {
    ++stats_.no_zone;
    return later(std::move(done), Outcome{});
  }
  if (requests_.size() >= options_.max_outstanding) {
    ++stats_.overloaded;
    return later(std::move(done), Outcome{});
  }
  auto p = std::make_unique<Pending>();
  p->id = next_request_++;
  p->request = request;
  p->done = std::move(done);
  p->zone = static_cast<size_t>(zone - policy_.zones().data());
  p->order = health_[p->zone].order(uv_now(loop_));
  Pending& ref = *p;
  requests_.emplace(ref.id, std::move(p));
  in_resolve_ = true;
  Channel* c = start_attempt(ref);
  in_resolve_ = false;
  // c-ares's timeout for the new query must be on our timer (inside drain() the timer is
  // re-armed when drain() ends). Only this channel's timeout can be new: no full rescan.
  if (!draining_ && c != nullptr) {
    timeval tv{};
    if (ares_timeout(c->ares, nullptr, &tv) != nullptr) {
      uint64_t ms = timeout_ms(tv);
      if (!uv_is_active(reinterpret_cast<uv_handle_t*>(timer_)) || ms < uv_timer_get_due_in(timer_))
        uv_timer_start(timer_, on_timer, ms, 0);
    }
  }
}

CaresForwarder::Channel* CaresForwarder::channel_for(size_t zone, size_t upstream) {
  Channel*& slot = active_[zone][upstream];
  if (slot != nullptr && slot->sent >= options_.queries_per_socket) {
    slot->retired = true;  // reaped by drain() once its queries are done
    slot = nullptr;
  }
  if (slot == nullptr) slot = open_channel(zone, upstream);
  return slot;
}

CaresForwarder::Channel* CaresForwarder::open_channel(size_t zone, size_t upstream) {
  const net::Endpoint& ep = policy_.zones()[zone].upstreams[upstream];
  auto c = std::make_unique<Channel>();
  c->owner = this;
  c->zone = zone;
  c->upstream = upstream;

  // Every option that c-ares 1.18 would otherwise take from /etc/resolv.conf is given here:
  // with all of them set, init_by_resolv_conf() has nothing to fill and never reads the file
  // (verified with strace), and the server list starts empty until ours is set below.
  ares_options o{};
  int mask = 0;
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
  mask |= ARES_OPT_FLAGS;
  o.timeout = static_cast<int>(
      std::min<uint32_t>(options_.attempt_timeout_ms, std::numeric_limits<int>::max()));
  mask |= ARES_OPT_TIMEOUTMS;
  o.tries = 1;  // retries and failover are ours (start_attempt)
  mask |= ARES_OPT_TRIES;
  o.ndots = 1;
  mask |= ARES_OPT_NDOTS;
  o.servers = nullptr;
  o.nservers = 0;
  mask |= ARES_OPT_SERVERS;
  o.domains = nullptr;
  o.ndomains = 0;
  mask |= ARES_OPT_DOMAINS;
  char lookups[] = "b";  // DNS only, never /etc/hosts (ares_send ignores it anyway)
  o.lookups = lookups;
  mask |= ARES_OPT_LOOKUPS;
  o.sortlist = nullptr;
  o.nsort = 0;
  mask |= ARES_OPT_SORTLIST;
  // ARES_FLAG_EDNS + EDNSPSZ: the largest UDP reply c-ares accepts before it treats the
  // reply as truncated and retries over TCP; it matches the payload our OPT announces.
  o.ednspsz = options_.edns_payload;
  mask |= ARES_OPT_EDNSPSZ;
  mask |= ARES_OPT_NOROTATE;
  o.sock_state_cb = on_sock_state;
  o.sock_state_cb_data = c.get();
  mask |= ARES_OPT_SOCK_STATE_CB;

  int rc = ares_init_options(&c->ares, &o, mask);
  if (rc != ARES_SUCCESS) {
    spdlog::error("[fwd] ares_init_options: {}", ares_strerror(rc));
    return nullptr;
  }
  ares_set_socket_functions(c->ares, &kSocketFunctions, c.get());
  c->counters = counters_[zone][upstream];
  ares_addr_port_node node{};
  node.next = nullptr;
  if (ep.address.is_v4()) {
    node.family = AF_INET;
    std::memcpy(&node.addr.addr4, ep.address.bytes().data(), 4);
  } else {
    node.family = AF_INET6;
    std::memcpy(&node.addr.addr6, ep.address.bytes().data(), 16);
  }
  node.udp_port = ep.port;
  node.tcp_port = ep.port;
  rc = ares_set_servers_ports(c->ares, &node);
  if (rc != ARES_SUCCESS) {
    spdlog::error("[fwd] ares_set_servers_ports {}: {}", ep.to_string(), ares_strerror(rc));
    ares_destroy(c->ares);
    return nullptr;
  }
  ++stats_.channels_opened;
  channels_.push_back(std::move(c));
  return channels_.back().get();
}

CaresForwarder::Channel* CaresForwarder::start_attempt(Pending& p) {
  const resolver::ForwardZone& zone = policy_.zones()[p.zone];
  const size_t n = zone.upstreams.size();
  while (p.attempt < options_.rounds * n) {
    const size_t u = p.order[p.attempt % n];
    ++p.attempt;
    Channel* c = channel_for(p.zone, u);
    if (c == nullptr) {
      ++stats_.upstream_errors;
      continue;
    }
    // RFC 5452 §9.1: an unpredictable ID; unique among the channel's queries in flight
    // because c-ares finds the query for a reply by its ID.
    uint16_t id = 0;
    do {
      id = random_.next_u16();
    } while (std::find(c->ids.begin(), c->ids.end(), id) != c->ids.end());
    QueryFlags flags;
    flags.recursion_desired = true;
    flags.checking_disabled = p.request.checking_disabled;
    flags.edns = true;
    flags.edns_payload = options_.edns_payload;
    flags.dnssec_ok = p.request.dnssec_ok;
    std::vector<uint8_t> wire = encode_query(id, p.request.question, flags);
    if (wire.empty()) break;
    auto* a = new Attempt;
    a->owner = this;
    a->channel = c;
    a->request_id = p.id;
    a->id = id;
    a->upstream_index = u;
    a->upstream = zone.upstreams[u];
    c->ids.push_back(id);
    ++c->in_flight;
    ++c->sent;
    ++stats_.attempts;
    if (c->counters) ++c->counters->queries;
    if (spdlog::should_log(spdlog::level::debug))
      spdlog::debug("[fwd] => {} {} {} id {}", a->upstream.to_string(),
                    p.request.question.qname.to_text(), dns::type_to_text(p.request.question.qtype),
                    id);
    // May call on_ares_reply before it returns (e.g. the socket cannot be opened): that only
    // records the result.
    ares_send(c->ares, wire.data(), static_cast<int>(wire.size()), on_ares_reply, a);
    return c;
  }
  complete(p.id, Outcome{Status::ServFail, std::nullopt});
  return nullptr;
}

void CaresForwarder::on_attempt_done(Attempt* a) noexcept {
  try {
    ready_.push_back(a);
  } catch (...) {
    TERN_BUG("out of memory recording a c-ares result");
  }
  if (!draining_ && kick_ != nullptr) uv_timer_start(kick_, on_kick, 0, 0);
}

void CaresForwarder::handle(std::unique_ptr<Attempt> a) {
  auto it = requests_.find(a->request_id);
  if (it == requests_.end()) return;
  Pending& p = *it->second;
  UpstreamHealth& health = health_[p.zone];
  const char* why = nullptr;
  switch (a->status) {
    case ARES_SUCCESS: {
      health.on_success(a->upstream_index);  // it answered: alive, whatever we think of it
      ReplyCheck check = check_reply(a->reply, a->id, p.request.question);
      if (check.verdict != ReplyVerdict::Accepted) {
        ++stats_.rejected_replies;
        if (UpstreamCounters* uc = counters_[p.zone][a->upstream_index]) {
          if (check.verdict == ReplyVerdict::Malformed)
            ++uc->errors;
          else
            ++uc->spoof_attempts;
        }
        why = check.verdict == ReplyVerdict::Malformed ? "malformed reply" : "reply not ours";
        break;
      }
      dns::Message& m = *check.message;
      const dns::RCode rcode = m.rcode();
      if (rcode != dns::RCode::NoError && rcode != dns::RCode::NxDomain &&
          rcode != dns::RCode::YXDomain) {
        ++stats_.upstream_errors;  // FORMERR and the like: another upstream may do better
        why = "unusable rcode";
        break;
      }
      if (m.header.tc) {  // c-ares retries TC over TCP; TC on TCP is a broken upstream
        ++stats_.rejected_replies;
        why = "truncated over TCP";
        break;
      }
      if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("[fwd] <= {} {} {} {}", a->upstream.to_string(),
                      p.request.question.qname.to_text(),
                      dns::type_to_text(p.request.question.qtype), dns::rcode_to_text(rcode));
      // We are not authoritative for it (RFC 1035 §4.1.1); the OPT is the upstream's hop
      // (its payload size, options): the server writes its own for the client.
      m.header.aa = false;
      m.edns.reset();
      complete(p.id, Outcome{Status::Answer, std::move(m)});
      return;
    }
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return;  // shutdown() completes the request
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
      if (a->status == ARES_ETIMEOUT)
        ++stats_.upstream_timeouts;
      else
        ++stats_.upstream_errors;
      if (UpstreamCounters* uc = counters_[p.zone][a->upstream_index])
        ++(a->status == ARES_ETIMEOUT ? uc->timeouts : uc->errors);
      health.on_failure(a->upstream_index, uv_now(loop_));
      why = a->status == ARES_ETIMEOUT ? "timeout" : "connection refused";
      break;
    case ARES_ESERVFAIL:
    case ARES_EREFUSED:
    case ARES_ENOTIMP:
      health.on_success(a->upstream_index);  // an rcode is a reply: the upstream is up
      ++stats_.upstream_errors;
      why = ares_strerror(a->status);
      break;
    default:  // EBADRESP, ENOMEM, ...
      ++stats_.upstream_errors;
      if (UpstreamCounters* uc = counters_[p.zone][a->upstream_index]) ++uc->errors;
      why = ares_strerror(a->status);
      break;
  }
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[fwd] <= {} {} {}: {}, next upstream", a->upstream.to_string(),
                  p.request.question.qname.to_text(), dns::type_to_text(p.request.question.qtype),
                  why);
  start_attempt(p);
}

void CaresForwarder::complete(uint64_t request_id, Outcome outcome) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  resolver::Completion done = std::move(it->second->done);
  requests_.erase(it);
  if (outcome.status == Status::Answer)
    ++stats_.answers;
  else
    ++stats_.servfails;
  if (draining_ && !in_resolve_)
    call_completion(done, std::move(outcome));
  else
    later(std::move(done), std::move(outcome));
}

void CaresForwarder::later(resolver::Completion done, Outcome outcome) {
  deferred_.emplace_back(std::move(done), std::move(outcome));
  if (kick_ != nullptr) uv_timer_start(kick_, on_kick, 0, 0);
}

void CaresForwarder::after_cares() noexcept {
  drain();
}

void CaresForwarder::drain() {
  if (draining_) return;
  draining_ = true;
  // A completion may call resolve() (whose early failures land in deferred_) or shutdown()
  // (which empties ready_ and requests_): loop until both queues are quiet.
  while (!ready_.empty() || !deferred_.empty()) {
    auto batch = std::exchange(ready_, {});
    for (Attempt* raw : batch) {
      std::unique_ptr<Attempt> a(raw);
      if (!shut_down_) handle(std::move(a));
    }
    auto deferred = std::exchange(deferred_, {});
    for (auto& [done, outcome] : deferred) call_completion(done, std::move(outcome));
  }
  draining_ = false;
  if (!shut_down_) {
    reap_channels();
    rearm_timer();
  }
}

void CaresForwarder::reap_channels() {
  auto dead = std::partition(channels_.begin(), channels_.end(),
                             [](const auto& c) { return !(c->retired && c->in_flight == 0); });
  for (auto it = dead; it != channels_.end(); ++it) ares_destroy((*it)->ares);  // closes polls
  channels_.erase(dead, channels_.end());
}

void CaresForwarder::rearm_timer() {
  uint64_t best = std::numeric_limits<uint64_t>::max();
  for (const auto& c : channels_) {
    if (c->in_flight == 0) continue;
    timeval tv{};
    if (ares_timeout(c->ares, nullptr, &tv) != nullptr) best = std::min(best, timeout_ms(tv));
  }
  if (best == std::numeric_limits<uint64_t>::max())
    uv_timer_stop(timer_);
  else
    uv_timer_start(timer_, on_timer, best, 0);
}

void CaresForwarder::on_timer(uv_timer_t* t) noexcept {
  auto* f = static_cast<CaresForwarder*>(t->data);
  // ares_process_fd with no socket only runs c-ares's timeout processing.
  for (const auto& c : f->channels_)
    if (c->in_flight > 0) ares_process_fd(c->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  f->drain();
}

void CaresForwarder::on_kick(uv_timer_t* t) noexcept {
  static_cast<CaresForwarder*>(t->data)->drain();
}

void CaresForwarder::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // ares_destroy calls every pending query back with ARES_EDESTRUCTION (recorded in ready_,
  // dropped below) and closes the sockets (their polls close through on_sock_state).
  for (auto& c : channels_) ares_destroy(c->ares);
  channels_.clear();
  active_.clear();
  for (Attempt* a : ready_) delete a;
  ready_.clear();
  if (timer_ != nullptr) close_timer(timer_);
  timer_ = nullptr;
  auto requests = std::exchange(requests_, {});
  auto deferred = std::exchange(deferred_, {});
  for (auto& [id, p] : requests) {
    ++stats_.servfails;
    call_completion(p->done, Outcome{Status::ServFail, std::nullopt});
  }
  for (auto& [done, outcome] : deferred) call_completion(done, std::move(outcome));
}

std::vector<net::Endpoint> CaresForwarder::cares_servers() const {
  std::vector<net::Endpoint> out;
  for (const auto& c : channels_) {
    ares_addr_port_node* servers = nullptr;
    if (ares_get_servers_ports(c->ares, &servers) != ARES_SUCCESS) continue;
    for (auto* s = servers; s != nullptr; s = s->next) {
      net::Endpoint e;
      if (s->family == AF_INET) {
        uint8_t b[4];
        std::memcpy(b, &s->addr.addr4, 4);
        e.address = net::Address::v4(b[0], b[1], b[2], b[3]);
      } else {
        std::array<uint8_t, 16> b{};
        std::memcpy(b.data(), &s->addr.addr6, 16);
        e.address = net::Address::v6(b);
      }
      e.port = static_cast<net::Port>(s->udp_port);
      out.push_back(e);
    }
    ares_free_data(servers);
  }
  return out;
}

}  // namespace tern::client
