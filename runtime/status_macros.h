// Small Status helpers that Debian's Abseil (20220623) does not ship.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ONYX_STATUS_CONCAT_INNER(a, b) a##b
#define ONYX_STATUS_CONCAT(a, b) ONYX_STATUS_CONCAT_INNER(a, b)

// Returns from the calling function when `expr` yields a non-OK absl::Status.
#define ONYX_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::absl::Status onyx_status_ = (expr);          \
    if (!onyx_status_.ok()) return onyx_status_;   \
  } while (0)

// `ONYX_ASSIGN_OR_RETURN(auto x, MakeX());` unwraps a StatusOr or returns its error.
#define ONYX_ASSIGN_OR_RETURN(lhs, expr) \
  ONYX_ASSIGN_OR_RETURN_IMPL(ONYX_STATUS_CONCAT(onyx_statusor_, __LINE__), lhs, expr)
#define ONYX_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// Internal invariants only: never for conditions a user can trigger.
#ifndef NDEBUG
#include <cstdio>
#include <cstdlib>
#define ONYX_DCHECK(cond)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: ONYX_DCHECK(%s) failed\n", __FILE__,        \
                   __LINE__, #cond);                                           \
      std::abort();                                                            \
    }                                                                          \
  } while (0)
#else
#define ONYX_DCHECK(cond) \
  do {                    \
  } while (0)
#endif
