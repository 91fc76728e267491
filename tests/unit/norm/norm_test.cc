// Norm family forward: BatchNormalization (inference at opsets 1-15 incl. legacy
// is_test / spatial / consumed_inputs, training with running statistics at
// opsets 9 and 15), LayerNormalization (axes, Mean / InvStdDev, broadcast Scale),
// InstanceNormalization and LRN (odd and even sizes), against double-precision
// references written here; errors and shape inference.
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/shape_inference.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"
#include "tests/unit/pool/run_node.h"

namespace onyx::pooltest {
namespace {

using mathgrad_test::FromDoubles;
using mathgrad_test::RandomValues;
using mathgrad_test::ToDoubles;

void ExpectNear(const Tensor& got, const std::vector<double>& want, double tol) {
  const std::vector<double> g = ToDoubles(got);
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_NEAR(g[i], want[i], tol * (1 + std::fabs(want[i]))) << "at " << i;
  }
}

// Reference batch norm over x [N, C, S] with per-channel (or, spatial = 0,
// per-(c, s)) statistics; training uses the batch mean and biased variance.
struct BnRef {
  std::vector<double> y, batch_mean, batch_var;
};
BnRef BatchNormRef(const std::vector<double>& x, int64_t n, int64_t c, int64_t s,
                   const std::vector<double>& scale, const std::vector<double>& bias,
                   const std::vector<double>& mean, const std::vector<double>& var, double eps,
                   bool training, bool spatial) {
  const int64_t params = spatial ? c : c * s;
  BnRef r;
  r.batch_mean.assign(params, 0);
  r.batch_var.assign(params, 0);
  auto param_of = [&](int64_t ci, int64_t si) { return spatial ? ci : ci * s + si; };
  const double count = spatial ? double(n * s) : double(n);
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t si = 0; si < s; ++si)
        r.batch_mean[param_of(ci, si)] += x[(ni * c + ci) * s + si] / count;
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t si = 0; si < s; ++si) {
        const int64_t p = param_of(ci, si);
        const double dv = x[(ni * c + ci) * s + si] - r.batch_mean[p];
        r.batch_var[p] += dv * dv / count;
      }
  for (int64_t ni = 0; ni < n; ++ni)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t si = 0; si < s; ++si) {
        const int64_t p = param_of(ci, si);
        const double m = training ? r.batch_mean[p] : mean[p];
        const double v = training ? r.batch_var[p] : var[p];
        r.y.push_back(scale[p] * (x[(ni * c + ci) * s + si] - m) / std::sqrt(v + eps) + bias[p]);
      }
  return r;
}

struct BnInputs {
  std::vector<double> x, scale, bias, mean, var;
};
BnInputs MakeBnInputs(int64_t xn, int64_t params) {
  return {RandomValues(xn, 1, -2, 3), RandomValues(params, 2, 0.5, 1.5), RandomValues(params, 3),
          RandomValues(params, 4), RandomValues(params, 5, 0.2, 2)};
}

std::vector<Tensor> BnTensors(DataType dtype, const Shape& x_shape, const Shape& p_shape,
                              const BnInputs& in) {
  return {FromDoubles(dtype, x_shape, in.x), FromDoubles(dtype, p_shape, in.scale),
          FromDoubles(dtype, p_shape, in.bias), FromDoubles(dtype, p_shape, in.mean),
          FromDoubles(dtype, p_shape, in.var)};
}

TEST(BatchNorm, InferenceAllOpsets) {
  const Shape xs = {2, 3, 4, 5};
  const BnInputs in = MakeBnInputs(120, 3);
  const BnRef ref =
      BatchNormRef(in.x, 2, 3, 20, in.scale, in.bias, in.mean, in.var, double(1e-3f), false, true);
  struct Version {
    int64_t opset;
    std::vector<Attribute> attrs;
  };
  const std::vector<Version> versions = {
      {1, {Ints("consumed_inputs", {0, 0, 0, 1, 1}), Int("is_test", 1), Float("epsilon", 1e-3f)}},
      {6, {Int("is_test", 1), Float("epsilon", 1e-3f)}},
      {7, {Int("spatial", 1), Float("epsilon", 1e-3f)}},
      {9, {Float("epsilon", 1e-3f)}},
      {15, {Float("epsilon", 1e-3f), Int("training_mode", 0)}}};
  for (const Version& v : versions) {
    for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
      SCOPED_TRACE(::testing::Message() << "opset " << v.opset << " " << DataTypeName(dtype));
      ASSERT_OK_AND_ASSIGN(
          std::vector<Tensor> out,
          RunNode("BatchNormalization", v.attrs, BnTensors(dtype, xs, {3}, in), v.opset));
      ExpectNear(out[0], ref.y, dtype == DataType::kFloat32 ? 1e-5 : 1e-12);
    }
  }
}

TEST(BatchNorm, TrainingModeOpset15RunningStats) {
  const Shape xs = {4, 3, 5};
  const BnInputs in = MakeBnInputs(60, 3);
  const BnRef ref =
      BatchNormRef(in.x, 4, 3, 5, in.scale, in.bias, in.mean, in.var, double(1e-5f), true, true);
  ASSERT_OK_AND_ASSIGN(
      std::vector<Tensor> out,
      RunNode("BatchNormalization", {Int("training_mode", 1), Float("momentum", 0.7f)},
              BnTensors(DataType::kFloat64, xs, {3}, in), 15, {"y", "rm", "rv"}));
  ExpectNear(out[0], ref.y, 1e-12);
  std::vector<double> rm, rv;
  for (int p = 0; p < 3; ++p) {
    rm.push_back(in.mean[p] * 0.7 + ref.batch_mean[p] * (1 - double(0.7f)));
    rv.push_back(in.var[p] * 0.7 + ref.batch_var[p] * (1 - double(0.7f)));
  }
  ExpectNear(out[1], rm, 1e-6);
  ExpectNear(out[2], rv, 1e-6);
}

TEST(BatchNorm, LegacyTrainingOutputsAndSpatialZero) {
  // Opset 7, spatial = 0: one statistic per (c, d) over the batch only; asking
  // for the extra outputs selects training mode.
  const Shape xs = {5, 2, 3};
  const BnInputs in = MakeBnInputs(30, 6);
  const BnRef ref =
      BatchNormRef(in.x, 5, 2, 3, in.scale, in.bias, in.mean, in.var, double(1e-5f), true, false);
  ASSERT_OK_AND_ASSIGN(
      std::vector<Tensor> out,
      RunNode("BatchNormalization", {Int("spatial", 0)},
              BnTensors(DataType::kFloat32, xs, {2, 3}, in), 7, {"y", "m", "v", "sm", "sv"}));
  ExpectNear(out[0], ref.y, 1e-5);
  ExpectNear(out[3], ref.batch_mean, 1e-5);
  ExpectNear(out[4], ref.batch_var, 1e-5);
  EXPECT_EQ(out[1].shape(), Shape({2, 3}));
  // Inference with spatial = 0 uses the per-(c, d) inputs.
  const BnRef inf =
      BatchNormRef(in.x, 5, 2, 3, in.scale, in.bias, in.mean, in.var, double(1e-5f), false, false);
  ASSERT_OK_AND_ASSIGN(out, RunNode("BatchNormalization", {Int("spatial", 0), Int("is_test", 1)},
                                    BnTensors(DataType::kFloat64, xs, {2, 3}, in), 6));
  ExpectNear(out[0], inf.y, 1e-12);
}

TEST(BatchNorm, TrainingOpset9TwoDimInput) {
  const Shape xs = {40, 3};
  const BnInputs in = MakeBnInputs(120, 3);
  const BnRef ref =
      BatchNormRef(in.x, 40, 3, 1, in.scale, in.bias, in.mean, in.var, double(1e-5f), true, true);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunNode("BatchNormalization", {}, BnTensors(DataType::kFloat32, xs, {3}, in),
                               9, {"y", "m", "v", "sm", "sv"}));
  ExpectNear(out[0], ref.y, 1e-5);
  ExpectNear(out[3], ref.batch_mean, 1e-5);
}

TEST(BatchNorm, Errors) {
  const BnInputs in = MakeBnInputs(24, 3);
  std::vector<Tensor> t = BnTensors(DataType::kFloat32, {2, 3, 4}, {3}, in);
  t[2] = FromDoubles(DataType::kFloat32, {2}, {1, 2});
  auto out = RunNode("BatchNormalization", {}, t, 15);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(std::string(out.status().message()).find("BatchNormalization node \"n0\""),
            std::string::npos);
  EXPECT_NE(std::string(out.status().message()).find("input B"), std::string::npos) << out.status();
  // Statistics outputs without training_mode.
  out = RunNode("BatchNormalization", {}, BnTensors(DataType::kFloat32, {2, 3, 4}, {3}, in), 15,
                {"y", "rm", "rv"});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(std::string(out.status().message()).find("training"), std::string::npos);
}

// Layer norm reference over [outer, inner] with scale/bias indexed by `param(j)`.
std::vector<double> LayerNormRef(const std::vector<double>& x, int64_t outer, int64_t inner,
                                 const std::vector<double>& scale, const std::vector<double>& bias,
                                 double eps, std::vector<double>* means = nullptr,
                                 std::vector<double>* inv_stds = nullptr) {
  std::vector<double> y;
  for (int64_t r = 0; r < outer; ++r) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < inner; ++j) m += x[r * inner + j] / inner;
    for (int64_t j = 0; j < inner; ++j) v += std::pow(x[r * inner + j] - m, 2) / inner;
    const double is = 1 / std::sqrt(v + eps);
    if (means) means->push_back(m);
    if (inv_stds) inv_stds->push_back(is);
    for (int64_t j = 0; j < inner; ++j) {
      y.push_back((x[r * inner + j] - m) * is * scale[j % scale.size()] +
                  (bias.empty() ? 0 : bias[j % bias.size()]));
    }
  }
  return y;
}

TEST(LayerNorm, AxesStatsAndBroadcastScale) {
  const Shape xs = {2, 3, 4};
  const std::vector<double> x = RandomValues(24, 9, -2, 2);
  for (int64_t axis : {-1, 1, 0, -2}) {
    const int a = axis < 0 ? int(axis) + 3 : int(axis);
    int64_t outer = 1;
    for (int i = 0; i < a; ++i) outer *= xs[i];
    const int64_t inner = 24 / outer;
    const Shape ps(xs.begin() + a, xs.end());
    const std::vector<double> scale = RandomValues(inner, 3, 0.5, 1.5),
                              bias = RandomValues(inner, 4);
    std::vector<double> means, inv_stds;
    const std::vector<double> want =
        LayerNormRef(x, outer, inner, scale, bias, double(1e-4f), &means, &inv_stds);
    for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
      SCOPED_TRACE(::testing::Message() << "axis " << axis << " " << DataTypeName(dtype));
      ASSERT_OK_AND_ASSIGN(
          std::vector<Tensor> out,
          RunNode("LayerNormalization", {Int("axis", axis), Float("epsilon", 1e-4f)},
                  {FromDoubles(dtype, xs, x), FromDoubles(dtype, ps, scale),
                   FromDoubles(dtype, ps, bias)},
                  17, {"y", "mean", "inv_std"}));
      const double tol = dtype == DataType::kFloat32 ? 1e-5 : 1e-12;
      ExpectNear(out[0], want, tol);
      ExpectNear(out[1], means, tol);
      ExpectNear(out[2], inv_stds, tol);
      Shape stat = xs;
      for (int i = a; i < 3; ++i) stat[i] = 1;
      EXPECT_EQ(out[1].shape(), stat);
    }
  }
  // Scale [1, 4] broadcast over the normalized [3, 4]; no B.
  const std::vector<double> s4 = RandomValues(4, 6, 0.5, 1.5);
  ASSERT_OK_AND_ASSIGN(
      std::vector<Tensor> out,
      RunNode("LayerNormalization", {Int("axis", 1)},
              {FromDoubles(DataType::kFloat64, xs, x), FromDoubles(DataType::kFloat64, {1, 4}, s4)},
              17));
  ExpectNear(out[0], LayerNormRef(x, 2, 12, s4, {}, double(1e-5f)), 1e-12);
  // Scale of exactly the normalized dims [4] (the in-place path), no B, float32.
  ASSERT_OK_AND_ASSIGN(
      out, RunNode("LayerNormalization", {},
                   {FromDoubles(DataType::kFloat32, xs, x), FromDoubles(DataType::kFloat32, {4}, s4)},
                   17));
  ExpectNear(out[0], LayerNormRef(x, 6, 4, s4, {}, double(1e-5f)), 1e-5);
}

// The float32 fast path (Scale and B of the normalized dims): rows of 256 and 1000
// (not a multiple of the vector width), an offset mean (the variance is taken
// around the mean, not as E[x^2] - mean^2), and an input large enough for threads.
TEST(LayerNorm, WideFloatRows) {
  for (const auto& [outer, inner, offset] :
       std::vector<std::tuple<int64_t, int64_t, double>>{{128, 256, 0.0}, {3, 1000, 50.0},
                                                          {300, 1000, 3.0}}) {
    SCOPED_TRACE(::testing::Message() << outer << " x " << inner << " offset " << offset);
    std::vector<double> x = RandomValues(outer * inner, 21, -2, 2);
    for (double& v : x) v = double(float(v + offset));  // the values float32 holds
    std::vector<double> scale = RandomValues(inner, 22, 0.5, 1.5), bias = RandomValues(inner, 23);
    for (double& v : scale) v = double(float(v));
    for (double& v : bias) v = double(float(v));
    std::vector<double> means, inv_stds;
    const std::vector<double> want =
        LayerNormRef(x, outer, inner, scale, bias, double(1e-5f), &means, &inv_stds);
    ASSERT_OK_AND_ASSIGN(
        std::vector<Tensor> out,
        RunNode("LayerNormalization", {},
                {FromDoubles(DataType::kFloat32, {outer, inner}, x),
                 FromDoubles(DataType::kFloat32, {inner}, scale),
                 FromDoubles(DataType::kFloat32, {inner}, bias)},
                17, {"y", "mean", "inv_std"}));
    ExpectNear(out[0], want, 2e-5);
    ExpectNear(out[1], means, 2e-5);
    ExpectNear(out[2], inv_stds, 2e-5);
  }
}

TEST(LayerNorm, ErrorsAndShape) {
  const Tensor x = FromDoubles(DataType::kFloat32, {2, 3}, RandomValues(6, 1));
  auto out = RunNode("LayerNormalization", {Int("axis", 2)},
                     {x, FromDoubles(DataType::kFloat32, {3}, {1, 1, 1})}, 17);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(std::string(out.status().message()).find("LayerNormalization node \"n0\""),
            std::string::npos);
  out = RunNode("LayerNormalization", {}, {x, FromDoubles(DataType::kFloat32, {2}, {1, 1})}, 17);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(std::string(out.status().message()).find("Scale"), std::string::npos) << out.status();
  Graph g = NodeGraph("LayerNormalization", {Int("axis", 1)},
                      {FromDoubles(DataType::kFloat32, {4, 3, 5}, std::vector<double>(60, 0)),
                       FromDoubles(DataType::kFloat32, {3, 5}, std::vector<double>(15, 1))},
                      17, {"y", "m", "is"});
  g.inputs[0].dims[0] = Dim{-1, "batch"};
  ASSERT_OK(InferShapes(g, DefaultRegistry()));
  EXPECT_EQ(DimsToString(g.value_info[0]), "[batch,3,5]");
  EXPECT_EQ(DimsToString(g.value_info[1]), "[batch,1,1]");
}

TEST(InstanceNorm, MatchesReference) {
  const Shape xs = {2, 3, 4, 5};
  const std::vector<double> x = RandomValues(120, 8, -2, 3);
  const std::vector<double> scale = RandomValues(3, 2, 0.5, 1.5), bias = RandomValues(3, 3);
  std::vector<double> want;
  for (int plane = 0; plane < 6; ++plane) {
    const std::vector<double> row(x.begin() + plane * 20, x.begin() + plane * 20 + 20);
    const std::vector<double> y =
        LayerNormRef(row, 1, 20, {scale[plane % 3]}, {bias[plane % 3]}, double(1e-3f));
    want.insert(want.end(), y.begin(), y.end());
  }
  for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                         RunNode("InstanceNormalization", {Float("epsilon", 1e-3f)},
                                 {FromDoubles(dtype, xs, x), FromDoubles(dtype, {3}, scale),
                                  FromDoubles(dtype, {3}, bias)},
                                 22));
    ExpectNear(out[0], want, dtype == DataType::kFloat32 ? 1e-5 : 1e-12);
  }
  auto bad =
      RunNode("InstanceNormalization", {},
              {FromDoubles(DataType::kFloat32, xs, x), FromDoubles(DataType::kFloat32, {2}, {1, 1}),
               FromDoubles(DataType::kFloat32, {3}, bias)},
              22);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("scale"), std::string::npos);
}

TEST(Lrn, OddAndEvenSizes) {
  // C = 16 takes oneDNN's jit LRN for odd sizes; C = 6 and even sizes the loop.
  for (const Shape& xs : {Shape{2, 6, 3, 2}, Shape{2, 16, 5, 6}}) {
    const int64_t c_size = xs[1], s_size = xs[2] * xs[3];
    const std::vector<double> x = RandomValues(NumElements(xs), 4, -2, 2);
    for (int64_t size : {1, 3, 4, 5}) {
      std::vector<double> want(x.size());
      const double alpha = 2e-2, beta = size == 3 ? 0.6 : 0.75, bias = 1.5;
      for (int64_t n = 0; n < 2; ++n)
        for (int64_t c = 0; c < c_size; ++c)
          for (int64_t s = 0; s < s_size; ++s) {
            double sq = 0;
            for (int64_t k = c - (size - 1) / 2; k <= c + size / 2; ++k) {
              if (k >= 0 && k < c_size) sq += std::pow(x[(n * c_size + k) * s_size + s], 2);
            }
            const int64_t i = (n * c_size + c) * s_size + s;
            want[i] = x[i] / std::pow(bias + double(float(alpha)) / size * sq, beta);
          }
      for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
        SCOPED_TRACE(::testing::Message() << ShapeToString(xs) << " size " << size);
        ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                             RunNode("LRN",
                                     {Int("size", size), Float("alpha", float(alpha)),
                                      Float("beta", float(beta)), Float("bias", float(bias))},
                                     {FromDoubles(dtype, xs, x)}, 13));
        ExpectNear(out[0], want, dtype == DataType::kFloat32 ? 1e-5 : 1e-7);
      }
    }
  }
  const Shape xs = {2, 6, 3, 2};
  const std::vector<double> x = RandomValues(72, 4, -2, 2);
  auto bad = RunNode("LRN", {}, {FromDoubles(DataType::kFloat32, xs, x)}, 13);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("LRN node \"n0\""), std::string::npos);
}

// Shapes large enough for the OpenMP paths (>= 32768 units of work) and the
// long-row statistics path of BatchNormalization.
TEST(NormLarge, ThreadedPathsMatchReferences) {
  const Shape xs = {8, 16, 32, 32};
  const int64_t total = NumElements(xs);
  const BnInputs in = MakeBnInputs(total, 16);
  const BnRef ref = BatchNormRef(in.x, 8, 16, 1024, in.scale, in.bias, in.mean, in.var,
                                 double(1e-5f), true, true);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunNode("BatchNormalization", {Int("training_mode", 1)},
                               BnTensors(DataType::kFloat32, xs, {16}, in), 15));
  ExpectNear(out[0], ref.y, 1e-4);
  const std::vector<double> scale = RandomValues(1024, 3, 0.5, 1.5), bias = RandomValues(1024, 4);
  ASSERT_OK_AND_ASSIGN(out, RunNode("LayerNormalization", {Int("axis", 2)},
                                    {FromDoubles(DataType::kFloat32, xs, in.x),
                                     FromDoubles(DataType::kFloat32, {32, 32}, scale),
                                     FromDoubles(DataType::kFloat32, {32, 32}, bias)},
                                    17));
  ExpectNear(out[0], LayerNormRef(in.x, 128, 1024, scale, bias, double(1e-5f)), 1e-4);
  std::vector<double> want;
  for (int64_t plane = 0; plane < 128; ++plane) {
    const std::vector<double> row(in.x.begin() + plane * 1024, in.x.begin() + plane * 1024 + 1024);
    const std::vector<double> y =
        LayerNormRef(row, 1, 1024, {in.scale[plane % 16]}, {in.bias[plane % 16]}, double(1e-5f));
    want.insert(want.end(), y.begin(), y.end());
  }
  ASSERT_OK_AND_ASSIGN(out, RunNode("InstanceNormalization", {},
                                    {FromDoubles(DataType::kFloat64, xs, in.x),
                                     FromDoubles(DataType::kFloat64, {16}, in.scale),
                                     FromDoubles(DataType::kFloat64, {16}, in.bias)},
                                    22));
  ExpectNear(out[0], want, 1e-10);
}

}  // namespace
}  // namespace onyx::pooltest
