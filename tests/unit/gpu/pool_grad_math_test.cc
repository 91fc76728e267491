// The per-element math of the CUDA MaxPoolGrad / AveragePoolGrad kernels
// (ops/pool/pool_grad_math.h, the very functions the .cu kernels call) run on
// the CPU: against hand-worked values, and element for element against the
// CPU kernels' scatter loops (pool_loops.h) over a table of geometries,
// ties and NaNs included. No GPU needed: runs in every build.
#include "ops/pool/pool_grad_math.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/pool/pool_cuda_mapping.h"
#include "ops/pool/pool_loops.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using ::testing::ElementsAre;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

absl::StatusOr<pool::PoolGeometry> Geometry(std::vector<Attribute> attrs, const Shape& x) {
  Node node;
  node.name = "n0";
  node.op_type = "MaxPool";
  node.inputs = {"x"};
  node.outputs = {"y"};
  node.attributes = std::move(attrs);
  auto parsed = pool::ParsePoolAttrs(node);
  if (!parsed.ok()) return parsed.status();
  return pool::MakePoolGeometry(node, *parsed, x);
}

template <typename T>
std::vector<T> MaxGrad(const pool::PoolGeometry& g, const std::vector<T>& dy,
                       const std::vector<T>& x) {
  const pool::PoolGradDims d = pool::ToPoolGradDims(g);
  std::vector<T> dx(x.size());
  for (int64_t i = 0; i < static_cast<int64_t>(dx.size()); ++i) {
    dx[i] = pool::MaxPoolGradAt(d, dy.data(), x.data(), i);
  }
  return dx;
}

template <typename T>
std::vector<T> AverageGrad(const pool::PoolGeometry& g, bool include_pad, const std::vector<T>& dy,
                           int64_t x_size) {
  const pool::PoolGradDims d = pool::ToPoolGradDims(g);
  std::vector<T> dx(x_size);
  for (int64_t i = 0; i < x_size; ++i) {
    dx[i] = pool::AveragePoolGradAt(d, include_pad, dy.data(), i);
  }
  return dx;
}

TEST(PoolGradMath, MaxRoutesTiesToTheFirstMaximum) {
  // x = [1, 3, 3, 2], window 2, stride 1: windows {1,3} -> x[1], {3,3} -> x[1]
  // (the first of the tie), {3,2} -> x[2].
  ASSERT_OK_AND_ASSIGN(pool::PoolGeometry g, Geometry({IntsAttr("kernel_shape", {2})}, {1, 1, 4}));
  EXPECT_THAT(MaxGrad<double>(g, {1, 10, 100}, {1, 3, 3, 2}), ElementsAre(0, 11, 100, 0));
  // A 2x2 plane of equal values, one 2x2 window: all of dy goes to element 0.
  ASSERT_OK_AND_ASSIGN(g, Geometry({IntsAttr("kernel_shape", {2, 2})}, {1, 1, 2, 2}));
  EXPECT_THAT(MaxGrad<float>(g, {5}, {7, 7, 7, 7}), ElementsAre(5, 0, 0, 0));
}

TEST(PoolGradMath, AverageDivisorsFollowCountIncludePad) {
  // x of 3, window 2, pads 1+1, stride 1: 4 windows covering 1, 2, 2, 1 inputs
  // (2 each with the pads counted).
  ASSERT_OK_AND_ASSIGN(
      pool::PoolGeometry g,
      Geometry({IntsAttr("kernel_shape", {2}), IntsAttr("pads", {1, 1})}, {1, 1, 3}));
  const std::vector<double> dy = {1, 2, 4, 8};
  // dx0 = 1/1 + 2/2, dx1 = 2/2 + 4/2, dx2 = 4/2 + 8/1.
  EXPECT_THAT(AverageGrad(g, false, dy, 3), ElementsAre(2, 3, 10));
  // All divisors 2.
  EXPECT_THAT(AverageGrad(g, true, dy, 3), ElementsAre(1.5, 3, 6));
}

TEST(PoolGradMath, GeometryIsRightAligned) {
  ASSERT_OK_AND_ASSIGN(pool::PoolGeometry g,
                       Geometry({IntsAttr("kernel_shape", {3}), IntsAttr("strides", {2}),
                                 IntsAttr("dilations", {2}), IntsAttr("pads", {1, 2})},
                                {2, 3, 11}));
  const pool::PoolGradDims d = pool::ToPoolGradDims(g);
  EXPECT_EQ(d.planes, 6);
  EXPECT_THAT(d.in, ElementsAre(1, 1, 11));
  EXPECT_THAT(d.out, ElementsAre(1, 1, 5));  // (11 + 3 - 5) / 2 + 1
  EXPECT_THAT(d.kernel, ElementsAre(1, 1, 3));
  EXPECT_THAT(d.stride, ElementsAre(1, 1, 2));
  EXPECT_THAT(d.dilation, ElementsAre(1, 1, 2));
  EXPECT_THAT(d.pad_begin, ElementsAre(0, 0, 1));
  EXPECT_THAT(d.pad_end, ElementsAre(0, 0, 2));
}

struct GradCase {
  std::string name;
  Shape x;
  std::vector<Attribute> attrs;
};

class PoolGradMathVsLoops : public ::testing::TestWithParam<GradCase> {};

// Values from a few levels (many ties), or continuous; dy continuous.
template <typename T>
std::vector<T> Values(int64_t n, bool ties, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-2, 2);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(ties ? std::floor(dist(rng)) : dist(rng));
  return v;
}

template <typename T>
void ExpectSameBits(const std::vector<T>& gather, const std::vector<T>& scatter) {
  ASSERT_EQ(gather.size(), scatter.size());
  int bad = 0;
  for (size_t i = 0; i < gather.size(); ++i) {
    const bool same = gather[i] == scatter[i] || (std::isnan(gather[i]) && std::isnan(scatter[i]));
    if (!same && bad++ < 5) ADD_FAILURE() << "[" << i << "] " << gather[i] << " vs " << scatter[i];
  }
}

template <typename T>
void CheckAgainstLoops(const GradCase& c) {
  ASSERT_OK_AND_ASSIGN(pool::PoolGeometry g, Geometry(c.attrs, c.x));
  const int64_t n = NumElements(c.x), m = NumElements(g.output_shape);
  const std::vector<T> dy = Values<T>(m, false, 3);
  for (bool ties : {true, false}) {
    std::vector<T> x = Values<T>(n, ties, 7);
    if (!ties && n > 4) x[n / 2] = x[1] = std::numeric_limits<T>::quiet_NaN();
    std::vector<T> scatter(n);
    pool::MaxPoolBackwardLoop(g, dy.data(), x.data(), scatter.data());
    SCOPED_TRACE(ties ? "MaxPoolGrad, ties" : "MaxPoolGrad, NaNs");
    ExpectSameBits(MaxGrad(g, dy, x), scatter);
  }
  for (bool include_pad : {false, true}) {
    std::vector<T> scatter(n);
    pool::AveragePoolBackwardLoop(g, include_pad, dy.data(), scatter.data());
    SCOPED_TRACE(include_pad ? "AveragePoolGrad, count_include_pad" : "AveragePoolGrad");
    ExpectSameBits(AverageGrad(g, include_pad, dy, n), scatter);
  }
}

TEST_P(PoolGradMathVsLoops, Float) { CheckAgainstLoops<float>(GetParam()); }
TEST_P(PoolGradMathVsLoops, Double) { CheckAgainstLoops<double>(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    All, PoolGradMathVsLoops,
    ::testing::Values(
        GradCase{"Resnet3x3Stride2",
                 {2, 3, 9, 10},
                 {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}),
                  IntsAttr("pads", {1, 1, 1, 1})}},
        GradCase{"Overlap2x2Stride1", {1, 2, 5, 6}, {IntsAttr("kernel_shape", {2, 2})}},
        GradCase{"StrideBeyondWindow",
                 {1, 2, 9, 9},
                 {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {3, 3})}},
        GradCase{"UnevenPads",
                 {1, 2, 7, 8},
                 {IntsAttr("kernel_shape", {3, 2}), IntsAttr("pads", {2, 0, 0, 1})}},
        GradCase{"Dilations",
                 {1, 2, 10, 9},
                 {IntsAttr("kernel_shape", {3, 2}), IntsAttr("dilations", {2, 3}),
                  IntsAttr("strides", {1, 2}), IntsAttr("pads", {1, 1, 2, 2})}},
        GradCase{"CeilMode",
                 {1, 2, 7, 7},
                 {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}),
                  IntAttr("ceil_mode", 1)}},
        GradCase{"CeilModePadded",
                 {1, 1, 6, 8},
                 {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 3}),
                  IntsAttr("pads", {1, 1, 1, 1}), IntAttr("ceil_mode", 1)}},
        GradCase{"SameLower",
                 {1, 2, 8, 7},
                 {IntsAttr("kernel_shape", {2, 3}), IntsAttr("strides", {2, 2}),
                  StringAttr("auto_pad", "SAME_LOWER")}},
        GradCase{
            "OneDimensional",
            {2, 3, 17},
            {IntsAttr("kernel_shape", {4}), IntsAttr("strides", {2}), IntsAttr("pads", {2, 1})}},
        GradCase{"ThreeDimensional",
                 {1, 2, 5, 6, 7},
                 {IntsAttr("kernel_shape", {3, 2, 3}), IntsAttr("strides", {2, 1, 2}),
                  IntsAttr("pads", {1, 0, 1, 1, 1, 0})}},
        GradCase{"WindowIsThePlane", {2, 2, 4, 4}, {IntsAttr("kernel_shape", {4, 4})}}),
    [](const ::testing::TestParamInfo<GradCase>& info) { return info.param.name; });

}  // namespace
}  // namespace onyx
