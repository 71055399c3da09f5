#include "server/pipeline.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include <spdlog/spdlog.h>

#include "dns/wire_reader.hpp"
#include "util/random.hpp"

namespace tern::server {

namespace {

using dns::RCode;
using dns::RRClass;
using dns::RRType;

// Budgets.
// A TCP client may send 64 KiB, but a reply always fits kMaxMessage.
inline constexpr uint16_t kTcpLimit = 65535;
// Clients waiting on one resolution: a flood of one name must not grow a list without end.
inline constexpr size_t kMaxWaitersPerResolution = 4096;
// The key suffix after the qname: qtype, qclass, key flags.
inline constexpr size_t kKeySuffix = 5;

bool is_chaos_name(const dns::Name& qname, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto candidate = dns::Name::from_text(n);
    if (candidate && *candidate == qname) return true;
  }
  return false;
}

}  // namespace

Pipeline::Pipeline(PipelineOptions opts, cache::MessageCache& cache, resolver::Resolver& resolver,
                   Scheduler& scheduler, const util::Clock& clock)
    : opts_(std::move(opts)),
      cache_(cache),
      resolver_(&resolver),
      scheduler_(scheduler),
      clock_(clock),
      alive_(std::make_shared<Pipeline*>(this)),
      limiter_(opts_.rate_limit,
               (uint64_t{util::SystemRandom::instance().next_u32()} << 32) |
                   util::SystemRandom::instance().next_u32(),
               (uint64_t{util::SystemRandom::instance().next_u32()} << 32) |
                   util::SystemRandom::instance().next_u32()),
      reply_buf_(std::make_unique<std::array<uint8_t, kReplyBufferSize>>()) {}

Pipeline::~Pipeline() {
  for (auto& [key, p] : pending_)
    if (p.timer) scheduler_.cancel(p.timer);
}

void Pipeline::set_options(PipelineOptions opts) {
  opts_ = std::move(opts);
  limiter_.set_limit(opts_.rate_limit);
}

void Pipeline::set_resolver(resolver::Resolver& resolver) { resolver_ = &resolver; }

void Pipeline::forget_sink(const ReplySink* sink) {
  for (auto& [key, p] : pending_)
    waiting_ -= std::erase_if(p.waiters, [sink](const Waiter& w) { return w.client.sink == sink; });
}

void Pipeline::send(const ClientRef& client, size_t size, AnswerSource source) {
  if (size == 0 || !client.sink) return;
  ++sent_;
  if (metrics_ || opts_.log_queries) count(client, size, source, cur_qtype_, cur_start_);
  client.sink->send_reply(client, {reply_buf_->data(), size});
}

void Pipeline::send_waiter(const Waiter& w, size_t size, AnswerSource source) {
  if (size == 0 || !w.client.sink) return;
  ++sent_;
  if (metrics_ || opts_.log_queries)
    count(w.client, size, source, dns::to_u16(w.question.qtype), w.start);
  w.client.sink->send_reply(w.client, {reply_buf_->data(), size});
}

void Pipeline::count(const ClientRef& client, size_t size, AnswerSource source, uint16_t qtype,
                     std::chrono::steady_clock::time_point start) {
  const uint8_t* m = reply_buf_->data();
  uint16_t rcode = m[3] & 0xF;
  // Our OPT, when there is one, is always the last record: its TTL field's top octet holds
  // the upper bits of an extended RCODE (BADVERS).
  if (size >= dns::kHeaderSize + kOptSize && dns::load_u16(m + 10) > 0 && m[size - 11] == 0 &&
      dns::load_u16(m + size - 10) == dns::to_u16(RRType::OPT))
    rcode = static_cast<uint16_t>(rcode | (m[size - 6] << 4));
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (opts_.log_queries)  // logging.queries: the operator asked for a line per query
    spdlog::info("[query] {}", query_log_line(client.peer, {m, size}, source,
                                              static_cast<uint64_t>(us.count())));
  if (!metrics_) return;
  metrics_->query_answered(client.protocol == Protocol::Tcp ? Transport::Tcp : Transport::Udp,
                           qtype, rcode, source, static_cast<uint64_t>(us.count()));
}

Disposition Pipeline::handle(std::span<const uint8_t> query, const ClientRef& client) {
  uint64_t sent_before = sent_;
  deferred_ = false;
  cur_qtype_ = 0;
  if (metrics_ || opts_.log_queries) cur_start_ = std::chrono::steady_clock::now();
  handle_query(query, client);
  if (sent_ != sent_before) return Disposition::Replied;
  if (deferred_) return Disposition::Deferred;
  if (metrics_)
    metrics_->query_dropped(client.protocol == Protocol::Tcp ? Transport::Tcp : Transport::Udp);
  return Disposition::Dropped;
}

void Pipeline::handle_query(std::span<const uint8_t> query, const ClientRef& client) {
  ++stats_.queries;
  if (query.size() < dns::kHeaderSize) {
    ++stats_.dropped;
    return;
  }
  net::AclAction action = opts_.acl.decide(client.peer.address);
  if (action == net::AclAction::Deny) {
    ++stats_.dropped;
    return;
  }
  auto parsed = dns::parse_request(query);
  if (!parsed) return handle_parse_error(query, client, parsed.error());
  const dns::RequestView& v = *parsed;
  cur_qtype_ = dns::to_u16(v.qtype);

  Query q{};
  q.view = &v;
  q.client = &client;
  q.echo = {v.header.id, v.header.opcode, v.header.rd, v.header.cd};
  q.opt = {opts_.udp_payload_size, v.edns.dnssec_ok};
  if (client.protocol == Protocol::Tcp) {
    q.limit = kTcpLimit;
  } else if (v.edns.present) {
    q.limit = std::max<uint16_t>(dns::kMinUdpPayload,
                                 std::min(v.edns.udp_payload, opts_.udp_payload_size));
  } else {
    q.limit = dns::kMinUdpPayload;  // RFC 1035 §4.2.1
  }
  const OptReply* opt = v.edns.present ? &q.opt : nullptr;

  if (action == net::AclAction::Refuse) {
    ++stats_.refused;
    return send(client, write_error_reply(*reply_buf_, q.echo, v.question_wire, RCode::Refused, opt));
  }
  // After the ACL (outsiders are refused or dropped above, never charged), before any work.
  // TCP is never limited: its handshake proves the source address is not spoofed.
  if (client.protocol == Protocol::Udp && limiter_.enabled()) {
    RateVerdict verdict = limiter_.check(client.peer.address, clock_.mono_ms());
    if (verdict != RateVerdict::Pass) {
      ++stats_.rate_limited;
      if (verdict == RateVerdict::Drop) {
        ++stats_.rate_dropped;
        return;
      }
      // The slip: a reply no larger than the query, so a real client retries over TCP.
      ++stats_.rate_slipped;
      size_t size = write_error_reply(*reply_buf_, q.echo, v.question_wire, RCode::NoError, opt);
      auto& out = *reply_buf_;
      if (size >= dns::kHeaderSize) out[2] = static_cast<uint8_t>(out[2] | (dns::kFlagTC >> 8));
      return send(client, size);
    }
  }
  if (v.edns.present && v.edns.version > 0) {
    // RFC 6891 §6.1.3: BADVERS, with an OPT that says the version we do speak (0).
    ++stats_.badvers;
    return send(client, write_error_reply(*reply_buf_, q.echo, v.question_wire, RCode::BadVers, opt));
  }
  answer_query(q);
}

void Pipeline::handle_parse_error(std::span<const uint8_t> query, const ClientRef& client,
                                  dns::RequestError error) {
  dns::WireReader r(query);
  dns::Header h = dns::read_header(r);
  EchoFlags echo{h.id, h.opcode, h.rd, h.cd};
  RCode rcode = RCode::FormErr;
  switch (error) {
    case dns::RequestError::NoHeader:
    case dns::RequestError::NotAQuery:
      ++stats_.dropped;
      return;
    case dns::RequestError::OpcodeNotQuery:
      rcode = RCode::NotImp;
      ++stats_.notimp;
      break;
    default:
      ++stats_.formerr;
      break;
  }
  if (opts_.acl.decide(client.peer.address) == net::AclAction::Refuse) {
    // Outsiders learn nothing beyond REFUSED, whatever they sent.
    ++stats_.refused;
    rcode = RCode::Refused;
  }
  SPDLOG_TRACE("[server] {} from {}: {}", dns::rcode_to_text(rcode), client.peer.to_string(),
               dns::to_string(error));
  // Header only: the question (if any) is not trusted enough to echo, and an OPT we could not
  // parse is not answered with one (RFC 6891 §7).
  send(client, write_error_reply(*reply_buf_, echo, {}, rcode, nullptr));
}

void Pipeline::answer_query(Query& q) {
  const dns::RequestView& v = *q.view;
  if (answer_special(q)) return;

  // Cache key: lower-cased wire qname, qtype, qclass, DO/CD (DESIGN.md).
  auto wire = v.qname.wire();
  for (size_t i = 0; i < wire.size(); ++i) q.lower[i] = dns::ascii_lower(wire[i]);
  q.key.qname_lower = {q.lower.data(), wire.size()};
  q.key.qtype = dns::to_u16(v.qtype);
  q.key.qclass = dns::to_u16(v.qclass);
  q.key.flags = static_cast<uint8_t>((v.edns.dnssec_ok ? cache::kKeyDO : 0) |
                                     (v.header.cd ? cache::kKeyCD : 0));

  bool prefetch = false;
  if (try_cache(q, cache::StalePolicy::FreshOnly, &prefetch)) {
    ++stats_.cache_hits;
    if (prefetch && opts_.prefetch) start_resolution(q, key_of(q), /*prefetch=*/true);
    return;
  }
  ++stats_.cache_misses;
  std::string_view key = key_of(q);
  if (opts_.serve_stale && recently_failed(key) &&
      try_cache(q, cache::StalePolicy::AllowStale, nullptr))
    return;  // RFC 8767 §4: stale at once while the failure recheck runs
  start_resolution(q, key, /*prefetch=*/false);
}

bool Pipeline::answer_special(Query& q) {
  const dns::RequestView& v = *q.view;
  const OptReply* opt = v.edns.present ? &q.opt : nullptr;
  auto& out = *reply_buf_;
  if (v.qclass == RRClass::CH) {
    // CHAOS identity queries (RFC 4892 §2 for id.server); everything else in CH is refused.
    std::string_view text;
    bool known = false;
    if (v.qtype == RRType::TXT || v.qtype == RRType::ANY) {
      if (is_chaos_name(v.qname, {"version.bind.", "version.server."})) {
        known = true;
        text = opts_.chaos_version;
      } else if (is_chaos_name(v.qname, {"id.server.", "hostname.bind."})) {
        known = true;
        text = opts_.chaos_identity;
      }
    }
    if (known && !text.empty()) {
      send(*q.client, write_chaos_txt(out, q.echo, v.question_wire, text, opt));
    } else {
      ++stats_.refused;
      send(*q.client, write_error_reply(out, q.echo, v.question_wire, RCode::Refused, opt));
    }
    return true;
  }
  if (v.qclass != RRClass::IN) {
    // HS, NONE, ANY and private classes: nothing upstream serves them for us.
    ++stats_.refused;
    send(*q.client, write_error_reply(out, q.echo, v.question_wire, RCode::Refused, opt));
    return true;
  }
  if (v.qtype == RRType::ANY) {
    // RFC 8482 §4.2: a synthesized HINFO instead of everything we know about the name.
    send(*q.client, write_any_reply(out, q.echo, v.question_wire, opt));
    return true;
  }
  if (v.qtype == RRType::AXFR || v.qtype == RRType::IXFR) {
    // Zone transfers are for authoritative servers, not a resolver.
    ++stats_.refused;
    send(*q.client, write_error_reply(out, q.echo, v.question_wire, RCode::Refused, opt));
    return true;
  }
  if (dns::is_meta_type(v.qtype)) {
    // OPT, TSIG, TKEY, MAILA/B and the rest of 128-255 are not data to look up (RFC 6895 §3.1).
    ++stats_.formerr;
    send(*q.client, write_error_reply(out, q.echo, v.question_wire, RCode::FormErr, opt));
    return true;
  }
  return false;
}

bool Pipeline::try_cache(Query& q, cache::StalePolicy stale, bool* prefetch) {
  const dns::RequestView& v = *q.view;
  auto& out = *reply_buf_;
  cache::ReplyPatch patch{v.header.id, v.header.rd, v.header.cd, v.question_wire};
  auto hit = cache_.lookup(q.key, patch, stale, {out.data(), kMaxMessage});
  if (!hit || hit->size < dns::kHeaderSize) return false;
  size_t size = hit->size;
  out[3] = static_cast<uint8_t>(out[3] | (dns::kFlagRA & 0xFF));
  size_t with_opt = size + (v.edns.present ? kOptSize : 0);
  if (with_opt > q.limit) {
    ++stats_.truncated;
    size = truncate_to_question(out, size);
  }
  if (v.edns.present && size) size = append_opt(out, size, q.opt);
  bool stale_hit = hit->kind == cache::HitKind::Stale;
  if (stale_hit) ++stats_.stale_answers;
  if (prefetch) *prefetch = hit->kind == cache::HitKind::Prefetch;
  SPDLOG_TRACE("[server] cache hit {} {}", v.qname.to_text(), dns::type_to_text(v.qtype));
  send(*q.client, size, stale_hit ? AnswerSource::Stale : AnswerSource::Cache);
  return true;
}

cache::CacheKey Pipeline::key_view(const Key& key) {
  cache::CacheKey k;
  const auto* p = reinterpret_cast<const uint8_t*>(key.data());
  size_t n = key.size() - kKeySuffix;
  k.qname_lower = {p, n};
  k.qtype = dns::load_u16(p + n);
  k.qclass = dns::load_u16(p + n + 2);
  k.flags = p[n + 4];
  return k;
}

std::string_view Pipeline::key_of(Query& q) {
  // The key's bytes (lower-cased wire qname, qtype, qclass, flags) on the stack.
  static_assert(std::tuple_size_v<decltype(q.key_bytes)> == dns::kMaxNameWire + kKeySuffix);
  size_t n = q.key.qname_lower.size();
  std::memcpy(q.key_bytes.data(), q.key.qname_lower.data(), n);
  uint8_t suffix[kKeySuffix];
  dns::store_u16(suffix, q.key.qtype);
  dns::store_u16(suffix + 2, q.key.qclass);
  suffix[4] = q.key.flags;
  std::memcpy(q.key_bytes.data() + n, suffix, kKeySuffix);
  q.key_size = n + kKeySuffix;
  return {q.key_bytes.data(), q.key_size};
}

bool Pipeline::recently_failed(std::string_view key) {
  if (failed_until_.empty()) return false;
  auto it = failed_until_.find(key);
  if (it == failed_until_.end()) return false;
  if (clock_.mono_ms() < it->second) return true;
  failed_until_.erase(it);
  return false;
}

void Pipeline::remember_failure(const Key& key) {
  if (failed_until_.size() >= kMaxRecentlyFailed) {
    uint64_t now = clock_.mono_ms();
    std::erase_if(failed_until_, [now](const auto& e) { return e.second <= now; });
    if (failed_until_.size() >= kMaxRecentlyFailed) failed_until_.clear();
  }
  failed_until_[key] = clock_.mono_ms() + kFailureRecheckMs;
}

void Pipeline::start_resolution(Query& q, std::string_view key, bool prefetch) {
  const dns::RequestView& v = *q.view;
  auto it = pending_.find(key);
  if (prefetch) {
    if (it != pending_.end()) return;  // already being refreshed
  } else if (it != pending_.end()) {
    if (it->second.waiters.size() >= kMaxWaitersPerResolution) {
      ++stats_.servfail;
      return send(*q.client, write_error_reply(*reply_buf_, q.echo, v.question_wire,
                                               RCode::ServFail, v.edns.present ? &q.opt : nullptr));
    }
    if (waiting_ >= opts_.max_waiting_clients) return refuse_over_limit(q);
    ++stats_.coalesced;
    deferred_ = true;
    it->second.waiters.push_back(
        {*q.client, q.echo, {v.qname, v.qtype, v.qclass}, v.edns, q.limit, cur_start_});
    ++waiting_;
    return;
  }

  if (q.client->backlogged) {
    // The loop is behind its UDP clients: a new resolution would take the time that answers
    // from the cache need. Stale data is as cheap as a hit; without it, drop (a SERVFAIL
    // costs a send, and the client's retry comes when the queue may be short again).
    ++stats_.shed;
    if (prefetch) return;
    if (opts_.serve_stale && try_cache(q, cache::StalePolicy::AllowStale, nullptr)) return;
    ++stats_.shed_dropped;
    return;
  }
  if (pending_.size() >= opts_.max_concurrent ||
      (!prefetch && waiting_ >= opts_.max_waiting_clients)) {
    if (prefetch) {
      ++stats_.over_limit;
      return;
    }
    return refuse_over_limit(q);
  }

  Pending p;
  p.request.question = {v.qname, v.qtype, v.qclass};
  p.request.dnssec_ok = v.edns.dnssec_ok;
  p.request.checking_disabled = v.header.cd;
  if (prefetch) {
    ++stats_.prefetches;
    if (metrics_) metrics_->prefetch_started();
  } else {
    deferred_ = true;
    p.waiters.push_back(
        {*q.client, q.echo, {v.qname, v.qtype, v.qclass}, v.edns, q.limit, cur_start_});
    ++waiting_;
  }
  auto [pos, inserted] = pending_.emplace(Key(key), std::move(p));
  begin(pos->first, pos->second);
}

void Pipeline::refuse_over_limit(Query& q) {
  const dns::RequestView& v = *q.view;
  ++stats_.over_limit;
  if (opts_.serve_stale && try_cache(q, cache::StalePolicy::AllowStale, nullptr)) return;
  ++stats_.servfail;
  send(*q.client, write_error_reply(*reply_buf_, q.echo, v.question_wire, RCode::ServFail,
                                    v.edns.present ? &q.opt : nullptr));
}

void Pipeline::begin(const Key& key, Pending& pending) {
  std::weak_ptr<Pipeline*> alive = alive_;
  if (opts_.serve_stale && !pending.waiters.empty()) {
    pending.timer = scheduler_.after(opts_.client_timeout_ms, [alive, key]() {
      if (auto self = alive.lock()) (*self)->on_client_timeout(key);
    });
  }
  ++stats_.resolutions;
  SPDLOG_TRACE("[server] => resolve {} {}", pending.request.question.qname.to_text(),
               dns::type_to_text(pending.request.question.qtype));
  // The resolver never completes from inside resolve(), so `pending` stays valid here.
  resolver_->resolve(pending.request, [alive, key](resolver::Outcome outcome) {
    if (auto self = alive.lock()) (*self)->on_complete(key, std::move(outcome));
  });
}

void Pipeline::on_client_timeout(const Key& key) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  it->second.timer = 0;
  // RFC 8767 §5: past the client timeout, answer from stale data and keep resolving; the
  // completion will refresh the cache. Clients with no stale data keep waiting.
  waiting_ -= std::erase_if(it->second.waiters,
                            [&](const Waiter& w) { return answer_waiter_stale(key, w); });
}

void Pipeline::on_complete(const Key& key, resolver::Outcome outcome) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  waiting_ -= p.waiters.size();
  if (p.timer) scheduler_.cancel(p.timer);

  if (outcome.status == resolver::Status::Answer && outcome.response) {
    failed_until_.erase(key);
    cache_.insert(key_view(key), *outcome.response);
    for (const Waiter& w : p.waiters) answer_waiter_from_message(w, *outcome.response);
    return;
  }
  if (outcome.status == resolver::Status::Refused) {
    for (const Waiter& w : p.waiters) answer_waiter_error(w, RCode::Refused);
    return;
  }
  if (spdlog::should_log(spdlog::level::debug))
    spdlog::debug("[server] resolution failed: {} {}", p.request.question.qname.to_text(),
                  dns::type_to_text(p.request.question.qtype));
  if (opts_.serve_stale) remember_failure(key);
  for (const Waiter& w : p.waiters) {
    if (!answer_waiter_stale(key, w)) answer_waiter_error(w, RCode::ServFail);
  }
}

bool Pipeline::answer_waiter_stale(const Key& key, const Waiter& w) {
  if (!opts_.serve_stale) return false;
  auto& out = *reply_buf_;
  // The waiter's question, re-encoded exactly as it arrived (case kept).
  std::array<uint8_t, dns::kMaxNameWire + 4> qwire;
  auto name = w.question.qname.wire();
  std::memcpy(qwire.data(), name.data(), name.size());
  dns::store_u16(qwire.data() + name.size(), dns::to_u16(w.question.qtype));
  dns::store_u16(qwire.data() + name.size() + 2, dns::to_u16(w.question.qclass));
  cache::ReplyPatch patch{w.echo.id, w.echo.rd, w.echo.cd, {qwire.data(), name.size() + 4}};
  auto hit = cache_.lookup(key_view(key), patch, cache::StalePolicy::AllowStale,
                           {out.data(), kMaxMessage});
  if (!hit || hit->size < dns::kHeaderSize) return false;
  size_t size = hit->size;
  out[3] = static_cast<uint8_t>(out[3] | (dns::kFlagRA & 0xFF));
  if (size + (w.edns.present ? kOptSize : 0) > w.limit) {
    ++stats_.truncated;
    size = truncate_to_question(out, size);
  }
  if (w.edns.present && size)
    size = append_opt(out, size, {opts_.udp_payload_size, w.edns.dnssec_ok});
  bool stale_hit = hit->kind == cache::HitKind::Stale;
  if (stale_hit) ++stats_.stale_answers;
  send_waiter(w, size, stale_hit ? AnswerSource::Stale : AnswerSource::Cache);
  return true;
}

void Pipeline::answer_waiter_error(const Waiter& w, RCode rcode) {
  std::array<uint8_t, dns::kMaxNameWire + 4> qwire;
  auto name = w.question.qname.wire();
  std::memcpy(qwire.data(), name.data(), name.size());
  dns::store_u16(qwire.data() + name.size(), dns::to_u16(w.question.qtype));
  dns::store_u16(qwire.data() + name.size() + 2, dns::to_u16(w.question.qclass));
  OptReply opt{opts_.udp_payload_size, w.edns.dnssec_ok};
  if (rcode == RCode::ServFail) ++stats_.servfail;
  if (rcode == RCode::Refused) ++stats_.refused;
  send_waiter(w,
              write_error_reply(*reply_buf_, w.echo, {qwire.data(), name.size() + 4}, rcode,
                                w.edns.present ? &opt : nullptr),
              AnswerSource::Resolved);
}

void Pipeline::answer_waiter_from_message(const Waiter& w, const dns::Message& response) {
  // The miss path may allocate: one Message copy per waiter, encoded with the waiter's ID,
  // flags and question, truncated at an RRset boundary to its limit (RFC 2181 §9).
  dns::Message m = response;
  m.header.id = w.echo.id;
  m.header.qr = true;
  m.header.opcode = dns::Opcode::Query;
  m.header.rd = w.echo.rd;
  m.header.cd = w.echo.cd;
  m.header.ra = true;
  m.header.aa = false;
  m.header.tc = false;
  RCode rcode = response.rcode();
  m.questions.assign(1, w.question);
  if (w.edns.present) {
    dns::Edns e;
    e.udp_payload = opts_.udp_payload_size;
    e.dnssec_ok = w.edns.dnssec_ok;
    m.edns = e;
  } else {
    m.edns.reset();
  }
  m.set_rcode(rcode);
  dns::BuildOptions bo;
  bo.max_size = w.limit;
  auto built = dns::build_message(m, {reply_buf_->data(), kMaxMessage}, bo);
  if (!built) {
    answer_waiter_error(w, RCode::ServFail);
    return;
  }
  if (built->truncated) ++stats_.truncated;
  send_waiter(w, built->size, AnswerSource::Resolved);
}

}  // namespace tern::server
