// Shape arithmetic and checked tensor allocation.
#include "runtime/shape.h"

#include "gtest/gtest.h"
#include "runtime/tensor.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {

TEST(ShapeTest, CheckedNumElements) {
  ASSERT_OK_AND_ASSIGN(int64_t n, CheckedNumElements({2, 3, 4}));
  EXPECT_EQ(n, 24);
  ASSERT_OK_AND_ASSIGN(int64_t scalar, CheckedNumElements({}));
  EXPECT_EQ(scalar, 1);
  EXPECT_FALSE(CheckedNumElements({2, -1}).ok());
  EXPECT_FALSE(CheckedNumElements({int64_t{1} << 40, int64_t{1} << 40}).ok());
}

TEST(ShapeTest, Broadcast) {
  ASSERT_OK_AND_ASSIGN(Shape s, BroadcastShapes({3, 1}, {1, 4}));
  EXPECT_EQ(s, (Shape{3, 4}));
  ASSERT_OK_AND_ASSIGN(Shape t, BroadcastShapes({2, 3, 4}, {4}));
  EXPECT_EQ(t, (Shape{2, 3, 4}));
  ASSERT_OK_AND_ASSIGN(Shape z, BroadcastShapes({0, 1}, {1, 5}));
  EXPECT_EQ(z, (Shape{0, 5}));
  EXPECT_FALSE(BroadcastShapes({3}, {4}).ok());
}

TEST(ShapeTest, NormalizeAxis) {
  EXPECT_EQ(*NormalizeAxis(-1, 3), 2);
  EXPECT_EQ(*NormalizeAxis(0, 3), 0);
  EXPECT_FALSE(NormalizeAxis(3, 3).ok());
  EXPECT_FALSE(NormalizeAxis(-4, 3).ok());
}

TEST(TensorTest, RefusesHugeAndBadAllocations) {
  auto huge = Tensor::Zeros(DataType::kFloat32, {int64_t{1} << 40});
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  auto capped = Tensor::Zeros(DataType::kFloat32, {1000}, /*max_bytes=*/100);
  EXPECT_EQ(capped.status().code(), absl::StatusCode::kResourceExhausted);
  auto string_tensor = Tensor::Zeros(DataType::kString, {2});
  EXPECT_EQ(string_tensor.status().code(), absl::StatusCode::kUnimplemented);
  ASSERT_OK_AND_ASSIGN(Tensor empty, Tensor::Zeros(DataType::kFloat32, {0, 3}));
  EXPECT_EQ(empty.num_elements(), 0);
}

TEST(TensorTest, ReshapeSharesAndCloneCopies) {
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::FromVector<float>({2, 3}, v));
  ASSERT_OK_AND_ASSIGN(Tensor r, t.Reshaped({3, 2}));
  EXPECT_EQ(r.raw_data(), t.raw_data());
  EXPECT_FALSE(t.IsSoleOwner());
  EXPECT_FALSE(t.Reshaped({4}).ok());
  ASSERT_OK_AND_ASSIGN(Tensor c, t.Clone());
  EXPECT_NE(c.raw_data(), t.raw_data());
  EXPECT_EQ(c.data<float>()[5], 6.f);
}

}  // namespace
}  // namespace onyx
