// Session: validation errors, ordering, long chains, feeds and in-place safety.
#include "runtime/session.h"

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/runtime/test_kernels.h"

namespace onyx {
namespace {

using testing::FloatValue;
using testing::MakeNode;
using testing::MakeTestRegistry;

Graph ChainGraph(int length) {
  Graph g;
  g.opset_imports[""] = 13;
  g.inputs.push_back(FloatValue("v0", {Dim{.value = 2, .param = ""}}));
  for (int i = 0; i < length; ++i) {
    g.nodes.push_back(MakeNode("Inc", {"v" + std::to_string(i)}, {"v" + std::to_string(i + 1)}));
  }
  g.outputs.push_back(FloatValue("v" + std::to_string(length), {Dim{.value = 2, .param = ""}}));
  return g;
}

TEST(SessionTest, RunsHundredThousandNodeChainInReverseFileOrder) {
  Graph g = ChainGraph(100000);
  std::reverse(g.nodes.begin(), g.nodes.end());  // order must come from edges, not the file
  OpRegistry registry = MakeTestRegistry();
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(std::move(g), registry));
  std::vector<float> x = {1.f, -2.f};
  ASSERT_OK_AND_ASSIGN(Tensor input, Tensor::FromVector<float>({2}, x));
  ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"v0", input}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 100001.f);
  EXPECT_FLOAT_EQ(out[0].data<float>()[1], 99998.f);
  // The caller's input is never overwritten by in-place kernels.
  EXPECT_FLOAT_EQ(input.data<float>()[0], 1.f);
  EXPECT_FLOAT_EQ(input.data<float>()[1], -2.f);
}

TEST(SessionTest, ReportsCycleWithNodeName) {
  Graph g;
  g.opset_imports[""] = 13;
  g.inputs.push_back(FloatValue("x", {}));
  g.nodes.push_back(MakeNode("Inc", {"b"}, {"a"}, "first"));
  g.nodes.push_back(MakeNode("Inc", {"a"}, {"b"}, "second"));
  g.outputs.push_back(FloatValue("b", {}));
  OpRegistry registry = MakeTestRegistry();
  auto session = Session::Create(std::move(g), registry);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(session.status().message().find("cycle"), std::string::npos) << session.status();
  EXPECT_NE(session.status().message().find("Inc node"), std::string::npos) << session.status();
}

TEST(SessionTest, ReportsUndefinedInput) {
  Graph g = ChainGraph(2);
  g.nodes[1].inputs[0] = "nowhere";
  OpRegistry registry = MakeTestRegistry();
  auto session = Session::Create(std::move(g), registry);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("\"nowhere\""), std::string::npos);
  EXPECT_NE(session.status().message().find("v2_node"), std::string::npos);
}

// Fuzz finding (branch hostile): a node without outputs made kernels write
// past the node's output list; Create refuses it.
TEST(SessionTest, FuzzNodeWithoutOutputsNamesTheNode) {
  Graph g = ChainGraph(2);
  g.nodes.push_back(MakeNode("Inc", {"v2"}, {}, "no_outputs"));
  OpRegistry registry = MakeTestRegistry();
  SessionOptions options;
  options.opt_level = 0;  // level >= 1 removes the dead node before it could run
  auto session = Session::Create(std::move(g), registry, options);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(session.status().message().find("no_outputs"), std::string::npos) << session.status();
}

TEST(SessionTest, ReportsDuplicateProducer) {
  Graph g = ChainGraph(2);
  g.nodes[1].outputs[0] = "v1";
  OpRegistry registry = MakeTestRegistry();
  auto session = Session::Create(std::move(g), registry);
  ASSERT_FALSE(session.ok());
  EXPECT_NE(session.status().message().find("already produced"), std::string::npos)
      << session.status();
}

TEST(SessionTest, ReportsUnknownOpAndMissingOpset) {
  OpRegistry registry = MakeTestRegistry();
  Graph unknown = ChainGraph(1);
  unknown.nodes[0].op_type = "Frobnicate";
  auto s1 = Session::Create(std::move(unknown), registry);
  ASSERT_FALSE(s1.ok());
  EXPECT_EQ(s1.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s1.status().message().find("Frobnicate"), std::string::npos);

  Graph no_opset = ChainGraph(1);
  no_opset.opset_imports.clear();
  auto s2 = Session::Create(std::move(no_opset), registry);
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.status().message().find("opset"), std::string::npos) << s2.status();
}

TEST(SessionTest, ChecksFeedDtypeRankAndFixedDims) {
  OpRegistry registry = MakeTestRegistry();
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(ChainGraph(1), registry));
  ASSERT_OK_AND_ASSIGN(Tensor wrong_dtype, Tensor::Zeros(DataType::kInt64, {2}));
  auto r1 = session->Run({{"v0", wrong_dtype}});
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find("dtype float32"), std::string::npos) << r1.status();
  ASSERT_OK_AND_ASSIGN(Tensor wrong_rank, Tensor::Zeros(DataType::kFloat32, {2, 1}));
  EXPECT_FALSE(session->Run({{"v0", wrong_rank}}).ok());
  ASSERT_OK_AND_ASSIGN(Tensor wrong_dim, Tensor::Zeros(DataType::kFloat32, {3}));
  auto r3 = session->Run({{"v0", wrong_dim}});
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("dim 0 must be 2"), std::string::npos) << r3.status();
  EXPECT_FALSE(session->Run({}).ok());  // missing input
  ASSERT_OK_AND_ASSIGN(Tensor ok, Tensor::Zeros(DataType::kFloat32, {2}));
  EXPECT_FALSE(session->Run({{"v0", ok}, {"extra", ok}}).ok());
}

TEST(SessionTest, BindsSymbolicDimsAtRunTime) {
  Graph g;
  g.opset_imports[""] = 13;
  g.inputs.push_back(FloatValue("a", {Dim{.param = "batch"}, Dim{.value = 2, .param = ""}}));
  g.inputs.push_back(FloatValue("b", {Dim{.param = "batch"}}));
  g.nodes.push_back(MakeNode("Inc", {"a"}, {"a1"}));
  g.nodes.push_back(MakeNode("Inc", {"b"}, {"b1"}));
  g.outputs.push_back(FloatValue("a1", {}));
  g.outputs.push_back(FloatValue("b1", {}));
  OpRegistry registry = MakeTestRegistry();
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(std::move(g), registry));
  for (int64_t batch : {1, 8}) {
    ASSERT_OK_AND_ASSIGN(Tensor a, Tensor::Zeros(DataType::kFloat32, {batch, 2}));
    ASSERT_OK_AND_ASSIGN(Tensor b, Tensor::Zeros(DataType::kFloat32, {batch}));
    ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"a", a}, {"b", b}}));
    EXPECT_EQ(out[0].shape(), (Shape{batch, 2}));
  }
  ASSERT_OK_AND_ASSIGN(Tensor a, Tensor::Zeros(DataType::kFloat32, {4, 2}));
  ASSERT_OK_AND_ASSIGN(Tensor b, Tensor::Zeros(DataType::kFloat32, {5}));
  auto mismatch = session->Run({{"a", a}, {"b", b}});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("batch"), std::string::npos) << mismatch.status();
}

TEST(SessionTest, OutputThatIsAlsoConsumedIsNotOverwrittenInPlace) {
  Graph g = ChainGraph(2);
  g.outputs.insert(g.outputs.begin(), FloatValue("v1", {}));
  OpRegistry registry = MakeTestRegistry();
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(std::move(g), registry));
  ASSERT_OK_AND_ASSIGN(Tensor x, Tensor::Zeros(DataType::kFloat32, {2}));
  ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"v0", x}}));
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 1.f);
  EXPECT_FLOAT_EQ(out[1].data<float>()[0], 2.f);
}

}  // namespace
}  // namespace onyx
