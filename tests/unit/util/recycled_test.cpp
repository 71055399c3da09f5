#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "util/recycled.hpp"

namespace {
struct Big : tern::util::Recycled<Big, 4> {
  char payload[2000];
  int value = 7;
};
}  // namespace

TEST_CASE("recycled objects are constructed fresh and spares stay bounded", "[util]") {
  const size_t before = Big::spare_count();
  {
    std::vector<std::unique_ptr<Big>> v;
    for (int i = 0; i < 10; ++i) {
      v.push_back(std::make_unique<Big>());
      v.back()->value = i;
    }
  }
#if TERN_RECYCLE
  CHECK(Big::spare_count() == 4);  // 10 freed, 4 kept, 6 returned to malloc
  auto again = std::make_unique<Big>();
  CHECK(again->value == 7);  // a reused block is still constructed
  CHECK(Big::spare_count() == 3);
#else
  CHECK(Big::spare_count() == before);  // sanitizer builds never recycle
#endif
  (void)before;
}
