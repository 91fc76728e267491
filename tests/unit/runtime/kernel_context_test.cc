// KernelContext against hostile node shapes and the run's memory budget.
#include "runtime/kernel.h"

#include "runtime/shape.h"

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/runtime/test_kernels.h"

namespace onyx {
namespace {

// Fuzz finding crash-2e680409 (fuzz_model): a Squeeze node with no outputs made
// its kernel write output 0 past an empty output span.
TEST(KernelContextTest, FuzzOutputIndexPastTheNodesOutputsIsAnError) {
  Node node = testing::MakeNode("Squeeze", {"x"}, {"y"}, "sq");
  node.outputs.clear();
  KernelContext ctx(node, {}, {}, {});
  auto out = ctx.AllocateOutput(0, DataType::kFloat32, {2});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("Squeeze node \"sq\" has 0 outputs"), std::string::npos)
      << out.status();
  EXPECT_FALSE(ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, {2}).ok());
  EXPECT_FALSE(ctx.AllocateOutput(-1, DataType::kFloat32, {2}).ok());
  ctx.SetOutput(0, Tensor());  // dropped, no write
}

TEST(KernelContextTest, OutputsAreChargedToTheMemoryBudget) {
  Node node = testing::MakeNode("Op", {}, {"a", "b"}, "n");
  Tensor outputs[2];
  int64_t left = 40;
  KernelContext ctx(node, {}, {}, absl::MakeSpan(outputs), kDefaultMaxTensorBytes, &left);
  ASSERT_OK(ctx.AllocateOutput(0, DataType::kFloat32, {8}).status());
  EXPECT_EQ(left, 8);
  auto too_big = ctx.AllocateOutput(1, DataType::kFloat32, {3});
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(too_big.status().message().find("8 bytes left"), std::string::npos) << too_big.status();
  EXPECT_TRUE(outputs[1].empty());
  // Overflowing shapes are refused before any arithmetic can wrap.
  EXPECT_FALSE(ctx.AllocateOutput(1, DataType::kFloat32, {int64_t{1} << 62, 8}).ok());
  ASSERT_OK(ctx.AllocateOutput(1, DataType::kFloat32, {2}).status());
  EXPECT_EQ(left, 0);
}

// A zero dim makes the element count 0, but outer/inner sizes and strides of the
// other dims would still overflow: such shapes are refused.
TEST(ShapeLimitsTest, ZeroDimDoesNotHideOverflowingDims) {
  const int64_t big = int64_t{1} << 40;
  EXPECT_FALSE(CheckedNumElements({0, big, big}).ok());
  EXPECT_FALSE(CheckedNumElements({big, 0, big}).ok());
  ASSERT_OK_AND_ASSIGN(int64_t count, CheckedNumElements({0, big, 1 << 20}));
  EXPECT_EQ(count, 0);
  ASSERT_OK_AND_ASSIGN(count, CheckedNumElements({3, 0, 5}));
  EXPECT_EQ(count, 0);
  ASSERT_OK_AND_ASSIGN(count, CheckedNumElements({int64_t{1} << 31, int64_t{1} << 31}));
  EXPECT_EQ(count, int64_t{1} << 62);
}

}  // namespace
}  // namespace onyx
