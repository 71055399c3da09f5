// TERN_BUG(msg): an internal invariant was broken. Aborts with a location: a bug in our
// code must never be mistaken for bad input (bad input returns an error instead).
#pragma once

#include <cstdio>
#include <cstdlib>

// The fprintf result is discarded on purpose: we abort next, whether or not it was written.
#define TERN_BUG(msg)                                                               \
  do {                                                                              \
    (void)std::fprintf(stderr, "tern bug at %s:%d: %s\n", __FILE__, __LINE__, msg); \
    std::abort();                                                                   \
  } while (0)

#define TERN_ASSERT(cond)                  \
  do {                                     \
    if (!(cond)) TERN_BUG("assert " #cond); \
  } while (0)
