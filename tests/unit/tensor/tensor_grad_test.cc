// Gradients of the tensor family (Reshape, Flatten, Squeeze, Unsqueeze,
// Transpose, Concat, Slice, Gather, Expand, Tile, Pad, Where, Cast, Dropout)
// through autograd, against central finite differences of sum(Y * R) in
// float64, and in float32 against the same float64 differences. The forward ops
// are linear in the differentiated input, so the differences are exact up to
// rounding.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::mathgrad_test {
namespace {

Tensor Ints(const Shape& shape, std::vector<int64_t> v) {
  return Tensor::FromVector<int64_t>(shape, v).value();
}
Tensor Ints(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Ints({n}, std::move(v));
}
Tensor Doubles(const Shape& shape, uint32_t seed) {
  return FromDoubles(DataType::kFloat64, shape, RandomValues(NumElements(shape), seed));
}

using testing_util::IntsAttr;

// Checks d(sum(Y * R))/d(input i), i in `wrt` (float64 inputs of `spec`),
// against finite differences, then repeats autograd in float32.
void CheckGradients(const ForwardSpec& spec, const std::vector<size_t>& wrt) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunForward(spec));
  const std::vector<double> r = RandomValues(y.num_elements(), 99);
  const Tensor rt = FromDoubles(DataType::kFloat64, y.shape(), r);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads, AutogradGrads(spec, rt, wrt));
  ASSERT_EQ(grads.size(), wrt.size());
  std::vector<std::vector<double>> fds;
  for (size_t k = 0; k < wrt.size(); ++k) {
    const size_t i = wrt[k];
    ASSERT_EQ(grads[k].shape(), spec.inputs[i].shape()) << "input " << i;
    ASSERT_EQ(grads[k].dtype(), DataType::kFloat64);
    ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, rt, i));
    const std::vector<double> got = ToDoubles(grads[k]);
    for (size_t j = 0; j < fd.size(); ++j) {
      EXPECT_NEAR(got[j], fd[j], 1e-7 * (1 + std::fabs(fd[j]))) << "input " << i << " [" << j << "]";
    }
    fds.push_back(std::move(fd));
  }
  // float32: same values (RandomValues rounds to float32), same R.
  ForwardSpec spec32 = spec;
  for (Tensor& t : spec32.inputs) {
    if (!t.empty() && t.dtype() == DataType::kFloat64) {
      t = FromDoubles(DataType::kFloat32, t.shape(), ToDoubles(t));
    }
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads32,
                       AutogradGrads(spec32, FromDoubles(DataType::kFloat32, y.shape(), r), wrt));
  for (size_t k = 0; k < wrt.size(); ++k) {
    ASSERT_EQ(grads32[k].dtype(), DataType::kFloat32);
    const std::vector<double> got = ToDoubles(grads32[k]);
    ASSERT_EQ(got.size(), fds[k].size());
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_NEAR(got[j], fds[k][j], 1e-5 * (1 + std::fabs(fds[k][j])))
          << "float32 input " << wrt[k] << " [" << j << "]";
    }
  }
}

TEST(TensorGrad, Reshape) {
  CheckGradients({"Reshape", {}, {Doubles({2, 3, 4}, 1), Ints({4, -1})}}, {0});
}

TEST(TensorGrad, Flatten) {
  CheckGradients({"Flatten", {IntAttr("axis", 2)}, {Doubles({2, 3, 2, 2}, 2)}}, {0});
}

TEST(TensorGrad, Squeeze) {
  CheckGradients({"Squeeze", {}, {Doubles({2, 1, 3, 1}, 3), Ints({1, -1})}}, {0});
}

TEST(TensorGrad, Unsqueeze) {
  CheckGradients({"Unsqueeze", {}, {Doubles({2, 3}, 4), Ints({0, 3})}}, {0});
}

TEST(TensorGrad, UnsqueezeOpset11Attribute) {
  ForwardSpec spec{"Unsqueeze", {IntsAttr("axes", {1})}, {Doubles({3, 2}, 5)}};
  spec.opset = 11;
  CheckGradients(spec, {0});
}

TEST(TensorGrad, Transpose) {
  CheckGradients({"Transpose", {IntsAttr("perm", {2, 0, 3, 1})}, {Doubles({2, 3, 4, 2}, 6)}},
                 {0});
}

TEST(TensorGrad, TransposeDefaultPermReverses) {
  CheckGradients({"Transpose", {}, {Doubles({2, 3, 4}, 7)}}, {0});
}

TEST(TensorGrad, Concat) {
  CheckGradients({"Concat",
                  {IntAttr("axis", -2)},
                  {Doubles({2, 1, 3}, 8), Doubles({2, 3, 3}, 9), Doubles({2, 2, 3}, 10)}},
                 {0, 1, 2});
}

TEST(TensorGrad, ConcatOnlySomeInputs) {
  CheckGradients({"Concat", {IntAttr("axis", 0)}, {Doubles({1, 4}, 11), Doubles({3, 4}, 12)}},
                 {1});
}

TEST(TensorGrad, SliceWithStepsAndNegatives) {
  CheckGradients({"Slice",
                  {},
                  {Doubles({4, 5, 3}, 13), Ints({-1, 1}), Ints({-100, 5}), Ints({0, 1}),
                   Ints({-2, 2})}},
                 {0});
}

TEST(TensorGrad, SliceDefaultAxes) {
  CheckGradients({"Slice", {}, {Doubles({4, 5}, 14), Ints({1}), Ints({3})}}, {0});
}

TEST(TensorGrad, SliceOpset1Attributes) {
  ForwardSpec spec{"Slice",
                   {IntsAttr("starts", {0, 1}), IntsAttr("ends", {2, 100}), IntsAttr("axes", {1, 0})},
                   {Doubles({3, 4}, 15)}};
  spec.opset = 9;
  CheckGradients(spec, {0});
}

TEST(TensorGrad, GatherRepeatedAndNegativeIndices) {
  CheckGradients(
      {"Gather", {IntAttr("axis", 1)}, {Doubles({2, 4, 3}, 16), Ints({2, 2}, {0, -1, 2, 0})}},
      {0});
}

TEST(TensorGrad, GatherScalarIndex) {
  CheckGradients({"Gather", {}, {Doubles({3, 2}, 17), Ints({}, {-2})}}, {0});
}

TEST(TensorGrad, Expand) {
  CheckGradients({"Expand", {}, {Doubles({3, 1}, 18), Ints({2, 3, 4})}}, {0});
}

TEST(TensorGrad, Tile) {
  CheckGradients({"Tile", {}, {Doubles({2, 3}, 19), Ints({3, 2})}}, {0});
}

TEST(TensorGrad, Tile3D) {
  CheckGradients({"Tile", {}, {Doubles({2, 1, 3}, 20), Ints({1, 4, 2})}}, {0});
}

TEST(TensorGrad, PadConstantWithNegativePads) {
  // Axis 0 padded by 1 and 2, axis 1 cropped by 1 at the start and padded by 1 at the end.
  CheckGradients({"Pad", {}, {Doubles({3, 4}, 21), Ints({1, -1, 2, 1})}}, {0});
}

TEST(TensorGrad, PadOpset2Attribute) {
  ForwardSpec spec{"Pad", {IntsAttr("pads", {0, 2, 1, 0})}, {Doubles({2, 3}, 22)}};
  spec.opset = 2;
  CheckGradients(spec, {0});
}

TEST(TensorGrad, DropoutInferenceIsIdentity) {
  CheckGradients({"Dropout", {}, {Doubles({2, 5}, 27)}}, {0});
}

Tensor Condition(const Shape& shape) {
  const int64_t n = NumElements(shape);
  std::unique_ptr<bool[]> c(new bool[n]);
  for (int64_t i = 0; i < n; ++i) c[i] = (i * 7 + 3) % 5 < 2;
  return Tensor::FromVector<bool>(shape, absl::Span<const bool>(c.get(), n)).value();
}

TEST(TensorGrad, WhereWithBroadcasting) {
  CheckGradients({"Where", {}, {Condition({2, 3, 4}), Doubles({3, 1}, 23), Doubles({4}, 24)}},
                 {1, 2});
}

// Cast float32 -> float64: dX = float32(R); FD is meaningless across dtypes, so
// the closed form is the reference.
TEST(TensorGrad, CastBackToInputDtype) {
  const std::vector<double> x = RandomValues(6, 25), r = RandomValues(6, 26);
  Attribute to = IntAttr("to", 11);  // DOUBLE
  ForwardSpec spec{"Cast", {to}, {FromDoubles(DataType::kFloat32, {2, 3}, x)}};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads,
                       AutogradGrads(spec, FromDoubles(DataType::kFloat64, {2, 3}, r), {0}));
  ASSERT_EQ(grads[0].dtype(), DataType::kFloat32);
  ASSERT_EQ(grads[0].shape(), (Shape{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(grads[0].data<float>()[i], static_cast<float>(r[i]));
}

// The backward ops reject a dY that does not fit the forward inputs.
TEST(TensorGrad, SliceGradRejectsMismatchedDy) {
  Graph graph;
  graph.opset_imports[""] = 13;
  graph.opset_imports[kOnyxDomain] = 1;
  Node n;
  n.name = "sg";
  n.op_type = "SliceGrad";
  n.domain = kOnyxDomain;
  n.inputs = {"dy", "x", "s", "e"};
  n.outputs = {"dx"};
  graph.nodes.push_back(n);
  for (const char* name : {"dy", "x", "s", "e"}) {
    ValueInfo info;
    info.name = name;
    graph.inputs.push_back(info);
  }
  ValueInfo out;
  out.name = "dx";
  graph.outputs.push_back(out);
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(graph, TestRegistry()));
  auto result = session->Run({{"dy", Doubles({3}, 1)}, {"x", Doubles({5}, 2)},
                              {"s", Ints({1})}, {"e", Ints({3})}});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("sg"), std::string::npos)
      << result.status();
}

}  // namespace
}  // namespace onyx::mathgrad_test
