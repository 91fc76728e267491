// Upsample (opset 7 attribute, 9 input) and Resize (10, 13, 18) against two
// independent references: outputs of the ONNX project's NumPy reference
// (committed by make_resize_refs.py), and a double-precision N-D formula
// written here that sums the 2^k corner weights per output element (the
// kernel instead runs separable per-axis passes). Inferred shapes are checked
// against the produced ones.
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/npy/npy.h"
#include "tests/unit/shapes/shape_test_util.h"

namespace onyx {
namespace {

using namespace shape_testing;  // NOLINT

const std::filesystem::path kRefs =
    std::filesystem::path(ONYX_SOURCE_DIR) / "tests" / "unit" / "shapes" / "resize_refs";

struct RefCase {
  std::string name;
  std::string op;
  int64_t opset;
  std::vector<Attribute> attrs;
  std::vector<float> scales;  // empty: sizes
  std::vector<int64_t> sizes;
  bool scales_as_attribute = false;  // Upsample-7
};

std::vector<RefCase> RefCases() {
  const std::vector<float> up = {1, 1, 2, 3};
  return {
      {"upsample_nearest", "Upsample", 7, {StrAttr("mode", "nearest"), FloatsAttr("scales", up)},
       up, {}, true},
      {"upsample_nearest", "Upsample", 9, {StrAttr("mode", "nearest")}, up, {}},
      {"upsample_nearest", "Resize", 10, {}, up, {}},
      {"upsample_linear", "Upsample", 9, {StrAttr("mode", "linear")}, {1, 1, 2, 2.5f}, {}},
      {"upsample_linear", "Resize", 10, {StrAttr("mode", "linear")}, {1, 1, 2, 2.5f}, {}},
      {"resize_nearest_half_pixel", "Resize", 13, {}, {1, 1, 0.6f, 1.75f}, {}},
      {"resize_nearest_asymmetric_ceil", "Resize", 13,
       {StrAttr("coordinate_transformation_mode", "asymmetric"), StrAttr("nearest_mode", "ceil")},
       {}, {1, 1, 7, 3}},
      {"resize_nearest_align_corners_prefer_ceil", "Resize", 11,
       {StrAttr("coordinate_transformation_mode", "align_corners"),
        StrAttr("nearest_mode", "round_prefer_ceil")},
       {}, {2, 3, 8}},
      {"resize_linear_half_pixel", "Resize", 13, {StrAttr("mode", "linear")}, {1, 1, 1.5f, 0.8f},
       {}},
      {"resize_linear_align_corners", "Resize", 19,
       {StrAttr("mode", "linear"), StrAttr("coordinate_transformation_mode", "align_corners")}, {},
       {1, 1, 5, 7}},
      {"resize_linear_pytorch_half_pixel", "Resize", 13,
       {StrAttr("mode", "linear"), StrAttr("coordinate_transformation_mode", "pytorch_half_pixel")},
       {}, {1, 1, 1, 4}},
      {"resize_linear_asymmetric_3d", "Resize", 18,
       {StrAttr("mode", "linear"), StrAttr("coordinate_transformation_mode", "asymmetric")},
       {1, 2, 0.5f}, {}},
  };
}

// The graph of one case: inputs X (fixed shape), then scales / sizes as initializers.
Graph CaseGraph(const RefCase& c, const Shape& x_shape) {
  GraphBuilder b(c.opset);
  std::vector<D> dims(x_shape.begin(), x_shape.end());
  b.Input("x", DataType::kFloat32, dims);
  std::vector<std::string> inputs = {"x"};
  const Tensor scales =
      Tensor::FromVector<float>({static_cast<int64_t>(c.scales.size())}, c.scales).value();
  if (c.scales_as_attribute) {
    // scales only in the attribute
  } else if (c.op == "Upsample" || c.opset < 11) {
    b.Init("scales", scales);
    inputs.push_back("scales");
  } else if (!c.scales.empty()) {
    b.Init("scales", scales);
    inputs.insert(inputs.end(), {"", "scales"});
  } else {
    b.Init("sizes", Ints(c.sizes));
    inputs.insert(inputs.end(), {"", "", "sizes"});
  }
  b.Op(c.op, inputs, {"y"}, c.attrs).Output("y");
  return b.graph();
}

TEST(ResizeTest, MatchesTheOnnxNumpyReference) {
  for (const RefCase& c : RefCases()) {
    SCOPED_TRACE(c.name + " " + c.op + "-" + std::to_string(c.opset));
    ASSERT_OK_AND_ASSIGN(Tensor x, ReadNpy((kRefs / (c.name + "_x.npy")).string()));
    ASSERT_OK_AND_ASSIGN(Tensor expected, ReadNpy((kRefs / (c.name + "_y.npy")).string()));
    const Graph g = CaseGraph(c, x.shape());
    EXPECT_EQ(InferredDims(g, "y"), ShapeToString(expected.shape()));
    ASSERT_OK_AND_ASSIGN(auto session, Session::Create(g, DefaultRegistry()));
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x", x}}));
    ASSERT_EQ(out[0].shape(), expected.shape());
    for (int64_t i = 0; i < expected.num_elements(); ++i) {
      ASSERT_NEAR(out[0].data<float>()[i], expected.data<float>()[i], 1e-5) << "element " << i;
    }
  }
}

// Double-precision reference: per output element, the weighted sum over the
// 2^k corners of the resized axes (nearest: one corner with weight 1).
struct RefAxis {
  double scale;
  std::string coord;  // asymmetric, half_pixel, align_corners
};

std::vector<double> Reference(const std::vector<double>& x, const Shape& in, const Shape& out,
                              const std::vector<RefAxis>& axes, bool linear,
                              const std::string& nearest_mode) {
  const int rank = static_cast<int>(in.size());
  std::vector<double> y(NumElements(out));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < static_cast<int64_t>(y.size()); ++flat) {
    int64_t rest = flat;
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = rest % out[d];
      rest /= out[d];
    }
    // Per axis: lower / upper source index and the upper weight.
    std::vector<int64_t> lo(rank), hi(rank);
    std::vector<double> w(rank, 0.0);
    for (int d = 0; d < rank; ++d) {
      const double j = static_cast<double>(idx[d]);
      double c = j;
      if (axes[d].coord == "asymmetric") c = j / axes[d].scale;
      if (axes[d].coord == "half_pixel") c = (j + 0.5) / axes[d].scale - 0.5;
      if (axes[d].coord == "align_corners") {
        c = out[d] > 1 ? j * (in[d] - 1) / (out[d] - 1) : 0.0;
      }
      auto clamp = [&](double v) { return std::min<double>(std::max<double>(v, 0), in[d] - 1); };
      if (linear) {
        lo[d] = static_cast<int64_t>(clamp(std::floor(c)));
        hi[d] = static_cast<int64_t>(clamp(std::floor(c) + 1));
        w[d] = lo[d] == hi[d] ? 0.0 : c - std::floor(c);
      } else {
        double r = std::floor(c);
        if (nearest_mode == "round_prefer_floor") r = c - r > 0.5 ? r + 1 : r;
        if (nearest_mode == "round_prefer_ceil") r = c - r >= 0.5 ? r + 1 : r;
        if (nearest_mode == "ceil") r = std::ceil(c);
        lo[d] = hi[d] = static_cast<int64_t>(clamp(r));
      }
    }
    double sum = 0;
    for (int corner = 0; corner < (1 << rank); ++corner) {
      double weight = 1;
      int64_t src = 0;
      for (int d = 0; d < rank; ++d) {
        const bool upper = (corner >> d) & 1;
        weight *= upper ? w[d] : 1.0 - w[d];
        src = src * in[d] + (upper ? hi[d] : lo[d]);
      }
      sum += weight * x[src];
    }
    y[flat] = sum;
  }
  return y;
}

TEST(ResizeTest, Opset18AxesAndAspectPolicyMatchTheFormula) {
  // Sizes for axes [3, 1] only, keep_aspect_ratio_policy not_larger: one scale
  // min(9/6, 5/4) = 1.25 for both axes -> [2, 5, 3, 8] (round(6 * 1.25) = 8).
  const Shape in = {2, 4, 3, 6};
  GraphBuilder b(18);
  b.Input("x", DataType::kFloat64, {"n", 4, 3, 6})
      .Init("sizes", Ints({9, 5}))
      .Op("Resize", {"x", "", "", "sizes"}, {"y"},
          {StrAttr("mode", "linear"), IntsAttr("axes", {3, 1}),
           StrAttr("keep_aspect_ratio_policy", "not_larger")})
      .Output("y");
  EXPECT_EQ(InferredDims(b.graph(), "y"), "[n,5,3,8]");
  const Tensor x = Filled(in, DataType::kFloat64);
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", x}}), 1);
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(b.graph(), DefaultRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x", x}}));
  ASSERT_EQ(out[0].shape(), (Shape{2, 5, 3, 8}));
  const std::vector<double> xs(x.data<double>(), x.data<double>() + x.num_elements());
  const std::vector<RefAxis> axes = {
      {1, ""}, {1.25, "half_pixel"}, {1, ""}, {1.25, "half_pixel"}};
  const std::vector<double> ref = Reference(xs, in, out[0].shape(), axes, true, "");
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_NEAR(out[0].data<double>()[i], ref[i], 1e-12) << "element " << i;
  }
}

TEST(ResizeTest, NearestMovesAnyDtypeAndKeepsSymbolsAtScaleOne) {
  const Shape in = {3, 5, 4};
  GraphBuilder b(13);
  b.Input("x", DataType::kInt64, {"n", 5, 4})
      .Init("scales", Floats({3}, {1.f, 0.5f, 2.25f}))
      .Op("Resize", {"x", "", "scales"}, {"y"},
          {StrAttr("coordinate_transformation_mode", "asymmetric"), StrAttr("nearest_mode", "floor")})
      .Output("y");
  EXPECT_EQ(InferredDims(b.graph(), "y"), "[n,2,9]");
  const Tensor x = Filled(in, DataType::kInt64);
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", x}}), 1);
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(b.graph(), DefaultRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x", x}}));
  std::vector<double> xs;
  for (int64_t i = 0; i < x.num_elements(); ++i) xs.push_back(x.data<int64_t>()[i]);
  const std::vector<double> ref = Reference(
      xs, in, out[0].shape(), {{1, "asymmetric"}, {0.5, "asymmetric"}, {2.25, "asymmetric"}},
      false, "floor");
  ASSERT_EQ(out[0].num_elements(), static_cast<int64_t>(ref.size()));
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(out[0].data<int64_t>()[i], static_cast<int64_t>(ref[i])) << "element " << i;
  }
}

TEST(ResizeTest, UnsupportedModesAndBadScalesAreClearErrors) {
  GraphBuilder cubic(13);
  cubic.Input("x", DataType::kFloat32, {1, 1, 2, 2})
      .Init("scales", Floats({4}, {1, 1, 2, 2}))
      .Op("Resize", {"x", "", "scales"}, {"y"}, {StrAttr("mode", "cubic")})
      .Output("y");
  auto session = Session::Create(cubic.graph(), DefaultRegistry());
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("Resize node \"Resize_0\""), std::string::npos);
  EXPECT_NE(session.status().message().find("cubic"), std::string::npos) << session.status();

  GraphBuilder negative(9);
  negative.Input("x", DataType::kFloat32, {2, 2})
      .Init("scales", Floats({2}, {1, -2}))
      .Op("Upsample", {"x", "scales"}, {"y"})
      .Output("y");
  session = Session::Create(negative.graph(), DefaultRegistry());
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(session.status().message().find("must be positive"), std::string::npos)
      << session.status();
}

}  // namespace
}  // namespace onyx
