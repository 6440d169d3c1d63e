/* The CHECK macro of the C API tests: reports a failed condition with its line and counts it;
 * the test's main returns non-zero when `failures` is not 0. */
#ifndef LEM_TEST_API_CHECK_H
#define LEM_TEST_API_CHECK_H

#include <stdio.h>

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#endif
