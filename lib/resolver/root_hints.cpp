#include "resolver/root_hints.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tern::resolver {
namespace {

struct BuiltinRow {
  const char* name;
  const char* v4;
  const char* v6;
};

// IANA named.root (last changed 2023-11 when b.root moved).
constexpr BuiltinRow kIana[] = {
    {"a.root-servers.net.", "198.41.0.4", "2001:503:ba3e::2:30"},
    {"b.root-servers.net.", "170.247.170.2", "2801:1b8:10::b"},
    {"c.root-servers.net.", "192.33.4.12", "2001:500:2::c"},
    {"d.root-servers.net.", "199.7.91.13", "2001:500:2d::d"},
    {"e.root-servers.net.", "192.203.230.10", "2001:500:a8::e"},
    {"f.root-servers.net.", "192.5.5.241", "2001:500:2f::f"},
    {"g.root-servers.net.", "192.112.36.4", "2001:500:12::d0d"},
    {"h.root-servers.net.", "198.97.190.53", "2001:500:1::53"},
    {"i.root-servers.net.", "192.36.148.17", "2001:7fe::53"},
    {"j.root-servers.net.", "192.58.128.30", "2001:503:c27::2:30"},
    {"k.root-servers.net.", "193.0.14.129", "2001:7fd::1"},
    {"l.root-servers.net.", "199.7.83.42", "2001:500:9f::42"},
    {"m.root-servers.net.", "202.12.27.33", "2001:dc3::35"},
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

[[noreturn]] void fail(size_t line, const std::string& what) {
  throw std::runtime_error("root hints line " + std::to_string(line) + ": " + what);
}

}  // namespace

const RootHints& builtin_root_hints() {
  static const RootHints hints = [] {
    RootHints h;
    for (const auto& row : kIana) {
      RootHint hint{*dns::Name::from_text(row.name), {}};
      hint.addresses.push_back(*net::parse_ipv4(row.v4));
      hint.addresses.push_back(*net::parse_ipv6(row.v6));
      h.push_back(std::move(hint));
    }
    return h;
  }();
  return hints;
}

RootHints parse_root_hints(std::string_view text) {
  RootHints hints;
  std::vector<std::pair<dns::Name, net::Address>> addrs;
  std::istringstream in{std::string(text)};
  std::string raw;
  size_t lineno = 0;
  while (std::getline(in, raw)) {
    ++lineno;
    if (auto semi = raw.find(';'); semi != std::string::npos) raw.resize(semi);
    std::istringstream ls(raw);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    auto owner = dns::Name::from_text(tok[0]);
    if (!owner) fail(lineno, "bad owner name '" + tok[0] + "'");
    size_t i = 1;
    if (i < tok.size() && std::all_of(tok[i].begin(), tok[i].end(),
                                      [](char c) { return c >= '0' && c <= '9'; }))
      ++i;  // TTL
    if (i < tok.size() && iequals(tok[i], "IN")) ++i;
    if (i + 2 != tok.size()) fail(lineno, "expected: owner [ttl] [IN] type rdata");
    const std::string& type = tok[i];
    const std::string& rdata = tok[i + 1];
    if (iequals(type, "NS")) {
      if (!owner->is_root()) fail(lineno, "NS records must be for the root '.'");
      auto ns = dns::Name::from_text(rdata);
      if (!ns) fail(lineno, "bad NS name '" + rdata + "'");
      bool dup = std::any_of(hints.begin(), hints.end(),
                             [&](const RootHint& h) { return h.name == *ns; });
      if (!dup) hints.push_back(RootHint{*ns, {}});
    } else if (iequals(type, "A") || iequals(type, "AAAA")) {
      auto a = iequals(type, "A") ? net::parse_ipv4(rdata) : net::parse_ipv6(rdata);
      if (!a)
        fail(lineno,
             std::string("bad ").append(type).append(" address '").append(rdata).append("'"));
      addrs.emplace_back(*owner, *a);
    } else {
      fail(lineno, "unexpected type " + type + " (only NS, A, AAAA)");
    }
  }
  for (const auto& entry : addrs) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda.
    const auto& owner = entry.first;
    const auto& a = entry.second;
    auto it = std::find_if(hints.begin(), hints.end(),
                           [&](const RootHint& h) { return h.name == owner; });
    if (it == hints.end())
      throw std::runtime_error("root hints: address for " + owner.to_text() +
                               ", which is not a root NS");
    if (std::find(it->addresses.begin(), it->addresses.end(), a) == it->addresses.end())
      it->addresses.push_back(a);
  }
  if (hints.empty()) throw std::runtime_error("root hints: no NS records for '.'");
  for (const auto& h : hints)
    if (h.addresses.empty())
      throw std::runtime_error("root hints: no address for " + h.name.to_text());
  return hints;
}

RootHints load_root_hints(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("root hints: cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_root_hints(ss.str());
}

}  // namespace tern::resolver
