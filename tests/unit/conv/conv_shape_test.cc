// Shape functions of Conv, FusedConv, ConvTranspose and ConvGrad through
// InferShapes: symbolic batch kept, spatial sizes computed, bad models rejected
// at load with the node named.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/shape_inference.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

ValueInfo Info(const std::string& name, std::vector<Dim> dims) {
  ValueInfo v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

Dim F(int64_t v) { return Dim{v, ""}; }

// One node over declared inputs x0, x1, ... (shapes may be symbolic).
Graph ShapeGraph(const std::string& op, const std::string& domain, std::vector<Attribute> attrs,
                 const std::vector<std::vector<Dim>>& inputs, int outputs = 1) {
  Graph g;
  g.opset_imports[""] = 13;
  g.opset_imports["com.onyx"] = 1;
  Node node;
  node.name = "conv0";
  node.op_type = op;
  node.domain = domain;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    g.inputs.push_back(Info("x" + std::to_string(i), inputs[i]));
    node.inputs.push_back("x" + std::to_string(i));
  }
  for (int i = 0; i < outputs; ++i) node.outputs.push_back("y" + std::to_string(i));
  g.nodes.push_back(std::move(node));
  return g;
}

const ValueInfo* Find(const Graph& g, const std::string& name) {
  for (const ValueInfo& v : g.value_info) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

TEST(ConvShape, SymbolicBatchAndComputedSpatial) {
  Graph g = ShapeGraph("Conv", "", {Ints("strides", {2, 2}), String("auto_pad", "SAME_UPPER")},
                       {{Dim{-1, "batch"}, F(3), F(9), F(10)}, {F(8), F(3), F(3), F(3)}});
  ASSERT_OK(InferShapes(g, DefaultRegistry()));
  const ValueInfo* y = Find(g, "y0");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(DimsToString(*y), "[batch,8,5,5]");
}

TEST(ConvShape, UnknownSpatialStaysUnknown) {
  Graph g = ShapeGraph("Conv", "", {Ints("pads", {1, 1})},
                       {{F(1), F(2), Dim{-1, "len"}}, {F(4), F(2), F(3)}});
  ASSERT_OK(InferShapes(g, DefaultRegistry()));
  const ValueInfo* y = Find(g, "y0");
  ASSERT_NE(y, nullptr);
  ASSERT_EQ(y->dims.size(), 3u);
  EXPECT_EQ(y->dims[1].value, 4);
  EXPECT_FALSE(y->dims[2].is_fixed());
}

TEST(ConvShape, FusedConvAndConvTranspose) {
  Graph f = ShapeGraph("FusedConv", "com.onyx", {String("activation", "Relu")},
                       {{F(2), F(4), F(6), F(6)}, {F(4), F(2), F(3), F(3)}}, 1);
  f.nodes[0].attributes.push_back(Int("group", 2));
  ASSERT_OK(InferShapes(f, DefaultRegistry()));
  ASSERT_NE(Find(f, "y0"), nullptr);
  EXPECT_EQ(DimsToString(*Find(f, "y0")), "[2,4,4,4]");

  Graph t =
      ShapeGraph("ConvTranspose", "", {Ints("strides", {3, 2}), Ints("output_padding", {1, 1})},
                 {{F(1), F(1), F(3), F(3)}, {F(1), F(2), F(3), F(3)}});
  ASSERT_OK(InferShapes(t, DefaultRegistry()));
  ASSERT_NE(Find(t, "y0"), nullptr);
  EXPECT_EQ(DimsToString(*Find(t, "y0")), "[1,2,10,8]");
}

TEST(ConvShape, ConvGradOutputsFollowInputs) {
  Graph g =
      ShapeGraph("ConvGrad", "com.onyx", {},
                 {{F(1), F(4), F(3), F(3)}, {F(1), F(2), F(5), F(5)}, {F(4), F(2), F(3), F(3)}}, 3);
  ASSERT_OK(InferShapes(g, DefaultRegistry()));
  ASSERT_NE(Find(g, "y0"), nullptr);
  EXPECT_EQ(DimsToString(*Find(g, "y0")), "[1,2,5,5]");
  EXPECT_EQ(DimsToString(*Find(g, "y1")), "[4,2,3,3]");
  EXPECT_EQ(DimsToString(*Find(g, "y2")), "[4]");
}

void ExpectRejected(Graph g, const std::string& needle) {
  const absl::Status s = InferShapes(g, DefaultRegistry());
  ASSERT_FALSE(s.ok()) << needle;
  EXPECT_NE(s.message().find("conv0"), std::string::npos) << s;
  EXPECT_NE(s.message().find(needle), std::string::npos) << s;
}

TEST(ConvShape, RejectsModelsThatCannotFit) {
  ExpectRejected(ShapeGraph("Conv", "", {Int("group", 2)},
                            {{Dim{-1, "n"}, F(3), F(5), F(5)}, {F(4), F(1), F(3), F(3)}}),
                 "not divisible by group");
  ExpectRejected(ShapeGraph("Conv", "", {}, {{F(1), F(3), F(5), F(5)}, {F(4), F(3), F(3)}}),
                 "W must have X's rank");
  ExpectRejected(ShapeGraph("Conv", "", {}, {{F(1), F(3), F(2), F(5)}, {F(4), F(3), F(3), F(3)}}),
                 "larger than the padded input");
  ExpectRejected(
      ShapeGraph("Conv", "", {}, {{F(1), F(3), F(5), F(5)}, {F(4), F(3), F(3), F(3)}, {F(5)}}),
      "input B");
  ExpectRejected(
      ShapeGraph(
          "FusedConv", "com.onyx", {},
          {{F(1), F(3), F(5), F(5)}, {F(4), F(3), F(3), F(3)}, {F(4)}, {F(1), F(4), F(5), F(5)}}),
      "input Z");
  ExpectRejected(ShapeGraph("Conv", "", {Ints("pads", {1, 1, 1, 1})},
                            {{F(1), F(3), F(int64_t{1} << 62), F(5)}, {F(4), F(3), F(3), F(3)}}),
                 "dims beyond");
  ExpectRejected(
      ShapeGraph("ConvTranspose", "", {}, {{F(1), F(3), F(5), F(5)}, {F(2), F(3), F(3), F(3)}}),
      "dim 0 must equal");
}

}  // namespace
}  // namespace onyx::conv_test
