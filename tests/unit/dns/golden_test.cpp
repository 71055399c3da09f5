// Golden packets: real responses of NSD 4.6 and Knot 3.x captured from the lab zones in
// tests/data/golden (capture.py, README.md), each stored as hex beside dig's text of the same
// query. Every packet must parse, print exactly as dig prints it (modulo white space and the
// query ID), re-encode to the same bytes, survive text -> record round trips, and classify as
// the kind the query was designed to produce.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "dns/classify.hpp"
#include "dns/message.hpp"
#include "dns/presentation.hpp"
#include "dns/text.hpp"

using namespace tern::dns;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(TERN_TEST_DATA) / "golden";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<uint8_t> read_hex(const fs::path& p) {
  std::string s = slurp(p);
  s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return std::isspace(uint8_t(c)); }),
          s.end());
  auto b = from_hex(s);
  REQUIRE(b);
  return *b;
}

// dig's layout with tabs and alignment, reduced to single spaces, no blank lines, no
// ";; Got answer:" banner, and the query ID masked (dig's query was a separate one).
std::vector<std::string> normalise(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  static const std::regex ws("[ \t]+");
  static const std::regex id("id: [0-9]+");
  while (std::getline(in, line)) {
    line = std::regex_replace(line, ws, " ");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (line.empty() || line == ";; Got answer:") continue;
    out.push_back(std::regex_replace(line, id, "id: X"));
  }
  return out;
}

std::vector<std::string> golden_names() {
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(kDir))
    if (e.path().extension() == ".hex") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("the golden packet set is present", "[dns][golden]") {
  CHECK(golden_names().size() >= 20);
}

TEST_CASE("golden packets from NSD and Knot parse and print exactly as dig prints them",
          "[dns][golden]") {
  for (auto& name : golden_names()) {
    INFO("golden " << name);
    auto wire = read_hex(kDir / (name + ".hex"));
    auto m = parse_message(wire);
    REQUIRE(m);
    auto ours = normalise(to_text(*m));
    auto digs = normalise(slurp(kDir / (name + ".dig")));
    CHECK(ours == digs);
  }
}

TEST_CASE("golden packets re-encode to the bytes the server sent", "[dns][golden]") {
  for (auto& name : golden_names()) {
    INFO("golden " << name);
    auto wire = read_hex(kDir / (name + ".hex"));
    auto m = parse_message(wire);
    REQUIRE(m);
    auto again = encode_message(*m);
    auto back = parse_message(again);
    REQUIRE(back);
    CHECK(*back == *m);
    CHECK(again == wire);
  }
}

TEST_CASE("every golden record survives printing and parsing its text form", "[dns][golden]") {
  for (auto& name : golden_names()) {
    auto m = parse_message(read_hex(kDir / (name + ".hex")));
    REQUIRE(m);
    for (const auto* sec : {&m->answer, &m->authority, &m->additional}) {
      for (auto& rr : *sec) {
        std::string text = to_text(rr);
        INFO(name << ": " << text);
        auto back = rr_from_text(text, Name::root(), 0);
        REQUIRE(back);
        CHECK(back->rdata == rr.rdata);
        CHECK(*back == rr);
      }
    }
  }
}

TEST_CASE("golden responses classify as the kind of answer they are", "[dns][golden][classify]") {
  const std::map<std::string, ResponseKind> expected = {
      {"nsd-cname-a", ResponseKind::Answer},        {"nsd-mx-glue", ResponseKind::Answer},
      {"nsd-txt", ResponseKind::Answer},            {"nsd-srv", ResponseKind::Answer},
      {"nsd-caa", ResponseKind::Answer},            {"nsd-dname", ResponseKind::Dname},
      {"nsd-ptr", ResponseKind::Answer},            {"nsd-https", ResponseKind::Answer},
      {"nsd-svcb-alias", ResponseKind::Answer},     {"nsd-unknown-type", ResponseKind::Answer},
      {"nsd-nxdomain", ResponseKind::NxDomain},     {"nsd-nodata", ResponseKind::NoData},
      {"nsd-referral-ds", ResponseKind::Referral},  {"nsd-0x20", ResponseKind::Answer},
      {"nsd-soa-nsid", ResponseKind::Answer},       {"nsd-aaaa", ResponseKind::Answer},
      {"nsd-chaos-id", ResponseKind::Answer},       {"nsd-any-refused-zone", ResponseKind::Refused},
      {"knot-dnskey", ResponseKind::Answer},        {"knot-rrsig-a", ResponseKind::Answer},
      {"knot-nxdomain-nsec3", ResponseKind::NxDomain},
      {"knot-nsec3param", ResponseKind::Answer},    {"knot-nodata-nsec3", ResponseKind::NoData},
      {"knot-nxdomain-nsec", ResponseKind::NxDomain},
      {"knot-dnskey-ed25519", ResponseKind::Answer},
  };
  for (auto& name : golden_names()) {
    INFO("golden " << name);
    auto m = parse_message(read_hex(kDir / (name + ".hex")));
    REQUIRE(m);
    REQUIRE(m->questions.size() == 1);
    auto it = expected.find(name);
    REQUIRE(it != expected.end());
    CHECK(classify(*m, m->questions[0]) == it->second);
  }
}
