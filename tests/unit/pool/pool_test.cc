// Pool family forward: MaxPool / AveragePool / LpPool (1-3 D, strides, pads,
// auto_pad, dilations, ceil_mode, count_include_pad, Indices with both storage
// orders) and the global pools, against a naive double-precision reference that
// visits every kernel tap; float32 exercises the oneDNN path, float64 the loops.
#include <cmath>
#include <string>
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

struct PoolCase {
  std::string op;
  Shape x;
  std::vector<int64_t> kernel = {}, strides = {}, pads = {}, dilations = {};
  std::string auto_pad = "NOTSET";
  int ceil_mode = 0;
  int count_include_pad = 0;
  int p = 2;
};

std::ostream& operator<<(std::ostream& os, const PoolCase& c) {
  os << c.op << " x" << ShapeToString(c.x) << " k" << ShapeToString(c.kernel) << " s"
     << ShapeToString(c.strides) << " pads" << ShapeToString(c.pads) << " d"
     << ShapeToString(c.dilations) << " " << c.auto_pad << " ceil=" << c.ceil_mode
     << " incl=" << c.count_include_pad;
  return os;
}

std::vector<Attribute> Attrs(const PoolCase& c) {
  std::vector<Attribute> a = {Ints("kernel_shape", c.kernel)};
  if (!c.strides.empty()) a.push_back(Ints("strides", c.strides));
  if (!c.pads.empty()) a.push_back(Ints("pads", c.pads));
  if (!c.dilations.empty()) a.push_back(Ints("dilations", c.dilations));
  if (c.auto_pad != "NOTSET") a.push_back(String("auto_pad", c.auto_pad));
  if (c.ceil_mode) a.push_back(Int("ceil_mode", 1));
  if (c.count_include_pad) a.push_back(Int("count_include_pad", 1));
  if (c.op == "LpPool") a.push_back(Int("p", c.p));
  return a;
}

// The reference: output sizes from the ONNX formulas in floating point, then
// every tap of every window tested against the input and padded bounds.
struct RefResult {
  Shape shape;
  std::vector<double> y;
  std::vector<int64_t> argmax;  // flat row-major index of the first maximum
};

RefResult Reference(const PoolCase& c, const std::vector<double>& x) {
  const size_t k = c.kernel.size();
  std::vector<int64_t> s(k, 1), d(k, 1), pb(k, 0), pe(k, 0), out(k);
  for (size_t i = 0; i < k; ++i) {
    if (!c.strides.empty()) s[i] = c.strides[i];
    if (!c.dilations.empty()) d[i] = c.dilations[i];
    if (!c.pads.empty()) pb[i] = c.pads[i], pe[i] = c.pads[i + k];
    const double in = double(c.x[i + 2]);
    const double span = double((c.kernel[i] - 1) * d[i] + 1);
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      out[i] = int64_t(std::ceil(in / s[i]));
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * s[i] + int64_t(span) - int64_t(in));
      pb[i] = c.auto_pad == "SAME_LOWER" ? (total + 1) / 2 : total / 2;
      pe[i] = total - pb[i];
    } else {
      if (c.auto_pad == "VALID") pb[i] = pe[i] = 0;
      const double q = (in + pb[i] + pe[i] - span) / s[i];
      out[i] = int64_t(c.ceil_mode ? std::ceil(q) : std::floor(q)) + 1;
      if (c.ceil_mode && (out[i] - 1) * s[i] >= in + pb[i]) --out[i];
    }
  }
  RefResult r;
  r.shape = {c.x[0], c.x[1]};
  for (int64_t o : out) r.shape.push_back(o);
  const int64_t planes = c.x[0] * c.x[1];
  int64_t in_plane = 1, out_plane = 1, taps = 1;
  for (size_t i = 0; i < k; ++i) in_plane *= c.x[i + 2], out_plane *= out[i], taps *= c.kernel[i];
  for (int64_t plane = 0; plane < planes; ++plane) {
    for (int64_t o = 0; o < out_plane; ++o) {
      std::vector<int64_t> oi(k);
      for (int64_t rest = o, i = int64_t(k) - 1; i >= 0; --i) oi[i] = rest % out[i], rest /= out[i];
      double acc = 0, best = -INFINITY;
      int64_t valid = 0, padded = 0, best_at = -1;
      for (int64_t t = 0; t < taps; ++t) {
        bool inside = true, inside_pads = true;
        std::vector<int64_t> pos(k);
        for (int64_t rest = t, i = int64_t(k) - 1; i >= 0; --i) {
          const int64_t ti = rest % c.kernel[i];
          rest /= c.kernel[i];
          pos[i] = oi[i] * s[i] - pb[i] + ti * d[i];
          inside &= pos[i] >= 0 && pos[i] < c.x[i + 2];
          inside_pads &= pos[i] >= -pb[i] && pos[i] < c.x[i + 2] + pe[i];
        }
        if (inside_pads) ++padded;
        if (!inside) continue;
        int64_t flat = 0;
        for (size_t i = 0; i < k; ++i) flat = flat * c.x[i + 2] + pos[i];
        const double v = x[plane * in_plane + flat];
        ++valid;
        if (c.op == "MaxPool") {
          if (best_at < 0 || v > best) best = v, best_at = flat;
        } else if (c.op == "AveragePool") {
          acc += v;
        } else {
          acc += std::pow(std::fabs(v), c.p);
        }
      }
      double y;
      if (c.op == "MaxPool") {
        y = best;
      } else if (c.op == "AveragePool") {
        y = acc / double(c.count_include_pad ? padded : valid);
      } else {
        y = std::pow(acc, 1.0 / c.p);
      }
      r.y.push_back(y);
      r.argmax.push_back(plane * in_plane + best_at);
    }
  }
  return r;
}

class PoolForward : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolForward, MatchesReference) {
  const PoolCase& c = GetParam();
  const std::vector<double> x = RandomValues(NumElements(c.x), 7, -3, 3);
  const RefResult ref = Reference(c, x);
  for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
    SCOPED_TRACE(DataTypeName(dtype));
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                         RunNode(c.op, Attrs(c), {FromDoubles(dtype, c.x, x)}, 22));
    ASSERT_EQ(out[0].shape(), ref.shape);
    ASSERT_EQ(out[0].dtype(), dtype);
    const std::vector<double> got = ToDoubles(out[0]);
    const double tol = dtype == DataType::kFloat32 ? 1e-5 : 1e-12;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_NEAR(got[i], ref.y[i], tol * (1 + std::fabs(ref.y[i]))) << "at " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PoolForward,
    ::testing::Values(
        PoolCase{"MaxPool", {2, 3, 9}, {3}},
        PoolCase{"MaxPool", {1, 2, 7, 8}, {3, 2}, {2, 1}, {1, 0, 1, 1}},
        PoolCase{"MaxPool", {1, 2, 7, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, "NOTSET", 1},
        PoolCase{"MaxPool", {1, 1, 9, 9}, {3, 3}, {1, 1}, {}, {2, 2}},
        PoolCase{"MaxPool", {2, 2, 6, 7}, {3, 2}, {2, 3}, {}, {}, "SAME_UPPER"},
        PoolCase{"MaxPool", {2, 2, 6, 7}, {3, 2}, {2, 3}, {}, {}, "SAME_LOWER"},
        PoolCase{"MaxPool", {1, 2, 5, 6, 7}, {2, 3, 2}, {1, 2, 2}, {0, 1, 0, 1, 1, 1}},
        PoolCase{"MaxPool", {1, 1, 8, 8, 8}, {2, 2, 2}, {1, 1, 1}, {}, {2, 2, 3}},
        PoolCase{"AveragePool", {2, 3, 9}, {4}, {2}, {1, 2}},
        PoolCase{"AveragePool", {1, 2, 7, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
        PoolCase{"AveragePool", {1, 2, 7, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, "NOTSET", 0, 1},
        PoolCase{"AveragePool", {1, 2, 7, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, "NOTSET", 1, 1},
        PoolCase{"AveragePool", {1, 2, 7, 8}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {}, "NOTSET", 1, 0},
        PoolCase{
            "AveragePool", {1, 1, 10, 9}, {3, 2}, {2, 1}, {1, 1, 1, 0}, {2, 3}, "NOTSET", 1, 1},
        PoolCase{"AveragePool", {2, 1, 6, 7}, {3, 3}, {2, 2}, {}, {}, "SAME_UPPER", 0, 1},
        PoolCase{"AveragePool", {2, 1, 6, 7}, {2, 3}, {1, 2}, {}, {}, "VALID"},
        PoolCase{"AveragePool",
                 {1, 2, 5, 6, 7},
                 {2, 3, 3},
                 {2, 2, 2},
                 {1, 1, 1, 1, 1, 1},
                 {},
                 "NOTSET",
                 1,
                 1},
        PoolCase{"LpPool", {1, 2, 7, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, "NOTSET", 0, 0, 2},
        PoolCase{"LpPool", {1, 2, 9}, {3}, {2}, {}, {}, "NOTSET", 0, 0, 1},
        // Large enough for the OpenMP paths (>= 32768 units of work).
        PoolCase{"MaxPool", {4, 8, 64, 64}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
        PoolCase{"AveragePool", {4, 8, 64, 64}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, "NOTSET", 1, 1},
        PoolCase{"LpPool", {1, 2, 6, 6}, {2, 2}, {2, 2}, {}, {1, 2}, "NOTSET", 1, 0, 3}));

TEST(MaxPool, IndicesRowAndColumnMajor) {
  const PoolCase c{"MaxPool", {2, 3, 7, 6}, {3, 2}, {2, 2}, {1, 0, 1, 1}};
  const std::vector<double> x = RandomValues(NumElements(c.x), 3, -3, 3);
  const RefResult ref = Reference(c, x);
  for (int order : {0, 1}) {
    std::vector<Attribute> attrs = Attrs(c);
    attrs.push_back(Int("storage_order", order));
    ASSERT_OK_AND_ASSIGN(
        std::vector<Tensor> out,
        RunNode("MaxPool", attrs, {FromDoubles(DataType::kFloat32, c.x, x)}, 12, {"y", "indices"}));
    ASSERT_EQ(out[1].dtype(), DataType::kInt64);
    ASSERT_EQ(out[1].shape(), ref.shape);
    for (int64_t i = 0; i < out[1].num_elements(); ++i) {
      int64_t want = ref.argmax[i];
      if (order == 1) {  // (h, w) of the plane stored column-major: h + w * H
        const int64_t plane = want / 42, h = want % 42 / 6, w = want % 6;
        want = plane * 42 + h + w * 7;
      }
      ASSERT_EQ(out[1].data<int64_t>()[i], want) << "order " << order << " at " << i;
      ASSERT_EQ(out[0].data<float>()[i], float(ref.y[i]));
    }
  }
}

TEST(MaxPool, Int8AndUint8) {
  const PoolCase c{"MaxPool", {1, 2, 5, 5}, {2, 2}, {2, 2}, {0, 0, 1, 1}};
  std::vector<double> x(50);
  for (size_t i = 0; i < x.size(); ++i) x[i] = double(int(i * 37 % 101) - 50);
  const RefResult ref = Reference(c, x);
  std::vector<int8_t> xi(x.begin(), x.end());
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::FromVector<int8_t>(c.x, xi));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, RunNode("MaxPool", Attrs(c), {t}, 12));
  ASSERT_EQ(out[0].dtype(), DataType::kInt8);
  for (int64_t i = 0; i < out[0].num_elements(); ++i) {
    EXPECT_EQ(out[0].data<int8_t>()[i], int8_t(ref.y[i]));
  }
  std::vector<uint8_t> xu;
  for (double v : x) xu.push_back(uint8_t(v + 50));
  ASSERT_OK_AND_ASSIGN(Tensor u, Tensor::FromVector<uint8_t>(c.x, xu));
  ASSERT_OK_AND_ASSIGN(out, RunNode("MaxPool", Attrs(c), {u}, 12));
  for (int64_t i = 0; i < out[0].num_elements(); ++i) {
    EXPECT_EQ(out[0].data<uint8_t>()[i], uint8_t(ref.y[i] + 50));
  }
}

TEST(GlobalPool, AverageMaxLp) {
  const Shape shape = {2, 3, 4, 5};
  const std::vector<double> x = RandomValues(120, 5, -2, 2);
  for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}) {
      ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                           RunNode(op, {}, {FromDoubles(dtype, shape, x)}, 22));
      ASSERT_EQ(out[0].shape(), Shape({2, 3, 1, 1}));
      const std::vector<double> got = ToDoubles(out[0]);
      for (int plane = 0; plane < 6; ++plane) {
        double sum = 0, sq = 0, best = -INFINITY;
        for (int i = 0; i < 20; ++i) {
          const double v = x[plane * 20 + i];
          sum += v, sq += v * v, best = std::max(best, v);
        }
        const std::string name = op;
        const double want = name == "GlobalAveragePool" ? sum / 20
                            : name == "GlobalMaxPool"   ? best
                                                        : std::sqrt(sq);
        EXPECT_NEAR(got[plane], want, 1e-5) << op;
      }
    }
  }
}

TEST(LpPool, Opset1FloatPAndGlobalLpPool) {
  // LpPool-1 stores p as a float attribute; p = 3 over 2x2 windows, stride 2.
  const Shape shape = {1, 2, 4, 4};
  const std::vector<double> x = RandomValues(32, 12, -2, 2);
  Attribute p;
  p.name = "p";
  p.type = AttrType::kFloat;
  p.f = 3;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunNode("LpPool", {Ints("kernel_shape", {2, 2}), Ints("strides", {2, 2}), p},
                               {FromDoubles(DataType::kFloat64, shape, x)}, 1));
  const RefResult ref = Reference({"LpPool", shape, {2, 2}, {2, 2}, {}, {}, "NOTSET", 0, 0, 3}, x);
  ASSERT_EQ(out[0].shape(), ref.shape);
  const std::vector<double> got = ToDoubles(out[0]);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref.y[i], 1e-12);
  // GlobalLpPool with p = 1: sum of |x| per plane.
  ASSERT_OK_AND_ASSIGN(
      out, RunNode("GlobalLpPool", {Int("p", 1)}, {FromDoubles(DataType::kFloat64, shape, x)}, 2));
  for (int plane = 0; plane < 2; ++plane) {
    double want = 0;
    for (int i = 0; i < 16; ++i) want += std::fabs(x[plane * 16 + i]);
    EXPECT_NEAR(out[0].data<double>()[plane], want, 1e-12);
  }
}

TEST(PoolErrors, NameTheNode) {
  const Tensor x = FromDoubles(DataType::kFloat32, {1, 1, 4, 4}, std::vector<double>(16, 1));
  // kernel_shape missing, rank mismatch, window larger than the padded input,
  // bad auto_pad, zero stride.
  const std::vector<std::vector<Attribute>> bad = {
      {},
      {Ints("kernel_shape", {2})},
      {Ints("kernel_shape", {6, 2})},
      {Ints("kernel_shape", {2, 2}), String("auto_pad", "SAME")},
      {Ints("kernel_shape", {2, 2}), Ints("strides", {0, 1})},
      {Ints("kernel_shape", {2, 2}), Ints("pads", {1, 1})},
  };
  for (const auto& attrs : bad) {
    auto out = RunNode("MaxPool", attrs, {x}, 12);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(std::string(out.status().message()).find("MaxPool node \"n0\""), std::string::npos)
        << out.status();
  }
  auto out =
      RunNode("AveragePool", {Ints("kernel_shape", {2, 2})},
              {Tensor::FromVector<int32_t>({1, 1, 2, 2}, std::vector<int32_t>(4, 1)).value()}, 19);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(std::string(out.status().message()).find("int32"), std::string::npos);
}

TEST(PoolShape, InfersSymbolicAndFixedDims) {
  Graph g = NodeGraph("MaxPool", {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2})},
                      {FromDoubles(DataType::kFloat32, {1, 3, 9, 10}, std::vector<double>(270, 0))},
                      12, {"y", "idx"});
  g.inputs[0].dims[0] = Dim{-1, "batch"};
  ASSERT_OK(InferShapes(g, DefaultRegistry()));
  ASSERT_EQ(g.value_info.size(), 2u);
  EXPECT_EQ(DimsToString(g.value_info[0]), "[batch,3,4,4]");
  EXPECT_EQ(g.value_info[1].dtype, DataType::kInt64);
  Graph global = NodeGraph("GlobalAveragePool", {},
                           {FromDoubles(DataType::kFloat32, {2, 3, 5}, std::vector<double>(30, 0))},
                           22, {"y"});
  ASSERT_OK(InferShapes(global, DefaultRegistry()));
  EXPECT_EQ(DimsToString(global.value_info[0]), "[2,3,1]");
}

}  // namespace
}  // namespace onyx::pooltest
