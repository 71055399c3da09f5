// Dispatch from an RR type to its typed RDATA struct (rdata.hpp).
#include "dns/rdata.hpp"

namespace tern::dns::rdata {

using util::unexpected;

namespace {

// Calls fn with a value of the struct type that represents `type` (Unknown for the rest).
template <class Fn>
auto with_type(RRType type, Fn&& fn) {
  switch (type) {
    case RRType::A: return fn(A{});
    case RRType::AAAA: return fn(Aaaa{});
    case RRType::NS: return fn(Ns{});
    case RRType::CNAME: return fn(Cname{});
    case RRType::DNAME: return fn(Dname{});
    case RRType::PTR: return fn(Ptr{});
    case RRType::SOA: return fn(Soa{});
    case RRType::MX: return fn(Mx{});
    case RRType::TXT: return fn(Txt{});
    case RRType::SRV: return fn(Srv{});
    case RRType::CAA: return fn(Caa{});
    case RRType::DS:
    case RRType::CDS: return fn(Ds{});
    case RRType::DNSKEY:
    case RRType::CDNSKEY: return fn(Dnskey{});
    case RRType::RRSIG: return fn(Rrsig{});
    case RRType::NSEC: return fn(Nsec{});
    case RRType::NSEC3: return fn(Nsec3{});
    case RRType::NSEC3PARAM: return fn(Nsec3param{});
    case RRType::SVCB:
    case RRType::HTTPS: return fn(Svcb{});
    default: return fn(Unknown{});
  }
}

}  // namespace

Result<Rdata> decode(RRType type, std::span<const uint8_t> d) {
  return with_type(type, [&](auto tag) -> Result<Rdata> {
    using T = decltype(tag);
    auto v = T::decode(d);
    if (!v) return unexpected(v.error());
    return Rdata(std::move(*v));
  });
}

Bytes encode(const Rdata& r) {
  Bytes out;
  std::visit([&](const auto& v) { v.encode(out); }, r);
  return out;
}

util::Expected<void, WireError> validate(RRType type, std::span<const uint8_t> d) {
  return with_type(type, [&](auto tag) -> util::Expected<void, WireError> {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, Unknown>) {
      return {};
    } else {
      auto v = T::decode(d);
      if (!v) return unexpected(v.error());
      return {};
    }
  });
}

std::string to_text(RRType type, std::span<const uint8_t> d) {
  auto r = decode(type, d);
  if (!r) return generic_rdata_to_text(d);
  return std::visit([](const auto& v) { return v.to_text(); }, *r);
}

Result<Bytes> from_text(RRType type, Tokens tokens, const Name& origin) {
  if (!tokens.empty() && tokens[0].text == "\\#" && !tokens[0].quoted) {
    auto d = generic_rdata_from_text(tokens);
    if (!d) return d;
    auto ok = validate(type, *d);
    if (!ok) return unexpected(ok.error());
    return d;
  }
  return with_type(type, [&](auto tag) -> Result<Bytes> {
    using T = decltype(tag);
    auto v = T::from_text(tokens, origin);
    if (!v) return unexpected(v.error());
    Bytes out;
    v->encode(out);
    return out;
  });
}

}  // namespace tern::dns::rdata
