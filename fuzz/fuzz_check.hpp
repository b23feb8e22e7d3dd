// What the fuzz targets share: a property check that stops the run with a
// message (libFuzzer then saves the input as a crash artifact).
#pragma once

#include <cstdio>
#include <cstdlib>

/// Aborts with `what` when `cond` is false. Unlike assert, never compiled out.
#define FUZZ_CHECK(cond, what)                                                  \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: property violated: %s (%s)\n", __FILE__,     \
                   __LINE__, what, #cond);                                      \
      std::abort();                                                             \
    }                                                                           \
  } while (false)
