#include "dns/types.hpp"

#include <array>
#include <charconv>
#include <strings.h>
#include <utility>

namespace tern::dns {
namespace {

constexpr std::pair<RRType, std::string_view> kTypeNames[] = {
    {RRType::A, "A"}, {RRType::NS, "NS"}, {RRType::CNAME, "CNAME"}, {RRType::SOA, "SOA"},
    {RRType::PTR, "PTR"}, {RRType::HINFO, "HINFO"}, {RRType::MX, "MX"}, {RRType::TXT, "TXT"},
    {RRType::RP, "RP"}, {RRType::AFSDB, "AFSDB"}, {RRType::AAAA, "AAAA"}, {RRType::LOC, "LOC"},
    {RRType::SRV, "SRV"}, {RRType::NAPTR, "NAPTR"}, {RRType::KX, "KX"}, {RRType::CERT, "CERT"},
    {RRType::DNAME, "DNAME"}, {RRType::OPT, "OPT"}, {RRType::APL, "APL"}, {RRType::DS, "DS"},
    {RRType::SSHFP, "SSHFP"}, {RRType::IPSECKEY, "IPSECKEY"}, {RRType::RRSIG, "RRSIG"},
    {RRType::NSEC, "NSEC"}, {RRType::DNSKEY, "DNSKEY"}, {RRType::DHCID, "DHCID"},
    {RRType::NSEC3, "NSEC3"}, {RRType::NSEC3PARAM, "NSEC3PARAM"}, {RRType::TLSA, "TLSA"},
    {RRType::SMIMEA, "SMIMEA"}, {RRType::HIP, "HIP"}, {RRType::CDS, "CDS"},
    {RRType::CDNSKEY, "CDNSKEY"}, {RRType::OPENPGPKEY, "OPENPGPKEY"}, {RRType::CSYNC, "CSYNC"},
    {RRType::ZONEMD, "ZONEMD"}, {RRType::SVCB, "SVCB"}, {RRType::HTTPS, "HTTPS"},
    {RRType::SPF, "SPF"}, {RRType::NID, "NID"}, {RRType::L32, "L32"}, {RRType::L64, "L64"},
    {RRType::LP, "LP"}, {RRType::EUI48, "EUI48"}, {RRType::EUI64, "EUI64"},
    {RRType::TKEY, "TKEY"}, {RRType::TSIG, "TSIG"}, {RRType::IXFR, "IXFR"},
    {RRType::AXFR, "AXFR"}, {RRType::MAILB, "MAILB"}, {RRType::MAILA, "MAILA"},
    {RRType::ANY, "ANY"}, {RRType::URI, "URI"}, {RRType::CAA, "CAA"}, {RRType::TA, "TA"},
    {RRType::DLV, "DLV"},
};

constexpr std::pair<RRClass, std::string_view> kClassNames[] = {
    {RRClass::IN, "IN"}, {RRClass::CH, "CH"}, {RRClass::HS, "HS"}, {RRClass::NONE, "NONE"},
    {RRClass::ANY, "ANY"},
};

std::optional<uint16_t> generic_number(std::string_view s, std::string_view prefix) {
  if (s.size() <= prefix.size() || strncasecmp(s.data(), prefix.data(), prefix.size()) != 0) {
    return std::nullopt;
  }
  s.remove_prefix(prefix.size());
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  uint16_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string type_to_text(RRType t) {
  for (auto& [v, n] : kTypeNames)
    if (v == t) return std::string(n);
  return "TYPE" + std::to_string(to_u16(t));
}

std::string class_to_text(RRClass c) {
  for (auto& [v, n] : kClassNames)
    if (v == c) return std::string(n);
  return "CLASS" + std::to_string(to_u16(c));
}

std::optional<RRType> type_from_text(std::string_view s) {
  for (auto& [v, n] : kTypeNames)
    if (iequal(s, n)) return v;
  if (auto n = generic_number(s, "TYPE")) return static_cast<RRType>(*n);
  return std::nullopt;
}

std::optional<RRClass> class_from_text(std::string_view s) {
  for (auto& [v, n] : kClassNames)
    if (iequal(s, n)) return v;
  if (iequal(s, "CHAOS")) return RRClass::CH;
  if (auto n = generic_number(s, "CLASS")) return static_cast<RRClass>(*n);
  return std::nullopt;
}

std::string rcode_to_text(RCode r) {
  switch (r) {
    case RCode::NoError: return "NOERROR";
    case RCode::FormErr: return "FORMERR";
    case RCode::ServFail: return "SERVFAIL";
    case RCode::NxDomain: return "NXDOMAIN";
    case RCode::NotImp: return "NOTIMP";
    case RCode::Refused: return "REFUSED";
    case RCode::YXDomain: return "YXDOMAIN";
    case RCode::YXRRSet: return "YXRRSET";
    case RCode::NXRRSet: return "NXRRSET";
    case RCode::NotAuth: return "NOTAUTH";
    case RCode::NotZone: return "NOTZONE";
    case RCode::BadVers: return "BADVERS";
    case RCode::BadCookie: return "BADCOOKIE";
  }
  return "RESERVED" + std::to_string(static_cast<uint16_t>(r));
}

std::string opcode_to_text(Opcode o) {
  switch (o) {
    case Opcode::Query: return "QUERY";
    case Opcode::IQuery: return "IQUERY";
    case Opcode::Status: return "STATUS";
    case Opcode::Notify: return "NOTIFY";
    case Opcode::Update: return "UPDATE";
    case Opcode::DSO: return "DSO";
  }
  return "OPCODE" + std::to_string(static_cast<unsigned>(o));
}

}  // namespace tern::dns
