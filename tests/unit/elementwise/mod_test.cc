// Mod against NumPy's np.mod (fmod = 0) and np.fmod (fmod = 1), whose values
// for these inputs are written out here, and the refusals the spec asks for.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::IntAttr;
using op_test::Make;
using op_test::RunOneNode;
using op_test::Values;

const std::vector<int32_t> kA = {-4, 7, 5, 4, -7, 8, -9, 9};
const std::vector<int32_t> kB = {2, -3, 8, -2, 3, 5, 4, -4};

TEST(ModTest, IntegerModTakesTheDivisorsSign) {
  ASSERT_OK_AND_ASSIGN(Tensor y,
                       RunOneNode("Mod", {}, {Make<int32_t>({8}, kA), Make<int32_t>({8}, kB)}, 13));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{0, -2, 5, 0, 2, 3, 3, -3}));  // np.mod
}

TEST(ModTest, IntegerFmodTakesTheDividendsSign) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Mod", {IntAttr("fmod", 1)},
                                            {Make<int32_t>({8}, kA), Make<int32_t>({8}, kB)}, 13));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{0, 1, 5, 0, -1, 3, -1, 1}));  // np.fmod
}

TEST(ModTest, BroadcastsInt64AndUnsigned) {
  ASSERT_OK_AND_ASSIGN(
      Tensor y,
      RunOneNode("Mod", {}, {Make<int64_t>({2, 1}, {-7, 7}), Make<int64_t>({3}, {3, -3, 5})}, 10));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{2, -1, 3, 1, -2, 2}));
  ASSERT_OK_AND_ASSIGN(
      Tensor u, RunOneNode("Mod", {}, {Make<uint8_t>({2}, {200, 7}), Make<uint8_t>({1}, {7})}, 13));
  EXPECT_EQ(Values<uint8_t>(u), (std::vector<uint8_t>{4, 0}));
}

TEST(ModTest, SmallestIntegerModMinusOneIsZero) {
  const int64_t lowest = std::numeric_limits<int64_t>::lowest();
  for (int64_t fmod : {0, 1}) {
    ASSERT_OK_AND_ASSIGN(Tensor y,
                         RunOneNode("Mod", {IntAttr("fmod", fmod)},
                                    {Make<int64_t>({1}, {lowest}), Make<int64_t>({1}, {-1})}, 13));
    EXPECT_EQ(y.data<int64_t>()[0], 0);
  }
}

TEST(ModTest, FloatFmodIsCFmod) {
  const std::vector<float> a = {-4.3f, 7.2f, 5.f, 4.3f, -7.2f, 8.f, 1.f, 3.f};
  const std::vector<float> b = {2.1f, -3.4f, 8.f, -2.f,
                                3.4f, 5.f,   0.f, std::numeric_limits<float>::infinity()};
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Mod", {IntAttr("fmod", 1)},
                                            {Make<float>({8}, a), Make<float>({8}, b)}, 13));
  const std::vector<float> got = Values<float>(y);
  // np.fmod of the float32 inputs (the remainder is exact, so these are too).
  const std::vector<float> want = {-0.10000038146972656f, 0.39999961853027344f,  5.f,
                                   0.3000001907348633f,   -0.39999961853027344f, 3.f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(got[i], want[i]) << i;
  EXPECT_TRUE(std::isnan(got[6]));  // fmod(x, 0)
  EXPECT_EQ(got[7], 3.f);           // fmod(x, inf) = x
}

TEST(ModTest, RefusesWhatTheSpecForbids) {
  const auto fails = [](std::vector<Attribute> attrs, Tensor a, Tensor b, const char* what) {
    const auto y = RunOneNode("Mod", std::move(attrs), {std::move(a), std::move(b)}, 13);
    ASSERT_FALSE(y.ok());
    EXPECT_NE(y.status().message().find(what), std::string::npos) << y.status();
  };
  fails({}, Make<float>({1}, {1.f}), Make<float>({1}, {2.f}), "fmod must be 1");
  fails({}, Make<int32_t>({2}, {1, 2}), Make<int32_t>({2}, {3, 0}), "division by zero");
  fails({IntAttr("fmod", 2)}, Make<int32_t>({1}, {1}), Make<int32_t>({1}, {1}), "0 or 1");
  fails({}, Make<int32_t>({1}, {1}), Make<int64_t>({1}, {1}), "same dtype");
  fails({}, Make<int32_t>({2}, {1, 2}), Make<int32_t>({3}, {1, 2, 3}), "broadcast");
}

}  // namespace
}  // namespace onyx
