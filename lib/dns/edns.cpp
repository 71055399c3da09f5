#include "dns/edns.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "dns/presentation.hpp"
#include "dns/wire_reader.hpp"

namespace tern::dns::edns {

using util::unexpected;

namespace {
constexpr auto kBad = WireError::BadEdnsOption;

EdnsOption make(EdnsOptionCode code, std::vector<uint8_t> data) {
  return {static_cast<uint16_t>(code), std::move(data)};
}
}  // namespace

Result<Cookie> Cookie::decode(std::span<const uint8_t> d) {
  if (d.size() != 8 && (d.size() < 16 || d.size() > 40)) return unexpected(kBad);
  Cookie c;
  std::copy(d.begin(), d.begin() + 8, c.client.begin());
  c.server.assign(d.begin() + 8, d.end());
  return c;
}
EdnsOption Cookie::to_option() const {
  std::vector<uint8_t> d(client.begin(), client.end());
  d.insert(d.end(), server.begin(), server.end());
  return make(EdnsOptionCode::Cookie, std::move(d));
}

Result<Padding> Padding::decode(std::span<const uint8_t> d) {
  return Padding{static_cast<uint16_t>(d.size())};
}
EdnsOption Padding::to_option() const {
  return make(EdnsOptionCode::Padding, std::vector<uint8_t>(length, 0));
}

Result<ExtendedError> ExtendedError::decode(std::span<const uint8_t> d) {
  if (d.size() < 2) return unexpected(kBad);
  ExtendedError e;
  e.info_code = load_u16(d.data());
  e.extra_text.assign(d.begin() + 2, d.end());
  // RFC 8914 §2: EXTRA-TEXT is not NUL-terminated, but some senders add one: drop it.
  if (!e.extra_text.empty() && e.extra_text.back() == '\0') e.extra_text.pop_back();
  return e;
}
EdnsOption ExtendedError::to_option() const {
  std::vector<uint8_t> d{static_cast<uint8_t>(info_code >> 8), static_cast<uint8_t>(info_code)};
  d.insert(d.end(), extra_text.begin(), extra_text.end());
  return make(EdnsOptionCode::ExtendedError, std::move(d));
}

Result<Nsid> Nsid::decode(std::span<const uint8_t> d) { return Nsid{{d.begin(), d.end()}}; }
EdnsOption Nsid::to_option() const { return make(EdnsOptionCode::NSID, id); }

Result<ClientSubnet> ClientSubnet::decode(std::span<const uint8_t> d) {
  if (d.size() < 4) return unexpected(kBad);
  ClientSubnet c;
  c.family = load_u16(d.data());
  c.source_prefix = d[2];
  c.scope_prefix = d[3];
  unsigned max_bits = c.family == 1 ? 32 : c.family == 2 ? 128 : 0;
  if (max_bits == 0 || c.source_prefix > max_bits || c.scope_prefix > max_bits)
    return unexpected(kBad);
  size_t want = (c.source_prefix + 7u) / 8u;
  if (d.size() - 4 != want) return unexpected(kBad);  // RFC 7871 §6: exactly ceil(source/8)
  c.address.assign(d.begin() + 4, d.end());
  if (c.source_prefix % 8 != 0 && !c.address.empty()) {
    uint8_t mask = static_cast<uint8_t>(0xFFu >> (c.source_prefix % 8));
    if (c.address.back() & mask) return unexpected(kBad);  // bits past the prefix must be 0
  }
  return c;
}
EdnsOption ClientSubnet::to_option() const {
  std::vector<uint8_t> d{static_cast<uint8_t>(family >> 8), static_cast<uint8_t>(family),
                         source_prefix, scope_prefix};
  d.insert(d.end(), address.begin(), address.end());
  return make(EdnsOptionCode::ClientSubnet, std::move(d));
}

const EdnsOption* find_option(const Edns& e, EdnsOptionCode code) {
  for (auto& o : e.options)
    if (o.code == static_cast<uint16_t>(code)) return &o;
  return nullptr;
}

std::string_view ede_info_name(uint16_t code) {
  static constexpr std::string_view kNames[] = {
      "Other Error", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
      "Stale Answer", "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus",
      "Signature Expired", "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing",
      "No Zone Key Bit Set", "NSEC Missing", "Cached Error", "Not Ready", "Blocked",
      "Censored", "Filtered", "Prohibited", "Stale NXDOMAIN Answer", "Not Authoritative",
      "Not Supported", "No Reachable Authority", "Network Error", "Invalid Data",
      "Signature Expired before Valid", "Too Early", "Unsupported NSEC3 Iterations Value",
      "Unable to conform to policy", "Synthesized", "Invalid Query Type"};
  return code < std::size(kNames) ? kNames[code] : std::string_view();
}

std::string to_text(const Edns& e) {
  std::string s = "; EDNS: version: " + std::to_string(e.version) + ", flags:";
  if (e.dnssec_ok) s += " do";
  if (e.z) s += "; MBZ: 0x" + to_hex(std::vector<uint8_t>{static_cast<uint8_t>(e.z >> 8),
                                                        static_cast<uint8_t>(e.z)});
  s += "; udp: " + std::to_string(e.udp_payload) + "\n";
  for (auto& o : e.options) {
    switch (static_cast<EdnsOptionCode>(o.code)) {
      case EdnsOptionCode::Cookie:
        s += "; COOKIE: " + to_hex(o.data);
        break;
      case EdnsOptionCode::NSID:
        s += "; NSID:";
        for (uint8_t b : o.data) {
          static constexpr char kHex[] = "0123456789abcdef";
          s += ' ';
          s += kHex[b >> 4];
          s += kHex[b & 0xF];
        }
        s += " (" + quoted_char_string(o.data) + ")";
        break;
      case EdnsOptionCode::Padding:
        s += "; PAD: (" + std::to_string(o.data.size()) + " bytes)";
        break;
      case EdnsOptionCode::ExtendedError: {
        auto ede = ExtendedError::decode(o.data);
        if (!ede) {
          s += "; EDE: malformed " + to_hex(o.data);
          break;
        }
        s += "; EDE: " + std::to_string(ede->info_code);
        auto name = ede_info_name(ede->info_code);
        if (!name.empty()) s += " (" + std::string(name) + ")";
        if (!ede->extra_text.empty()) {
          std::span<const uint8_t> t(reinterpret_cast<const uint8_t*>(ede->extra_text.data()),
                                     ede->extra_text.size());
          s += ": (" + escape_char_string(t) + ")";
        }
        break;
      }
      case EdnsOptionCode::ClientSubnet: {
        auto ecs = ClientSubnet::decode(o.data);
        if (!ecs) {
          s += "; CLIENT-SUBNET: malformed " + to_hex(o.data);
          break;
        }
        uint8_t addr[16] = {};
        std::copy(ecs->address.begin(), ecs->address.end(), addr);
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(ecs->family == 1 ? AF_INET : AF_INET6, addr, buf, sizeof buf);
        s += "; CLIENT-SUBNET: " + std::string(buf) + "/" + std::to_string(ecs->source_prefix) +
             "/" + std::to_string(ecs->scope_prefix);
        break;
      }
      default:
        s += "; OPT=" + std::to_string(o.code) + ": " + to_hex(o.data);
        break;
    }
    s += "\n";
  }
  return s;
}

}  // namespace tern::dns::edns
