// Recycled<T, Max>: class-specific operator new/delete that keep up to Max freed T-sized
// blocks per thread for the next new T. For the miss path's large per-query objects (an
// upstream query with its libuv handles, a resolution): they are bigger than glibc's per-thread
// cache serves (1032 octets), so every malloc/free of them went through the arena's bins and
// consolidation - measurable on the cold-cache benchmark. Memory stays bounded: at most Max
// spare blocks, the rest go back to malloc.
// Under AddressSanitizer recycling is off, so a use after free is still caught.
// Usage: struct Query : util::Recycled<Query, 4096> { ... };  (T must be the most derived type)
#pragma once

#include <cstddef>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define TERN_RECYCLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TERN_RECYCLE 0
#endif
#endif
#ifndef TERN_RECYCLE
#define TERN_RECYCLE 1
#endif

namespace tern::util {

template <class T, size_t Max>
class Recycled {
 public:
  // Its delete is the sized one below; an unsized class delete would be chosen over it and
  // skip recycling, so cert-dcl54-cpp (which asks for one) does not apply.
  static void* operator new(size_t size) {  // NOLINT(cert-dcl54-cpp): sized delete below matches
    static_assert(sizeof(T) >= sizeof(Node) && alignof(T) <= alignof(std::max_align_t));
#if TERN_RECYCLE
    Spares& s = spares();
    if (size == sizeof(T) && s.head != nullptr) {
      Node* n = s.head;
      s.head = n->next;
      --s.count;
      return n;
    }
#endif
    return ::operator new(size);
  }

  static void operator delete(void* p, size_t size) noexcept {
    if (p == nullptr) return;
#if TERN_RECYCLE
    Spares& s = spares();
    if (size == sizeof(T) && s.count < Max) {
      s.head = ::new (p) Node{s.head};
      ++s.count;
      return;
    }
#else
    (void)size;
#endif
    ::operator delete(p);  // unsized: clang 14 lacks sized delete without -fsized-deallocation
  }

  // Spare blocks held by this thread (for tests).
  static size_t spare_count() { return spares().count; }

 private:
  struct Node {
    Node* next;
  };
  static_assert(Max > 0);
  struct Spares {
    Node* head = nullptr;
    size_t count = 0;
    Spares() = default;
    Spares(const Spares&) = delete;
    Spares& operator=(const Spares&) = delete;
    ~Spares() {
      while (head != nullptr) {
        Node* n = head;
        head = n->next;
        ::operator delete(static_cast<void*>(n));
      }
    }
  };
  static Spares& spares() {
    static thread_local Spares s;
    return s;
  }
};

}  // namespace tern::util
