#include "net/address_class.hpp"

#include <array>
#include <vector>

namespace tern::net {
namespace {

Prefix v4p(uint8_t a, uint8_t b, uint8_t c, uint8_t d, unsigned len) {
  return Prefix::make(Address::v4(a, b, c, d), len);
}

Prefix v6p(std::initializer_list<uint8_t> head, unsigned len) {
  std::array<uint8_t, 16> b{};
  std::size_t i = 0;
  for (uint8_t x : head) b[i++] = x;
  return Prefix::make(Address::v6(b), len);
}

struct Table {
  std::array<std::vector<Prefix>, 8> sets;
};

const Table& table() {
  static const Table t = [] {
    Table r;
    auto& s = r.sets;
    s[static_cast<std::size_t>(AddressClass::Unspecified)] = {v4p(0, 0, 0, 0, 8), v6p({}, 128)};
    s[static_cast<std::size_t>(AddressClass::Loopback)] = {
        v4p(127, 0, 0, 0, 8), v6p({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128)};
    s[static_cast<std::size_t>(AddressClass::Private)] = {
        v4p(10, 0, 0, 0, 8), v4p(172, 16, 0, 0, 12), v4p(192, 168, 0, 0, 16), v6p({0xfc}, 7)};
    s[static_cast<std::size_t>(AddressClass::Shared)] = {v4p(100, 64, 0, 0, 10)};
    s[static_cast<std::size_t>(AddressClass::LinkLocal)] = {v4p(169, 254, 0, 0, 16),
                                                            v6p({0xfe, 0x80}, 10)};
    s[static_cast<std::size_t>(AddressClass::Multicast)] = {v4p(224, 0, 0, 0, 4), v6p({0xff}, 8)};
    s[static_cast<std::size_t>(AddressClass::Broadcast)] = {v4p(255, 255, 255, 255, 32)};
    s[static_cast<std::size_t>(AddressClass::Documentation)] = {
        v4p(192, 0, 2, 0, 24), v4p(198, 51, 100, 0, 24), v4p(203, 0, 113, 0, 24),
        v6p({0x20, 0x01, 0x0d, 0xb8}, 32), v6p({0x3f, 0xff}, 20)};
    return r;
  }();
  return t;
}

constexpr std::array<std::pair<AddressClass, std::string_view>, 8> kNames{{
    {AddressClass::Unspecified, "unspecified"},
    {AddressClass::Loopback, "loopback"},
    {AddressClass::Private, "private"},
    {AddressClass::Shared, "shared"},
    {AddressClass::LinkLocal, "link-local"},
    {AddressClass::Multicast, "multicast"},
    {AddressClass::Broadcast, "broadcast"},
    {AddressClass::Documentation, "documentation"},
}};

}  // namespace

AddressClass classify(const Address& address) {
  const Address a = address.unmapped();
  // The sets do not overlap, so the first hit is the only hit.
  for (const auto& [c, name] : kNames) {
    for (const Prefix& p : table().sets[static_cast<std::size_t>(c)])
      if (p.contains(a)) return c;
  }
  return AddressClass::Global;
}

std::span<const Prefix> class_prefixes(AddressClass c) {
  if (c == AddressClass::Global) return {};
  return table().sets[static_cast<std::size_t>(c)];
}

std::string_view class_name(AddressClass c) {
  for (const auto& [k, name] : kNames)
    if (k == c) return name;
  return "global";
}

util::Expected<AddressClass, ParseError> parse_address_class(std::string_view name) {
  for (const auto& [k, n] : kNames)
    if (n == name) return k;
  return util::unexpected(ParseError{Errc::UnknownClass});
}

}  // namespace tern::net
