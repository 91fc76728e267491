// GoogleTest helpers for absl::Status / StatusOr (Debian's Abseil has none).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

#define ONYX_TEST_CONCAT_INNER(a, b) a##b
#define ONYX_TEST_CONCAT(a, b) ONYX_TEST_CONCAT_INNER(a, b)

#define EXPECT_OK(expr)                                \
  do {                                                 \
    const ::absl::Status onyx_s_ = ::onyx::ToStatus(expr); \
    EXPECT_TRUE(onyx_s_.ok()) << onyx_s_;              \
  } while (0)
#define ASSERT_OK(expr)                                \
  do {                                                 \
    const ::absl::Status onyx_s_ = ::onyx::ToStatus(expr); \
    ASSERT_TRUE(onyx_s_.ok()) << onyx_s_;              \
  } while (0)

// ASSERT_OK_AND_ASSIGN(auto x, MakeX());
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(ONYX_TEST_CONCAT(onyx_or_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(tmp).value()

namespace onyx {
inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace onyx
