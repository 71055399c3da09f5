#include "dns/text.hpp"

#include "dns/edns.hpp"
#include "dns/presentation.hpp"
#include "dns/rdata.hpp"

namespace tern::dns {

using util::Expected;
using util::unexpected;

std::string to_text(const ResourceRecord& rr) {
  return rr.name.to_text() + " " + std::to_string(rr.ttl) + " " + class_to_text(rr.rclass) +
         " " + type_to_text(rr.type) + " " + rdata::to_text(rr.type, rr.rdata);
}

std::string to_text(const Question& q) {
  std::string s(1, ';');
  s += q.qname.to_text();
  s += ' ';
  s += class_to_text(q.qclass);
  s += ' ';
  s += type_to_text(q.qtype);
  return s;
}

std::string flags_to_text(const Header& h) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += " ";
    s += name;
  };
  add(h.qr, "qr");
  add(h.aa, "aa");
  add(h.tc, "tc");
  add(h.rd, "rd");
  add(h.ra, "ra");
  add(h.z, "z");
  add(h.ad, "ad");
  add(h.cd, "cd");
  return s;
}

std::string to_text(const Message& m) {
  std::string s = ";; ->>HEADER<<- opcode: " + opcode_to_text(m.header.opcode) +
                  ", status: " + rcode_to_text(m.rcode()) + ", id: " + std::to_string(m.header.id) +
                  "\n";
  std::string flags = flags_to_text(m.header);
  s += ";; flags:" + (flags.empty() ? "" : " " + flags) + "; QUERY: " + std::to_string(m.questions.size()) +
       ", ANSWER: " + std::to_string(m.answer.size()) +
       ", AUTHORITY: " + std::to_string(m.authority.size()) +
       ", ADDITIONAL: " + std::to_string(m.additional.size() + (m.edns ? 1 : 0)) + "\n";
  if (m.edns) s += "\n;; OPT PSEUDOSECTION:\n" + edns::to_text(*m.edns);
  if (!m.questions.empty()) {
    // dig prints the question right under the OPT pseudosection, without a blank line.
    s += m.edns ? ";; QUESTION SECTION:\n" : "\n;; QUESTION SECTION:\n";
    for (auto& q : m.questions) s += to_text(q) + "\n";
  }
  const char* titles[3] = {"ANSWER", "AUTHORITY", "ADDITIONAL"};
  for (unsigned i = 0; i < 3; ++i) {
    const auto& sec = m.section(static_cast<Section>(i));
    if (sec.empty()) continue;
    s += std::string("\n;; ") + titles[i] + " SECTION:\n";
    for (auto& rr : sec) s += to_text(rr) + "\n";
  }
  return s;
}

namespace {

Expected<ResourceRecord, WireError> rr_from_tokens(std::span<const Token> t, const Name& owner,
                                                   const Name& origin, uint32_t default_ttl) {
  ResourceRecord rr;
  rr.name = owner;
  rr.ttl = default_ttl;
  rr.rclass = RRClass::IN;
  size_t i = 0;
  bool have_ttl = false, have_class = false;
  // TTL and class, in either order, both optional (RFC 1035 §5.1).
  while (i < t.size() && !t[i].quoted) {
    if (!have_ttl) {
      if (auto ttl = parse_u32(t[i].text)) {
        rr.ttl = *ttl;
        have_ttl = true;
        ++i;
        continue;
      }
    }
    if (!have_class) {
      if (auto c = class_from_text(t[i].text)) {
        rr.rclass = *c;
        have_class = true;
        ++i;
        continue;
      }
    }
    break;
  }
  if (i >= t.size() || t[i].quoted) return unexpected(WireError::BadText);
  auto type = type_from_text(t[i].text);
  if (!type) return unexpected(WireError::BadText);
  rr.type = *type;
  auto rd_tokens = t.subspan(i + 1);
  // RFC 2136 empty RDATA of class ANY/NONE (see parse_message) prints as "\# 0".
  if ((rr.rclass == RRClass::ANY || rr.rclass == RRClass::NONE) && rd_tokens.size() == 2 &&
      rd_tokens[0].text == "\\#" && rd_tokens[1].text == "0") {
    return rr;
  }
  auto rd = rdata::from_text(rr.type, rd_tokens, origin);
  if (!rd) return unexpected(rd.error());
  if (rd->size() > 65535) return unexpected(WireError::BadText);
  rr.rdata = std::move(*rd);
  return rr;
}

}  // namespace

Expected<ResourceRecord, WireError> rr_from_text(std::string_view line, const Name& origin,
                                                 uint32_t default_ttl) {
  auto t = tokenize(line);
  if (!t) return unexpected(t.error());
  if (t->empty() || (*t)[0].quoted) return unexpected(WireError::BadText);
  auto owner = name_from_token((*t)[0].text, origin);
  if (!owner) return unexpected(owner.error());
  return rr_from_tokens(std::span<const Token>(*t).subspan(1), *owner, origin, default_ttl);
}

Expected<std::vector<ResourceRecord>, ZoneTextError> zone_from_text(std::string_view text,
                                                                    const Name& origin_in,
                                                                    uint32_t default_ttl) {
  std::vector<ResourceRecord> out;
  Name origin = origin_in;
  uint32_t ttl = default_ttl;
  std::optional<Name> last_owner;
  size_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    // Gather one logical record: a physical line, extended while parentheses are open.
    size_t start_line = ++lineno;
    std::string logical;
    int depth = 0;
    bool in_quote = false;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      std::string_view line = text.substr(pos, eol == std::string_view::npos ? text.size() - pos
                                                                               : eol - pos);
      pos = eol == std::string_view::npos ? text.size() : eol + 1;
      for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_quote = !in_quote;
        } else if (!in_quote && c == ';') {
          line = line.substr(0, i);
          break;
        } else if (!in_quote && c == '(') {
          ++depth;
        } else if (!in_quote && c == ')') {
          if (--depth < 0) return unexpected(ZoneTextError{WireError::BadText, lineno});
        }
      }
      logical += std::string(line) + " ";
      if (depth == 0 || in_quote) break;
      ++lineno;
    }
    if (depth != 0 || in_quote) return unexpected(ZoneTextError{WireError::BadText, start_line});
    auto fail = [&](WireError e) { return unexpected(ZoneTextError{e, start_line}); };
    auto toks = tokenize(logical);
    if (!toks) return fail(toks.error());
    if (toks->empty()) continue;
    auto& t = *toks;
    if (t[0].text == "$ORIGIN") {
      if (t.size() != 2) return fail(WireError::BadText);
      auto o = name_from_token(t[1].text, origin);
      if (!o) return fail(o.error());
      origin = *o;
      continue;
    }
    if (t[0].text == "$TTL") {
      if (t.size() != 2) return fail(WireError::BadText);
      auto v = parse_u32(t[1].text);
      if (!v) return fail(WireError::BadText);
      ttl = *v;
      continue;
    }
    if (!t[0].text.empty() && t[0].text[0] == '$') return fail(WireError::BadText);
    bool blank_owner = logical[0] == ' ' || logical[0] == '\t';
    std::span<const Token> rest(t);
    Name owner;
    if (blank_owner) {
      if (!last_owner) return fail(WireError::BadText);
      owner = *last_owner;
    } else {
      auto o = name_from_token(t[0].text, origin);
      if (!o) return fail(o.error());
      owner = *o;
      rest = rest.subspan(1);
    }
    auto rr = rr_from_tokens(rest, owner, origin, ttl);
    if (!rr) return fail(rr.error());
    last_owner = owner;
    out.push_back(std::move(*rr));
  }
  return out;
}

}  // namespace tern::dns
