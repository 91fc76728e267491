// ClipGradNorm against hand-computed norms (torch.nn.utils.clip_grad_norm_ rule).
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training/grad_clip.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {

Tensor Vec(std::vector<float> v) {
  return Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v).value();
}

TEST(GradClipTest, ScalesWhenNormExceedsMax) {
  // ||[3, 4, 12]|| = 13; coef = 6.5 / (13 + 1e-6).
  Tensor a = Vec({3, 4});
  Tensor b = Vec({12});
  std::vector<Tensor*> grads = {&a, &b};
  ASSERT_OK_AND_ASSIGN(double norm, ClipGradNorm(absl::MakeSpan(grads), 6.5));
  EXPECT_DOUBLE_EQ(norm, 13.0);
  const double coef = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(a.data<float>()[0], 3 * coef, 1e-6);
  EXPECT_NEAR(a.data<float>()[1], 4 * coef, 1e-6);
  EXPECT_NEAR(b.data<float>()[0], 12 * coef, 1e-6);
  EXPECT_LT(b.data<float>()[0], 6.0f);  // really clipped, not left at 12
}

TEST(GradClipTest, LeavesSmallGradientsAlone) {
  Tensor a = Vec({3, 4});
  Tensor b = Vec({12});
  std::vector<Tensor*> grads = {&a, nullptr, &b};  // null = parameter without grad
  ASSERT_OK_AND_ASSIGN(double norm, ClipGradNorm(absl::MakeSpan(grads), 13.5));
  EXPECT_DOUBLE_EQ(norm, 13.0);
  EXPECT_EQ(a.data<float>()[0], 3.0f);
  EXPECT_EQ(a.data<float>()[1], 4.0f);
  EXPECT_EQ(b.data<float>()[0], 12.0f);
}

TEST(GradClipTest, LargeGradientUsesSameRule) {
  // 40000 elements of 0.5: norm = 0.5 * 200 = 100; max 1 -> every element 0.5 / (100 + 1e-6).
  Tensor a = Vec(std::vector<float>(40000, 0.5f));
  std::vector<Tensor*> grads = {&a};
  ASSERT_OK_AND_ASSIGN(double norm, ClipGradNorm(absl::MakeSpan(grads), 1.0));
  EXPECT_NEAR(norm, 100.0, 1e-9);
  for (float v : a.span<float>()) ASSERT_NEAR(v, 0.5 / (100.0 + 1e-6), 1e-9);
}

TEST(GradClipTest, EmptyAndErrors) {
  std::vector<Tensor*> none;
  ASSERT_OK_AND_ASSIGN(double norm, ClipGradNorm(absl::MakeSpan(none), 1.0));
  EXPECT_EQ(norm, 0.0);

  Tensor d = Tensor::Zeros(DataType::kFloat64, {2}).value();
  Tensor a = Vec({1});
  std::vector<Tensor*> grads = {&a, &d};
  auto bad = ClipGradNorm(absl::MakeSpan(grads), 1.0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("gradient 1"), std::string::npos);

  std::vector<Tensor*> ok = {&a};
  EXPECT_FALSE(ClipGradNorm(absl::MakeSpan(ok), -1.0).ok());
}

}  // namespace
}  // namespace onyx
