// Shape functions of the elementwise and reduce families through InferShapes:
// symbolic and fixed dims, bool outputs, constant axes inputs, and the errors
// that name the node.
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/shape_inference.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::IntAttr;
using op_test::IntsAttr;

Dim Fixed(int64_t v) { return Dim{v, ""}; }
Dim Sym(const std::string& s) { return Dim{-1, s}; }

ValueInfo Info(const std::string& name, DataType dtype, std::vector<Dim> dims) {
  ValueInfo v;
  v.name = name;
  v.dtype = dtype;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

// Infers y of one node `op` over the given inputs; returns its ValueInfo.
absl::StatusOr<ValueInfo> InferOne(const std::string& op, std::vector<Attribute> attrs,
                                   const std::vector<ValueInfo>& inputs, int64_t opset,
                                   const std::map<std::string, Tensor>& constants = {}) {
  Graph g;
  g.opset_imports[""] = opset;
  Node n;
  n.name = "n0";
  n.op_type = op;
  n.attributes = std::move(attrs);
  for (const ValueInfo& v : inputs) {
    n.inputs.push_back(v.name);
    if (!constants.count(v.name)) g.inputs.push_back(v);
  }
  for (const auto& [name, t] : constants) g.initializers[name] = t;
  n.outputs = {"y"};
  g.nodes.push_back(n);
  absl::Status s = InferShapes(g, DefaultRegistry());
  if (!s.ok()) return s;
  for (const ValueInfo& v : g.value_info) {
    if (v.name == "y") return v;
  }
  return absl::NotFoundError("y not inferred");
}

std::string Dims(const ValueInfo& v) { return DimsToString(v); }

TEST(ShapeFnTest, BroadcastingComparisonAndVariadic) {
  const ValueInfo a = Info("a", DataType::kFloat32, {Sym("N"), Fixed(1), Fixed(4)});
  const ValueInfo b = Info("b", DataType::kFloat32, {Fixed(3), Fixed(1)});
  ASSERT_OK_AND_ASSIGN(ValueInfo y, InferOne("Less", {}, {a, b}, 13));
  EXPECT_EQ(y.dtype, DataType::kBool);
  EXPECT_EQ(Dims(y), "[N,3,4]");
  const ValueInfo c = Info("c", DataType::kFloat32, {Fixed(4)});
  ASSERT_OK_AND_ASSIGN(y, InferOne("Max", {}, {a, b, c}, 13));
  EXPECT_EQ(y.dtype, DataType::kFloat32);
  EXPECT_EQ(Dims(y), "[N,3,4]");
  ASSERT_OK_AND_ASSIGN(y, InferOne("Sqrt", {}, {a}, 13));
  EXPECT_EQ(Dims(y), "[N,1,4]");
  const ValueInfo bad = Info("d", DataType::kFloat32, {Fixed(5)});
  auto e = InferOne("Pow", {}, {a, bad}, 15);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(std::string(e.status().message()).find("n0"), std::string::npos) << e.status();
}

TEST(ShapeFnTest, GatherElementsAndCastLike) {
  const ValueInfo data = Info("data", DataType::kFloat64, {Fixed(3), Fixed(4)});
  const ValueInfo idx = Info("idx", DataType::kInt64, {Fixed(2), Fixed(4)});
  ASSERT_OK_AND_ASSIGN(ValueInfo y, InferOne("GatherElements", {}, {data, idx}, 13));
  EXPECT_EQ(y.dtype, DataType::kFloat64);
  EXPECT_EQ(Dims(y), "[2,4]");
  const ValueInfo like = Info("like", DataType::kInt32, {});
  ASSERT_OK_AND_ASSIGN(y, InferOne("CastLike", {}, {data, like}, 15));
  EXPECT_EQ(y.dtype, DataType::kInt32);
  EXPECT_EQ(Dims(y), "[3,4]");
}

TEST(ShapeFnTest, ReduceAttributeAndConstantInputAxes) {
  const ValueInfo x = Info("x", DataType::kFloat32, {Sym("B"), Fixed(3), Fixed(5)});
  ASSERT_OK_AND_ASSIGN(ValueInfo y, InferOne("ReduceMean", {IntsAttr("axes", {-1})}, {x}, 13));
  EXPECT_EQ(Dims(y), "[B,3,1]");
  ASSERT_OK_AND_ASSIGN(y, InferOne("ReduceMax", {IntAttr("keepdims", 0)}, {x}, 13));
  EXPECT_EQ(Dims(y), "[]");
  const ValueInfo axes = Info("axes", DataType::kInt64, {Fixed(1)});
  const Tensor axes_value = Tensor::FromVector<int64_t>({1}, std::vector<int64_t>{1}).value();
  ASSERT_OK_AND_ASSIGN(y, InferOne("ReduceSum", {IntAttr("keepdims", 0)}, {x, axes}, 13,
                                   {{"axes", axes_value}}));
  EXPECT_EQ(Dims(y), "[B,5]");
  // Axes that are not constant: keepdims keeps the rank, the dims are unknown.
  ASSERT_OK_AND_ASSIGN(y, InferOne("ReduceL2", {}, {x, axes}, 18));
  EXPECT_EQ(y.dims.size(), 3u);
  ASSERT_OK_AND_ASSIGN(y, InferOne("ArgMax", {IntAttr("axis", 1), IntAttr("keepdims", 0)}, {x}, 13));
  EXPECT_EQ(y.dtype, DataType::kInt64);
  EXPECT_EQ(Dims(y), "[B,5]");
  auto e = InferOne("ReduceMean", {IntsAttr("axes", {3})}, {x}, 13);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace onyx
