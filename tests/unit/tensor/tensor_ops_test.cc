// Unit tests of the tensor family's kernels: error cases (named nodes), clamping
// of absurd Slice bounds, version-dependent attributes, every-dtype paths and
// the parallel copy path, each against a naive reference written here.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

using testing_util::IntAttr;
using testing_util::IntsAttr;
constexpr auto& StrAttr = testing_util::StringAttr;

Node MakeNode(const std::string& op, int num_inputs, int num_outputs,
              std::vector<Attribute> attrs = {}) {
  Node node;
  node.name = "n_" + op;
  node.op_type = op;
  for (int i = 0; i < num_inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  for (int i = 0; i < num_outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = std::move(attrs);
  return node;
}

const OpRegistry& Registry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterTensorOps(*r);
    return r;
  }();
  return *registry;
}

// Runs one node; an empty Tensor in `inputs` is an omitted optional input.
absl::StatusOr<std::vector<Tensor>> RunNode(const Node& node, int64_t opset,
                                            const std::vector<Tensor>& inputs) {
  auto kernel = Registry().CreateKernel(node, opset, Device::kCpu);
  if (!kernel.ok()) return kernel.status();
  std::vector<const Tensor*> ptrs;
  for (const Tensor& t : inputs) ptrs.push_back(t.empty() ? nullptr : &t);
  std::unique_ptr<bool[]> dies(new bool[inputs.size() + 1]());
  std::vector<Tensor> outputs(node.outputs.size());
  KernelContext ctx(node, ptrs, absl::MakeConstSpan(dies.get(), inputs.size()),
                    absl::MakeSpan(outputs));
  absl::Status status = (*kernel)->Compute(ctx);
  if (!status.ok()) return status;
  return outputs;
}

template <typename T>
Tensor Make(Shape shape, std::vector<T> values) {
  Tensor t = Tensor::Uninitialized(DataTypeOf<T>::value, std::move(shape)).value();
  EXPECT_EQ(static_cast<size_t>(t.num_elements()), values.size());
  std::copy(values.begin(), values.end(), t.data<T>());  // also for std::vector<bool>
  return t;
}
Tensor I64(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Make<int64_t>({n}, std::move(v));
}
template <typename T>
Tensor Iota(Shape shape) {
  std::vector<T> v(NumElements(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(i);
  return Make<T>(std::move(shape), std::move(v));
}
template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.num_elements());
}

void ExpectInvalidNamingNode(const absl::Status& status, const std::string& node_name) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find(node_name), std::string::npos) << status;
}

// --- Reshape -----------------------------------------------------------------

TEST(ReshapeTest, TwoMinusOnesIsInvalidAndNamesNode) {
  const Node node = MakeNode("Reshape", 2, 1);
  auto out = RunNode(node, 14, {Iota<float>({2, 3, 4}), I64({-1, -1})});
  ExpectInvalidNamingNode(out.status(), "n_Reshape");
}

TEST(ReshapeTest, CountMismatchIsInvalidAndNamesNode) {
  const Node node = MakeNode("Reshape", 2, 1);
  ExpectInvalidNamingNode(RunNode(node, 14, {Iota<float>({2, 3, 4}), I64({5, 5})}).status(),
                          "n_Reshape");
  ExpectInvalidNamingNode(RunNode(node, 14, {Iota<float>({2, 3, 4}), I64({5, -1})}).status(),
                          "n_Reshape");
  // Overflowing requested shape.
  ExpectInvalidNamingNode(
      RunNode(node, 14, {Iota<float>({2, 3, 4}), I64({kMax, kMax, 0})}).status(), "n_Reshape");
}

TEST(ReshapeTest, ZeroCopiesDimAndOutputIsAView) {
  const Node node = MakeNode("Reshape", 2, 1);
  const Tensor x = Iota<int8_t>({2, 3, 4});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 13, {x, I64({0, -1})}));
  EXPECT_EQ(out[0].shape(), (Shape{2, 12}));
  EXPECT_EQ(out[0].raw_data(), x.raw_data());  // no copy
}

TEST(ReshapeTest, AllowZeroKeepsZeroOnlyFrom14) {
  const Node node = MakeNode("Reshape", 2, 1, {IntAttr("allowzero", 1)});
  const Tensor x = Iota<float>({0, 3, 4});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 14, {x, I64({3, 4, 0})}));
  EXPECT_EQ(out[0].shape(), (Shape{3, 4, 0}));
  // Opset 13 ignores allowzero: 0 copies dim 2 (= 4) and the count mismatches.
  EXPECT_FALSE(RunNode(node, 13, {x, I64({3, 4, 0})}).ok());
  // allowzero with both 0 and -1 is invalid.
  ExpectInvalidNamingNode(RunNode(node, 14, {x, I64({0, -1})}).status(), "n_Reshape");
}

TEST(FlattenTest, NegativeAxis) {
  const Node node = MakeNode("Flatten", 1, 1, {IntAttr("axis", -1)});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 13, {Iota<float>({2, 3, 4})}));
  EXPECT_EQ(out[0].shape(), (Shape{6, 4}));
}

TEST(SqueezeTest, AttributeBefore13InputAfter) {
  const Tensor x = Iota<float>({1, 3, 1, 2});
  ASSERT_OK_AND_ASSIGN(auto a,
                       RunNode(MakeNode("Squeeze", 1, 1, {IntsAttr("axes", {-2})}), 11, {x}));
  EXPECT_EQ(a[0].shape(), (Shape{1, 3, 2}));
  ASSERT_OK_AND_ASSIGN(auto b, RunNode(MakeNode("Squeeze", 2, 1), 13, {x, I64({0})}));
  EXPECT_EQ(b[0].shape(), (Shape{3, 1, 2}));
  ASSERT_OK_AND_ASSIGN(auto c, RunNode(MakeNode("Squeeze", 1, 1), 13, {x}));
  EXPECT_EQ(c[0].shape(), (Shape{3, 2}));
  ExpectInvalidNamingNode(RunNode(MakeNode("Squeeze", 2, 1), 13, {x, I64({1})}).status(),
                          "n_Squeeze");
}

TEST(UnsqueezeTest, AxesIndexTheOutput) {
  const Tensor x = Iota<float>({3, 4});
  ASSERT_OK_AND_ASSIGN(auto a, RunNode(MakeNode("Unsqueeze", 2, 1), 13, {x, I64({-1, 0})}));
  EXPECT_EQ(a[0].shape(), (Shape{1, 3, 4, 1}));
  ASSERT_OK_AND_ASSIGN(auto b,
                       RunNode(MakeNode("Unsqueeze", 1, 1, {IntsAttr("axes", {1})}), 11, {x}));
  EXPECT_EQ(b[0].shape(), (Shape{3, 1, 4}));
  ExpectInvalidNamingNode(RunNode(MakeNode("Unsqueeze", 2, 1), 13, {x, I64({0, 0})}).status(),
                          "n_Unsqueeze");
}

// --- Slice -------------------------------------------------------------------

// Indices Slice selects from range(dim): the start is clamped as the ONNX
// spec's text says (it fixes the phase of the step; unlike Python, a start
// still negative after adding dim clamps to 0 for negative steps too), then
// every index is tested for membership (the end needs no clamp).
std::vector<int64_t> PySlice(int64_t dim, int64_t start, int64_t end, int64_t step) {
  __int128 s = start < 0 ? __int128(start) + dim : start;
  if (s < 0) s = 0;
  if (s >= dim) s = step > 0 ? dim : dim - 1;
  const __int128 e = end < 0 ? __int128(end) + dim : end;
  std::vector<int64_t> picked;
  if (step > 0) {
    for (int64_t i = 0; i < dim; ++i) {
      if (i >= s && i < e && (i - s) % step == 0) picked.push_back(i);
    }
  } else {
    for (int64_t i = dim - 1; i >= 0; --i) {
      if (i <= s && i > e && (s - i) % -__int128(step) == 0) picked.push_back(i);
    }
  }
  return picked;
}

TEST(SliceTest, AbsurdStartsAndEndsClampLikePython) {
  const Node node = MakeNode("Slice", 5, 1);
  const int64_t dim0 = 5, dim1 = 7;
  const Tensor x = Iota<int32_t>({dim0, dim1});
  const std::vector<int64_t> bounds = {kMin, kMin + 1, -100, -8, -7, -6,  -1,       0,
                                       1,    3,        6,    7,  8,  100, kMax - 1, kMax};
  int checked = 0;
  for (int64_t step : std::vector<int64_t>{1, 2, 3, -1, -2, -5, 100, -100, kMax, kMin}) {
    for (int64_t start : bounds) {
      for (int64_t end : bounds) {
        ASSERT_OK_AND_ASSIGN(
            auto out, RunNode(node, 13, {x, I64({start}), I64({end}), I64({1}), I64({step})}));
        const std::vector<int64_t> cols = PySlice(dim1, start, end, step);
        ASSERT_EQ(out[0].shape(), (Shape{dim0, static_cast<int64_t>(cols.size())}))
            << start << ":" << end << ":" << step;
        for (int64_t r = 0; r < dim0; ++r) {
          for (size_t c = 0; c < cols.size(); ++c) {
            ASSERT_EQ(out[0].data<int32_t>()[r * cols.size() + c], r * dim1 + cols[c]);
          }
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 10 * 16 * 16);
}

TEST(SliceTest, AttributeFormOpset1AndErrors) {
  const Node node = MakeNode(
      "Slice", 1, 1,
      {IntsAttr("starts", {1, -100}), IntsAttr("ends", {kMax, -1}), IntsAttr("axes", {0, 1})});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 1, {Iota<float>({3, 4})}));
  EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{4, 5, 6, 8, 9, 10}));
  const Node n2 = MakeNode("Slice", 5, 1);
  ExpectInvalidNamingNode(
      RunNode(n2, 13, {Iota<float>({3}), I64({0}), I64({3}), I64({0}), I64({0})}).status(),
      "n_Slice");
  ExpectInvalidNamingNode(
      RunNode(n2, 13, {Iota<float>({3}), I64({0}), I64({3}), I64({0, 0}), I64({1})}).status(),
      "n_Slice");
}

// --- Gather ------------------------------------------------------------------

TEST(GatherTest, OutOfRangeIsInvalidAndNamesNode) {
  const Node node = MakeNode("Gather", 2, 1, {IntAttr("axis", 1)});
  const Tensor x = Iota<float>({2, 3});
  ExpectInvalidNamingNode(RunNode(node, 13, {x, I64({0, 3})}).status(), "n_Gather");
  ExpectInvalidNamingNode(RunNode(node, 13, {x, I64({-4})}).status(), "n_Gather");
}

TEST(GatherTest, NegativeAndInt32IndicesAnyDtype) {
  const Node node = MakeNode("Gather", 2, 1, {IntAttr("axis", 1)});
  const Tensor x = Iota<int64_t>({2, 3, 2});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 13, {x, Make<int32_t>({2, 2}, {-1, 0, 1, 1})}));
  EXPECT_EQ(out[0].shape(), (Shape{2, 2, 2, 2}));
  std::vector<int64_t> want;
  const int idx[4] = {2, 0, 1, 1};
  for (int o = 0; o < 2; ++o)
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 2; ++i) want.push_back(o * 6 + idx[j] * 2 + i);
  EXPECT_EQ(Values<int64_t>(out[0]), want);
}

// --- Expand, Tile, Where ------------------------------------------------------

TEST(ExpandTest, ImpossibleShapeIsInvalidAndNamesNode) {
  const Node node = MakeNode("Expand", 2, 1);
  ExpectInvalidNamingNode(RunNode(node, 13, {Iota<float>({3, 2}), I64({3, 4})}).status(),
                          "n_Expand");
  ExpectInvalidNamingNode(RunNode(node, 13, {Iota<float>({3, 1}), I64({-3, 1})}).status(),
                          "n_Expand");
}

TEST(ExpandTest, BidirectionalBroadcast) {
  const Node node = MakeNode("Expand", 2, 1);
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 13, {Iota<uint16_t>({3, 1}), I64({2, 1, 4})}));
  EXPECT_EQ(out[0].shape(), (Shape{2, 3, 4}));
  for (int64_t i = 0; i < 24; ++i) EXPECT_EQ(out[0].data<uint16_t>()[i], (i / 4) % 3);
}

TEST(TileTest, MatchesModuloReference) {
  const Node node = MakeNode("Tile", 2, 1);
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 13, {Iota<double>({2, 3}), I64({3, 2})}));
  ASSERT_EQ(out[0].shape(), (Shape{6, 6}));
  for (int r = 0; r < 6; ++r)
    for (int c = 0; c < 6; ++c) EXPECT_EQ(out[0].data<double>()[r * 6 + c], (r % 2) * 3 + c % 3);
  ExpectInvalidNamingNode(RunNode(node, 13, {Iota<double>({2, 3}), I64({3})}).status(), "n_Tile");
}

TEST(WhereTest, BroadcastsThreeWays) {
  const Node node = MakeNode("Where", 3, 1);
  const Tensor cond = Make<bool>({2, 1}, {true, false});
  ASSERT_OK_AND_ASSIGN(auto out,
                       RunNode(node, 16, {cond, Iota<int8_t>({3}), Make<int8_t>({}, {-1})}));
  EXPECT_EQ(out[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<int8_t>(out[0]), (std::vector<int8_t>{0, 1, 2, -1, -1, -1}));
}

// --- Transpose, Concat, Split -------------------------------------------------

template <typename T>
void CheckTranspose(Shape shape, std::vector<int64_t> perm) {
  const Tensor x = Iota<T>(shape);
  const Node node = MakeNode("Transpose", 1, 1, {IntsAttr("perm", perm)});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(node, 13, {x}));
  const int r = static_cast<int>(shape.size());
  Shape out_shape(r);
  for (int i = 0; i < r; ++i) out_shape[i] = shape[perm[i]];
  ASSERT_EQ(out[0].shape(), out_shape);
  const auto in_strides = tensor::ContiguousStrides(shape);
  std::vector<int64_t> idx(r, 0);
  for (int64_t flat = 0; flat < out[0].num_elements(); ++flat) {
    int64_t rest = flat, src = 0;
    for (int i = r - 1; i >= 0; --i) {
      src += (rest % out_shape[i]) * in_strides[perm[i]];
      rest /= out_shape[i];
    }
    ASSERT_EQ(out[0].data<T>()[flat], static_cast<T>(src)) << flat;
  }
}

TEST(TransposeTest, EveryElementSizeAndTheParallelPath) {
  CheckTranspose<float>({2, 3, 4}, {2, 0, 1});  // oneDNN reorder
  CheckTranspose<int64_t>({2, 3, 4}, {1, 2, 0});
  CheckTranspose<uint8_t>({2, 3, 4, 5}, {3, 1, 0, 2});
  CheckTranspose<uint16_t>({5, 7}, {1, 0});
  CheckTranspose<int32_t>({300, 1100}, {1, 0});  // > 1 MiB: OpenMP chunks
  CheckTranspose<float>({64, 70, 90}, {2, 1, 0});
}

TEST(TransposeTest, MovingOnlySizeOneDimsIsAView) {
  CheckTranspose<float>({1, 3, 4}, {1, 0, 2});  // [1, L, E] -> [L, 1, E]
  CheckTranspose<int64_t>({3, 1, 4, 1}, {1, 0, 3, 2});
  const Tensor x = Iota<float>({1, 3, 4});
  ASSERT_OK_AND_ASSIGN(auto out, RunNode(MakeNode("Transpose", 1, 1, {IntsAttr("perm", {1, 2, 0})}),
                                         13, {x}));
  EXPECT_EQ(out[0].shape(), (Shape{3, 4, 1}));
  EXPECT_EQ(out[0].raw_data(), x.raw_data());  // no copy
  // Two dims of size > 1 swapped: a real copy.
  ASSERT_OK_AND_ASSIGN(out, RunNode(MakeNode("Transpose", 1, 1, {IntsAttr("perm", {0, 2, 1})}),
                                    13, {x}));
  EXPECT_NE(out[0].raw_data(), x.raw_data());
}

TEST(TransposeTest, DefaultPermReversesAndBadPermIsInvalid) {
  ASSERT_OK_AND_ASSIGN(auto out,
                       RunNode(MakeNode("Transpose", 1, 1), 13, {Iota<float>({2, 3, 4})}));
  EXPECT_EQ(out[0].shape(), (Shape{4, 3, 2}));
  ExpectInvalidNamingNode(RunNode(MakeNode("Transpose", 1, 1, {IntsAttr("perm", {0, 0, 1})}), 13,
                                  {Iota<float>({2, 3, 4})})
                              .status(),
                          "n_Transpose");
}

TEST(ConcatTest, MiddleAxisInt8AndMismatch) {
  const Node node = MakeNode("Concat", 2, 1, {IntAttr("axis", -1)});
  ASSERT_OK_AND_ASSIGN(
      auto out, RunNode(node, 13, {Iota<int8_t>({2, 1}), Make<int8_t>({2, 2}, {7, 8, 9, 10})}));
  EXPECT_EQ(Values<int8_t>(out[0]), (std::vector<int8_t>{0, 7, 8, 1, 9, 10}));
  ExpectInvalidNamingNode(RunNode(node, 13, {Iota<int8_t>({2, 1}), Iota<int8_t>({3, 1})}).status(),
                          "n_Concat");
}

TEST(SplitTest, VersionsOfTheSplitSizes) {
  const Tensor x = Iota<float>({2, 7});
  // Opset 11: attribute.
  ASSERT_OK_AND_ASSIGN(
      auto a,
      RunNode(MakeNode("Split", 1, 2, {IntAttr("axis", 1), IntsAttr("split", {3, 4})}), 11, {x}));
  EXPECT_EQ(Values<float>(a[0]), (std::vector<float>{0, 1, 2, 7, 8, 9}));
  EXPECT_EQ(a[1].shape(), (Shape{2, 4}));
  // Opset 18: num_outputs, last chunk smaller (3, 3, 1).
  ASSERT_OK_AND_ASSIGN(
      auto b,
      RunNode(MakeNode("Split", 1, 3, {IntAttr("axis", 1), IntAttr("num_outputs", 3)}), 18, {x}));
  EXPECT_EQ(b[2].shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<float>(b[2]), (std::vector<float>{6, 13}));
  // Uneven without sizes is invalid; so are sizes not summing to the dim.
  ExpectInvalidNamingNode(RunNode(MakeNode("Split", 1, 2, {IntAttr("axis", 1)}), 13, {x}).status(),
                          "n_Split");
  ExpectInvalidNamingNode(
      RunNode(MakeNode("Split", 2, 2, {IntAttr("axis", 1)}), 13, {x, I64({3, 3})}).status(),
      "n_Split");
}

// Fuzz finding (branch hostile): NormalizeAxis accepts axis 0 for a scalar, and
// Split/Concat then read and wrote past the scalar's empty shape.
TEST(SplitTest, FuzzSplitOrConcatOfScalarNamesTheNode) {
  const Tensor scalar = Make<float>({}, {1.f});
  ExpectInvalidNamingNode(
      RunNode(MakeNode("Split", 1, 2, {IntAttr("axis", 0)}), 13, {scalar}).status(), "n_Split");
  ExpectInvalidNamingNode(
      RunNode(MakeNode("Concat", 2, 1, {IntAttr("axis", 0)}), 13, {scalar, scalar}).status(),
      "n_Concat");
}

// --- Pad ---------------------------------------------------------------------

TEST(PadTest, ModesAgainstNumpyValues) {
  const Tensor x = Make<int32_t>({3}, {1, 2, 3});
  auto pad = [&](const char* mode, std::vector<int64_t> pads) {
    return RunNode(MakeNode("Pad", 2, 1, {StrAttr("mode", mode)}), 19, {x, I64(pads)});
  };
  // np.pad([1,2,3], (5,4), mode) values: reflect repeats with period
  // 2*(3-1) = 4 (1,2,3,2,...) in both directions.
  ASSERT_OK_AND_ASSIGN(auto r, pad("reflect", {5, 4}));
  EXPECT_EQ(Values<int32_t>(r[0]), (std::vector<int32_t>{2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3}));
  ASSERT_OK_AND_ASSIGN(auto e, pad("edge", {2, 1}));
  EXPECT_EQ(Values<int32_t>(e[0]), (std::vector<int32_t>{1, 1, 1, 2, 3, 3}));
  ASSERT_OK_AND_ASSIGN(auto w, pad("wrap", {4, 2}));
  EXPECT_EQ(Values<int32_t>(w[0]), (std::vector<int32_t>{3, 1, 2, 3, 1, 2, 3, 1, 2}));
  // Negative pads crop.
  ASSERT_OK_AND_ASSIGN(auto c, pad("constant", {-1, 2}));
  EXPECT_EQ(Values<int32_t>(c[0]), (std::vector<int32_t>{2, 3, 0, 0}));
  ExpectInvalidNamingNode(pad("constant", {-2, -2}).status(), "n_Pad");
  EXPECT_FALSE(
      RunNode(MakeNode("Pad", 2, 1, {StrAttr("mode", "wrap")}), 18, {x, I64({1, 1})}).ok());
}

TEST(PadTest, Opset2AttributesAndOpset18Axes) {
  Attribute value;
  value.name = "value";
  value.type = AttrType::kFloat;
  value.f = 2.5f;
  ASSERT_OK_AND_ASSIGN(auto a,
                       RunNode(MakeNode("Pad", 1, 1, {IntsAttr("pads", {0, 1, 1, 0}), value}), 2,
                               {Iota<float>({2, 2})}));
  EXPECT_EQ(Values<float>(a[0]), (std::vector<float>{2.5f, 0, 1, 2.5f, 2, 3, 2.5f, 2.5f, 2.5f}));
  ASSERT_OK_AND_ASSIGN(
      auto b, RunNode(MakeNode("Pad", 4, 1), 18,
                      {Iota<int64_t>({2, 2}), I64({1, 0}), Make<int64_t>({}, {9}), I64({-1})}));
  EXPECT_EQ(Values<int64_t>(b[0]), (std::vector<int64_t>{9, 0, 1, 9, 2, 3}));
}

// --- Cast, Constant, Range, Dropout, Shape ------------------------------------

Node CastTo(DataType to) { return MakeNode("Cast", 1, 1, {IntAttr("to", static_cast<int>(to))}); }

TEST(CastTest, FloatToIntTruncatesTowardZero) {
  const Tensor x = Make<float>({6}, {-2.7f, 2.7f, -0.5f, NAN, 1e30f, 300.f});
  ASSERT_OK_AND_ASSIGN(auto i32, RunNode(CastTo(DataType::kInt32), 21, {x}));
  EXPECT_EQ(Values<int32_t>(i32[0]).at(0), -2);
  EXPECT_EQ(Values<int32_t>(i32[0]).at(1), 2);
  EXPECT_EQ(Values<int32_t>(i32[0]).at(2), 0);
  EXPECT_EQ(Values<int32_t>(i32[0]).at(3), 0);  // NaN: defined as 0 here
  EXPECT_EQ(Values<int32_t>(i32[0]).at(5), 300);
  ASSERT_OK_AND_ASSIGN(auto u8, RunNode(CastTo(DataType::kUInt8), 21, {x}));
  EXPECT_EQ(Values<uint8_t>(u8[0]).at(5), 300 % 256);  // wraps like NumPy's C cast
  EXPECT_EQ(Values<uint8_t>(u8[0]).at(0), 254);
  ASSERT_OK_AND_ASSIGN(auto b, RunNode(CastTo(DataType::kBool), 21, {x}));
  EXPECT_EQ(Values<bool>(b[0]), (std::vector<bool>{true, true, true, true, true, true}));
}

TEST(CastTest, HalfRoundTripAndBoolAndString) {
  const Tensor x = Make<float>({5}, {1.f, -65504.f, 1e-7f, 70000.f, 0.333333f});
  ASSERT_OK_AND_ASSIGN(auto h, RunNode(CastTo(DataType::kFloat16), 21, {x}));
  EXPECT_EQ(Values<uint16_t>(h[0]),
            (std::vector<uint16_t>{0x3c00, 0xfbff, 0x0002, 0x7c00, 0x3555}));
  ASSERT_OK_AND_ASSIGN(auto f, RunNode(CastTo(DataType::kFloat64), 21, {h[0]}));
  EXPECT_DOUBLE_EQ(f[0].data<double>()[4], 0.333251953125);
  ASSERT_OK_AND_ASSIGN(auto fb,
                       RunNode(CastTo(DataType::kFloat32), 21, {Make<bool>({2}, {true, false})}));
  EXPECT_EQ(Values<float>(fb[0]), (std::vector<float>{1.f, 0.f}));
  auto s = Registry().CreateKernel(CastTo(DataType::kString), 21, Device::kCpu);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(ConstantTest, ValueIntsAndSparseUnimplemented) {
  ASSERT_OK_AND_ASSIGN(
      auto a, RunNode(MakeNode("Constant", 0, 1, {IntsAttr("value_ints", {4, 5})}), 13, {}));
  EXPECT_EQ(a[0].dtype(), DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(a[0]), (std::vector<int64_t>{4, 5}));
  Attribute sparse;
  sparse.name = "sparse_value";
  sparse.type = AttrType::kOther;
  auto s = Registry().CreateKernel(MakeNode("Constant", 0, 1, {sparse}), 13, Device::kCpu);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(ConstantOfShapeTest, DefaultFloatZeroAndScalar) {
  ASSERT_OK_AND_ASSIGN(auto a, RunNode(MakeNode("ConstantOfShape", 1, 1), 21, {I64({2, 3})}));
  EXPECT_EQ(a[0].dtype(), DataType::kFloat32);
  EXPECT_EQ(Values<float>(a[0]), std::vector<float>(6, 0.f));
  ASSERT_OK_AND_ASSIGN(auto b, RunNode(MakeNode("ConstantOfShape", 1, 1), 21, {I64({})}));
  EXPECT_EQ(b[0].shape(), Shape{});
}

TEST(RangeTest, CountIsCeilOfSpanOverDelta) {
  const Node node = MakeNode("Range", 3, 1);
  auto scalar = [](int32_t v) { return Make<int32_t>({}, {v}); };
  ASSERT_OK_AND_ASSIGN(auto a, RunNode(node, 11, {scalar(10), scalar(1), scalar(-3)}));
  EXPECT_EQ(Values<int32_t>(a[0]), (std::vector<int32_t>{10, 7, 4}));
  ASSERT_OK_AND_ASSIGN(auto b, RunNode(node, 11, {scalar(1), scalar(10), scalar(-3)}));
  EXPECT_EQ(b[0].num_elements(), 0);
  auto f = [](float v) { return Make<float>({}, {v}); };
  ASSERT_OK_AND_ASSIGN(auto c, RunNode(node, 11, {f(0.5f), f(2.f), f(0.5f)}));
  EXPECT_EQ(Values<float>(c[0]), (std::vector<float>{0.5f, 1.f, 1.5f}));
  ExpectInvalidNamingNode(RunNode(node, 11, {scalar(1), scalar(10), scalar(0)}).status(),
                          "n_Range");
  // 2^62 elements: refused by the allocation cap, not attempted.
  auto big = RunNode(node, 11,
                     {Make<int64_t>({}, {0}), Make<int64_t>({}, {kMax}), Make<int64_t>({}, {2})});
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(DropoutTest, InferenceIdentityAndTrainingMode) {
  const Node node = MakeNode("Dropout", 3, 2);
  const Tensor x = Iota<float>({2, 2});
  const Tensor ratio = Make<float>({}, {0.5f});
  ASSERT_OK_AND_ASSIGN(auto a, RunNode(node, 13, {x, ratio, Tensor()}));
  EXPECT_EQ(Values<float>(a[0]), Values<float>(x));
  EXPECT_EQ(Values<bool>(a[1]), std::vector<bool>(4, true));
  auto b = RunNode(node, 13, {x, ratio, Make<bool>({}, {true})});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnimplemented);
  ASSERT_OK_AND_ASSIGN(auto c,
                       RunNode(node, 13, {x, Make<float>({}, {0.f}), Make<bool>({}, {true})}));
  EXPECT_EQ(Values<bool>(c[1]), std::vector<bool>(4, true));
  // Before opset 10 the mask has the input's dtype.
  ASSERT_OK_AND_ASSIGN(auto d, RunNode(MakeNode("Dropout", 1, 2), 7, {x}));
  EXPECT_EQ(Values<float>(d[1]), std::vector<float>(4, 1.f));
}

TEST(ShapeTest, StartEndClampFrom15) {
  const Node node = MakeNode("Shape", 1, 1, {IntAttr("start", -100), IntAttr("end", -1)});
  const Tensor x = Iota<float>({2, 3, 4});
  ASSERT_OK_AND_ASSIGN(auto a, RunNode(node, 15, {x}));
  EXPECT_EQ(Values<int64_t>(a[0]), (std::vector<int64_t>{2, 3}));
  ASSERT_OK_AND_ASSIGN(auto b, RunNode(node, 13, {x}));  // attributes ignored before 15
  EXPECT_EQ(Values<int64_t>(b[0]), (std::vector<int64_t>{2, 3, 4}));
  ASSERT_OK_AND_ASSIGN(auto c, RunNode(MakeNode("Size", 1, 1), 21, {x}));
  EXPECT_EQ(c[0].data<int64_t>()[0], 24);
}

}  // namespace
}  // namespace onyx
