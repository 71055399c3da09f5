// Budgets of the iterator (DESIGN.md: every budget is a named constant with its why). A
// resolution that would exceed one stops with SERVFAIL: a hostile or broken zone can cost us a
// bounded amount of work and time, never a hang or a loop. Counted per client query (the
// top-level Resolution and every sub-resolution it starts share one Budget).
#pragma once

#include <cstdint>

namespace tern::resolver {

// Referrals followed per client query. A legitimate walk is root -> TLD -> a few levels, plus
// the same again for each CNAME hop and glueless NS lookup; 30 is Unbound's MAX_REFERRAL_COUNT
// order of magnitude and stops endless referral chains (zones that refer to themselves).
inline constexpr unsigned kMaxReferrals = 30;

// CNAME/DNAME hops per client query. Real chains (CDNs) are 2-4 long; 11 is what BIND, Unbound
// (MAX_RESTART_COUNT) and PowerDNS roughly allow, and it bounds a CNAME loop.
inline constexpr unsigned kMaxCnameChain = 11;

// NS names resolved because their referral came without glue, per client query. NXNSAttack
// (Afek et al., USENIX Security 2020) abuses referrals with many glueless NS names to make a
// resolver send hundreds of queries; the paper's MaxFetch(k) with small k is the defence.
// Each lookup asks A (and AAAA when IPv6 is on); kMaxUpstreamQueries caps the total anyway.
inline constexpr unsigned kMaxGluelessLookups = 6;

// Glueless NS lookups running at the same time for one zone: enough to find a working server
// quickly, few enough that one referral does not fan out (RFC 9156 and NXNSAttack advice).
inline constexpr unsigned kMaxParallelNsLookups = 2;

// Nesting of NS-address lookups (an NS name whose zone's NS names are glueless too...).
// Deeper nesting is almost always a misconfiguration or a dependency cycle.
inline constexpr unsigned kMaxNsLookupDepth = 3;

// Upstream queries per client query, all retries, TCP repeats and sub-resolutions included.
// A cold walk with QNAME minimisation of a 4-label name through 3 zones is ~10 queries; 50
// leaves room for a CNAME hop, glueless NS and a dead server or two while capping amplification.
inline constexpr unsigned kMaxUpstreamQueries = 50;

// Wall time per client query. Stub resolvers give up after ~5-10 s; working longer only holds
// memory. Checked before every send, and each query's timeout is clipped to what remains.
inline constexpr uint32_t kMaxResolutionTimeMs = 10000;

// NS names taken from one delegation. Real zones have 2-13; more only serves fan-out attacks.
inline constexpr unsigned kMaxNsPerDelegation = 13;

// RFC 9156 §2.3: at most 10 minimisation steps, the first 4 adding one label each, so a name
// with very many labels costs at most 10 extra queries.
inline constexpr unsigned kMaxMinimiseCount = 10;
inline constexpr unsigned kMinimiseOneLabel = 4;

// Lifetime bounds of infrastructure data (delegations, NS addresses): an hour-long cap limits
// how long a poisoned or stale delegation can live (Unbound's infra-host-ttl is 900 s);
// a floor of 5 s keeps TTL-0 delegations from causing a new walk per query.
inline constexpr uint32_t kMaxInfraTtl = 86400;
inline constexpr uint32_t kMinInfraTtl = 5;
// How long a failed NS-name lookup is remembered, so a broken NS name is not retried per query
// (RFC 9520 §3.2: cache resolution failures, at least 1 s, at most 5 minutes).
inline constexpr uint32_t kFailedNsLookupTtl = 30;
// How long the built-in/configured hints stand in for the root NS set when priming fails.
inline constexpr uint32_t kHintsFallbackTtl = 60;

}  // namespace tern::resolver
