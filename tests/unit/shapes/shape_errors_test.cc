// Models whose shapes cannot fit fail at load (Session::Create), with
// InvalidArgument naming the op and node and giving the shapes involved.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/shapes/shape_test_util.h"

namespace onyx {
namespace {

using namespace shape_testing;  // NOLINT

constexpr DataType kF32 = DataType::kFloat32;

struct ErrorCase {
  std::string name;
  GraphBuilder builder;
  std::vector<std::string> expected;  // substrings of the message
};

GraphBuilder OneOp(int64_t opset, const std::string& op, std::vector<std::pair<std::string, std::vector<D>>> inputs,
                   int num_outputs = 1, std::vector<Attribute> attrs = {},
                   std::vector<std::pair<std::string, Tensor>> inits = {}) {
  GraphBuilder b(opset);
  std::vector<std::string> names;
  for (auto& [name, dims] : inputs) {
    b.Input(name, kF32, dims);
    names.push_back(name);
  }
  for (auto& [name, t] : inits) {
    b.Init(name, t);
    names.push_back(name);
  }
  std::vector<std::string> outputs;
  for (int i = 0; i < num_outputs; ++i) outputs.push_back("out" + std::to_string(i));
  b.Op(op, names, outputs, std::move(attrs));
  b.Output("out0");
  return b;
}

std::vector<ErrorCase> Cases() {
  std::vector<ErrorCase> cases;
  cases.push_back({"MatMulInnerDims", OneOp(13, "MatMul", {{"a", {"n", 3}}, {"b", {4, 5}}}),
                   {"MatMul node \"MatMul_0\"", "[n,3]", "[4,5]", "inner dims 3 and 4 differ"}});
  cases.push_back({"MatMulBatch", OneOp(13, "MatMul", {{"a", {2, 3, 4}}, {"b", {5, 4, 2}}}),
                   {"MatMul node", "batch dims [2] and [5]"}});
  cases.push_back({"GemmK", OneOp(13, "Gemm", {{"a", {2, 3}}, {"b", {2, 4}}}, 1, {IntAttr("transB", 1)}),
                   {"Gemm node \"Gemm_0\"", "K is 3 for A but 4 for B"}});
  cases.push_back({"GemmRank", OneOp(13, "Gemm", {{"a", {2, 3, 1}}, {"b", {3, 4}}}),
                   {"Gemm node", "must be 2-D"}});
  cases.push_back({"GemmC", OneOp(13, "Gemm", {{"a", {2, 3}}, {"b", {3, 4}}, {"c", {3}}}),
                   {"Gemm node", "C has shape [3]", "[2,4]"}});
  cases.push_back({"ConcatRank", OneOp(13, "Concat", {{"a", {2, 3}}, {"b", {2, 3, 1}}}, 1, {IntAttr("axis", 0)}),
                   {"Concat node \"Concat_0\"", "rank 3", "rank 2"}});
  cases.push_back({"ConcatDims", OneOp(13, "Concat", {{"a", {2, 3}}, {"b", {4, 5}}}, 1, {IntAttr("axis", 0)}),
                   {"Concat node", "only axis 0 may differ"}});
  cases.push_back({"ReshapeCount", OneOp(13, "Reshape", {{"x", {"n", 3, 4}}}, 1, {}, {{"s", Ints({0, 5})}}),
                   {"Reshape node \"Reshape_0\"", "cannot reshape", "[n,3,4]", "[n,5]"}});
  cases.push_back({"ReshapeMinusOne", OneOp(13, "Reshape", {{"x", {2, 3, 4}}}, 1, {}, {{"s", Ints({5, -1})}}),
                   {"Reshape node", "cannot infer the -1"}});
  cases.push_back({"ReshapeTwoMinusOnes", OneOp(13, "Reshape", {{"x", {2, 3}}}, 1, {}, {{"s", Ints({-1, -1})}}),
                   {"Reshape node", "more than one -1"}});
  cases.push_back({"TransposePerm", OneOp(13, "Transpose", {{"x", {2, 3}}}, 1, {IntsAttr("perm", {0, 0})}),
                   {"Transpose node", "perm [0,0] is not a permutation"}});
  cases.push_back({"SqueezeNotOne", OneOp(11, "Squeeze", {{"x", {2, 3}}}, 1, {IntsAttr("axes", {1})}),
                   {"Squeeze node", "cannot squeeze axis 1", "[2,3]"}});
  cases.push_back({"SplitSum", OneOp(13, "Split", {{"x", {6, 2}}}, 2, {}, {{"split", Ints({2, 3})}}),
                   {"Split node", "split [2,3]", "[6,2]"}});
  cases.push_back({"SplitUneven", OneOp(13, "Split", {{"x", {7}}}, 2),
                   {"Split node", "does not split evenly into 2"}});
  cases.push_back({"GatherIndex", OneOp(13, "Gather", {{"x", {3, 2}}}, 1, {}, {{"i", Ints({0, 3})}}),
                   {"Gather node", "index 3 is out of range", "[3,2]"}});
  cases.push_back({"ExpandShape", OneOp(13, "Expand", {{"x", {3, 2}}}, 1, {}, {{"s", Ints({4, 1})}}),
                   {"Expand node", "cannot expand", "[3,2]", "[4,1]"}});
  cases.push_back({"TileRepeats", OneOp(13, "Tile", {{"x", {3, 2}}}, 1, {}, {{"r", Ints({2})}}),
                   {"Tile node", "repeats", "rank 2"}});
  cases.push_back({"PadCount", OneOp(13, "Pad", {{"x", {3, 2}}}, 1, {}, {{"p", Ints({1, 1})}}),
                   {"Pad node", "pads [1,1]"}});
  cases.push_back({"PadNegative", OneOp(13, "Pad", {{"x", {3, 2}}}, 1, {}, {{"p", Ints({0, -4, 0, 0})}}),
                   {"Pad node", "negative"}});
  cases.push_back({"AddBroadcast", OneOp(13, "Add", {{"a", {"n", 3}}, {"b", {4}}}),
                   {"Add node \"Add_0\"", "shapes [n,3] and [4] cannot be broadcast", "3 and 4"}});
  cases.push_back({"SoftmaxAxis", OneOp(13, "Softmax", {{"x", {2, 3}}}, 1, {IntAttr("axis", 2)}),
                   {"Softmax node", "axis 2 is out of range"}});
  cases.push_back({"FlattenAxis", OneOp(13, "Flatten", {{"x", {2, 3}}}, 1, {IntAttr("axis", 3)}),
                   {"Flatten node", "axis 3"}});
  cases.push_back({"SliceStep", OneOp(13, "Slice", {{"x", {4}}}, 1, {},
                                      {{"s", Ints({0})}, {"e", Ints({4})}, {"a", Ints({0})},
                                       {"st", Ints({0})}}),
                   {"Slice node", "step for axis 0 is 0"}});
  cases.push_back({"UpsampleScales", OneOp(7, "Upsample", {{"x", {1, 2, 3}}}, 1,
                                           {FloatsAttr("scales", {1.f, 2.f})}),
                   {"Upsample node", "scales", "rank 3"}});
  return cases;
}

TEST(ShapeErrorsTest, WrongModelsFailAtLoadNamingTheNode) {
  for (const ErrorCase& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto session = Session::Create(c.builder.graph(), DefaultRegistry());
    ASSERT_FALSE(session.ok());
    EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument) << session.status();
    const std::string message(session.status().message());
    for (const std::string& part : c.expected) {
      EXPECT_NE(message.find(part), std::string::npos) << "missing \"" << part << "\" in: " << message;
    }
  }
}

TEST(ShapeErrorsTest, PReluSlopeIsAPreconditionErrorAsInTheKernel) {
  auto session = Session::Create(OneOp(13, "PRelu", {{"x", {2, 3}}, {"s", {2}}}).graph(),
                                 DefaultRegistry());
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(session.status().message().find("PRelu node \"PRelu_0\": slope [2] does not broadcast "
                                            "to X [2,3]"),
            std::string::npos)
      << session.status();
}

TEST(ShapeErrorsTest, SymbolicDimsThatMightFitAreAccepted) {
  // Each of these fails only for some sizes of "n" (or not at all): no load error.
  std::vector<GraphBuilder> fine = {
      OneOp(13, "MatMul", {{"a", {2, "n"}}, {"b", {3, 4}}}),
      OneOp(13, "Add", {{"a", {"n", 3}}, {"b", {"m", 1}}}),
      OneOp(13, "Concat", {{"a", {"n", 3}}, {"b", {2, "k"}}}, 1, {IntAttr("axis", 0)}),
      OneOp(13, "Reshape", {{"x", {"n", 3, 4}}}, 1, {}, {{"s", Ints({-1, 6})}}),
      OneOp(13, "Squeeze", {{"x", {"n", 3}}}, 1, {}, {{"a", Ints({0})}}),
      OneOp(13, "Gather", {{"x", {"n", 2}}}, 1, {}, {{"i", Ints({7})}}),
  };
  for (size_t i = 0; i < fine.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_OK(Session::Create(fine[i].graph(), DefaultRegistry()).status());
  }
  // The Reshape's -1 stays unknown: 12 * n / 6 is not a fixed size.
  EXPECT_EQ(InferredDims(fine[3].graph(), "out0"), "[?,6]");
}

TEST(ShapeErrorsTest, InferenceKeepsWhatItLearnedBeforeTheFailingNode) {
  GraphBuilder b(13);
  b.Input("x", kF32, {2, 3})
      .Input("w", kF32, {4, 5})
      .Op("Relu", {"x"}, {"r"})
      .Op("MatMul", {"r", "w"}, {"y"})
      .Output("y");
  Graph g = b.graph();
  const absl::Status status = InferShapes(g, DefaultRegistry());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(g.value_info.size(), 1u);
  EXPECT_EQ(g.value_info[0].name, "r");
  EXPECT_EQ(DimsToString(g.value_info[0]), "[2,3]");
}

}  // namespace
}  // namespace onyx
