// LruMap: a hash map that remembers use order, for the iterator's bounded tables (server
// statistics, infra cache). find() refreshes an entry; the caller evicts from the cold end.
// Invariant: order_ and index_ always hold the same keys.
// With a transparent Hash (StringKeyHash) find/peek/erase take a std::string_view, so a lookup
// built in a stack buffer allocates nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tern::resolver {

struct StringKeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<>>
class LruMap {
 public:
  template <class Q = K>
  V* find(const Q& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  template <class Q = K>
  const V* peek(const Q& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  // Inserts or replaces; returns the stored value.
  V& put(const K& key, V value) {
    if (V* v = find(key)) {
      *v = std::move(value);
      return *v;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    return order_.front().second;
  }
  template <class Q = K>
  bool erase(const Q& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    order_.erase(it->second);
    index_.erase(it);
    return true;
  }
  // The least recently used entry; the map must not be empty.
  std::pair<K, V>& coldest() { return order_.back(); }
  void pop_coldest() {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  void clear() {
    index_.clear();
    order_.clear();
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& kv : order_) f(kv.first, kv.second);
  }

 private:
  std::list<std::pair<K, V>> order_;
  std::unordered_map<K, typename std::list<std::pair<K, V>>::iterator, Hash, Eq> index_;
};

}  // namespace tern::resolver
