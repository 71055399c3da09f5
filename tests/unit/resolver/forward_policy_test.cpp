#include <catch2/catch.hpp>

#include "resolver/forward_policy.hpp"

using namespace tern;
using resolver::ForwardPolicy;
using resolver::ForwardPolicyError;
using resolver::ForwardZone;

namespace {

dns::Name name(const char* text) {
  return dns::Name::from_text(text).value();
}
net::Endpoint ep(const char* text) {
  return net::parse_endpoint(text).value();
}

ForwardZone zone(const char* z, const char* upstream) {
  return {name(z), {ep(upstream)}};
}

ForwardPolicy policy(std::vector<ForwardZone> zones) {
  auto p = ForwardPolicy::create(std::move(zones));
  REQUIRE(p);
  return std::move(p).value();
}

}  // namespace

TEST_CASE("the longest matching forward zone wins", "[resolver][forward]") {
  auto p = policy({zone("example.", "127.53.0.1:53"), zone("corp.example.", "127.53.0.2:53")});
  REQUIRE(p.match(name("a.corp.example.")) != nullptr);
  CHECK(p.match(name("a.corp.example."))->upstreams.front() == ep("127.53.0.2:53"));
  CHECK(p.match(name("corp.example."))->upstreams.front() == ep("127.53.0.2:53"));
  CHECK(p.match(name("b.example."))->upstreams.front() == ep("127.53.0.1:53"));
  CHECK(p.match(name("example."))->upstreams.front() == ep("127.53.0.1:53"));
}

TEST_CASE("the order of the zones in the configuration does not change the match",
          "[resolver][forward]") {
  auto p = policy({zone("corp.example.", "127.53.0.2:53"), zone("example.", "127.53.0.1:53")});
  CHECK(p.match(name("x.y.corp.example."))->zone == name("corp.example."));
  CHECK(p.match(name("x.example."))->zone == name("example."));
}

TEST_CASE("a name outside every forward zone is not forwarded", "[resolver][forward]") {
  auto p = policy({zone("example.", "127.53.0.1:53")});
  CHECK_FALSE(p.has_zone_for(name("example.org.")));
  CHECK_FALSE(p.has_zone_for(name("com.")));
  CHECK_FALSE(p.has_zone_for(dns::Name::root()));
  // A label that merely ends in the zone's text is not below the zone.
  CHECK_FALSE(p.has_zone_for(name("notexample.")));
  CHECK_FALSE(p.has_zone_for(name("a.notexample.")));
}

TEST_CASE("zone matching ignores ASCII case on both sides", "[resolver][forward]") {
  auto p = policy({zone("Corp.EXAMPLE.", "127.53.0.2:53")});
  CHECK(p.has_zone_for(name("www.corp.example.")));
  CHECK(p.has_zone_for(name("WWW.cOrP.ExAmPlE.")));
}

TEST_CASE("a root forward zone catches every name but loses to a deeper zone",
          "[resolver][forward]") {
  auto p = policy({zone(".", "127.53.0.9:53"), zone("lan.", "127.53.0.3:53")});
  CHECK(p.match(dns::Name::root())->zone == dns::Name::root());
  CHECK(p.match(name("example.com."))->zone == dns::Name::root());
  CHECK(p.match(name("printer.lan."))->zone == name("lan."));
}

TEST_CASE("a qname much deeper than every zone still finds its zone", "[resolver][forward]") {
  auto p = policy({zone("example.", "127.53.0.1:53")});
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "a.";
  deep += "example.";
  CHECK(p.match(name(deep.c_str()))->zone == name("example."));
}

TEST_CASE("an empty policy forwards nothing", "[resolver][forward]") {
  ForwardPolicy p;
  CHECK(p.empty());
  CHECK_FALSE(p.has_zone_for(name("example.")));
  CHECK_FALSE(p.has_zone_for(dns::Name::root()));
}

TEST_CASE("a forward zone without upstreams is rejected", "[resolver][forward]") {
  auto p = ForwardPolicy::create({ForwardZone{name("example."), {}}});
  REQUIRE_FALSE(p);
  CHECK(p.error() == ForwardPolicyError::NoUpstreams);
}

TEST_CASE("the same forward zone twice, in any case, is rejected", "[resolver][forward]") {
  auto p =
      ForwardPolicy::create({zone("example.", "127.53.0.1:53"), zone("EXAMPLE.", "127.53.0.2:53")});
  REQUIRE_FALSE(p);
  CHECK(p.error() == ForwardPolicyError::DuplicateZone);
}

TEST_CASE("upstreams keep the order the operator wrote", "[resolver][forward]") {
  auto p = policy({ForwardZone{name("example."),
                               {ep("127.53.0.3:53"), ep("127.53.0.1:53"), ep("[::1]:5353")}}});
  const auto& u = p.match(name("www.example."))->upstreams;
  REQUIRE(u.size() == 3);
  CHECK(u[0] == ep("127.53.0.3:53"));
  CHECK(u[1] == ep("127.53.0.1:53"));
  CHECK(u[2] == ep("[::1]:5353"));
}
