// FoldStaticShapeGathers: Gather(Shape(x), constant) of fixed dims becomes a
// constant although x has a symbolic dim; gathers of symbolic dims stay.
#include "runtime/passes/passes.h"
#include "runtime/shape_inference.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

TEST(ShapeGatherFoldingTest, FixedDimsFoldSymbolicDimsStay) {
  GraphBuilder b(13);
  b.Input("x", {2, 3, 4});
  b.Init("lead", Ints({1}, {0})).Init("rest", Ints({2}, {1, -1})).Init("last", Ints({}, {-1}));
  b.Op("Shape", {"x"}, {"s"});
  b.Op("Gather", {"s", "lead"}, {"n"}, {IntAttr("axis", 0)});   // symbolic: stays
  b.Op("Gather", {"s", "rest"}, {"ck"}, {IntAttr("axis", 0)});  // [3, 4]
  b.Op("Gather", {"s", "last"}, {"k"}, {IntAttr("axis", 0)});   // scalar 4
  b.Op("Concat", {"n", "ck"}, {"shape"}, {IntAttr("axis", 0)});
  b.Op("Reshape", {"x", "shape"}, {"y"});
  b.Op("Cast", {"k"}, {"kf"}, {IntAttr("to", static_cast<int64_t>(DataType::kFloat32))});
  b.Op("Mul", {"y", "kf"}, {"z"});
  b.Output("z");
  Graph before = b.graph();
  before.inputs[0].dims[0] = Dim{-1, "batch"};
  Graph g = before;
  ASSERT_OK(InferShapes(g, Registry()));
  EXPECT_TRUE(passes::FoldStaticShapeGathers(g));
  EXPECT_EQ(CountOps(g, "Gather"), 1);
  ASSERT_TRUE(g.initializers.contains("ck"));
  EXPECT_EQ(g.initializers.at("ck").shape(), (Shape{2}));
  EXPECT_EQ(g.initializers.at("ck").data<int64_t>()[0], 3);
  EXPECT_EQ(g.initializers.at("ck").data<int64_t>()[1], 4);
  ASSERT_TRUE(g.initializers.contains("k"));
  EXPECT_EQ(g.initializers.at("k").rank(), 0);
  EXPECT_EQ(g.initializers.at("k").data<int64_t>()[0], 4);
  ExpectSameOutputs(before, g, b.feeds());
  // Nothing left to fold the second time.
  EXPECT_FALSE(passes::FoldStaticShapeGathers(g));
}

TEST(ShapeGatherFoldingTest, OutOfRangeOrUnknownRankIsLeft) {
  GraphBuilder b(13);
  b.Input("x", {2, 3});
  b.Init("far", Ints({}, {5}));
  b.Op("Shape", {"x"}, {"s"});
  b.Op("Gather", {"s", "far"}, {"k"}, {IntAttr("axis", 0)});
  b.Output("k");
  Graph g = b.graph();
  EXPECT_FALSE(passes::FoldStaticShapeGathers(g));
  Graph unknown = b.graph();
  unknown.inputs[0].has_shape = false;
  unknown.inputs[0].dims.clear();
  EXPECT_FALSE(passes::FoldStaticShapeGathers(unknown));
}

}  // namespace
}  // namespace onyx::pass_test
