// CUDA Add/Sub/Mul/Div with broadcasting, MatMul and Gemm (cuBLAS) against the
// CPU kernels.
#include <string>
#include <vector>

#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::FloatAttr;
using testing_util::IntAttr;

struct ShapePair {
  Shape a, b;
};

// The one-node graph on CUDA; fails the test when a node fell back to the CPU
// kernel (the comparison would then be CPU against CPU).
absl::StatusOr<Tensor> RunOnCudaKernel(const std::string& op, std::vector<Attribute> attrs,
                                       const std::vector<Tensor>& inputs, int64_t opset) {
  const Graph graph = testing_util::OneNodeGraph(op, std::move(attrs), inputs, opset);
  bool on_device = false;
  auto out = RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device);
  if (!out.ok()) return out.status();
  EXPECT_TRUE(on_device) << op << " fell back to the CPU kernel";
  return (*out)[0];
}

class BinaryGpuTest : public GpuParamTest<ShapePair> {};

TEST_P(BinaryGpuTest, MatchesCpu) {
  const ShapePair& p = GetParam();
  Tensor a = RandomFloats(p.a, -3.f, 3.f, 1);
  Tensor b = RandomFloats(p.b, 0.5f, 3.f, 2);  // away from 0 for Div
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    SCOPED_TRACE(std::string(op) + " " + ShapeToString(p.a) + " " + ShapeToString(p.b));
    ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode(op, {}, {a, b}, 14, Device::kCpu));
    ASSERT_OK_AND_ASSIGN(Tensor gpu, RunOnCudaKernel(op, {}, {a, b}, 14));
    EXPECT_TRUE(AllClose<float>(gpu, cpu, 1e-6, 0));
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, BinaryGpuTest,
    ::testing::Values(ShapePair{{1000001}, {1000001}}, ShapePair{{3, 4}, {4}},
                      ShapePair{{4}, {3, 4}}, ShapePair{{2, 1, 5}, {1, 3, 1}},
                      ShapePair{{}, {2, 3}}, ShapePair{{2, 3}, {}},
                      ShapePair{{2, 3, 4, 5}, {3, 1, 5}}, ShapePair{{0, 3}, {3}},
                      ShapePair{{2, 1, 3, 1, 4, 1, 5, 1, 2}, {3, 2, 4, 3, 5, 2, 1}}));

TEST_F(GpuTest, BinaryFloat64AndInt64) {
  std::vector<double> da = {1.5, -2, 3}, db = {2};
  ASSERT_OK_AND_ASSIGN(Tensor a, Tensor::FromVector<double>({3}, da));
  ASSERT_OK_AND_ASSIGN(Tensor b, Tensor::FromVector<double>({1}, db));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOnCudaKernel("Div", {}, {a, b}, 14));
  EXPECT_DOUBLE_EQ(y.data<double>()[0], 0.75);
  EXPECT_DOUBLE_EQ(y.data<double>()[1], -1.0);
  // int64 has no CUDA kernel: the CPU kernel runs where the inputs are and says so once.
  std::vector<int64_t> ia = {7, -7}, ib = {2, 2};
  ASSERT_OK_AND_ASSIGN(Tensor x, Tensor::FromVector<int64_t>({2}, ia));
  ASSERT_OK_AND_ASSIGN(Tensor z, Tensor::FromVector<int64_t>({2}, ib));
  ASSERT_OK_AND_ASSIGN(Tensor q, RunNode("Div", {}, {x, z}, 14, Device::kCuda));
  EXPECT_EQ(q.data<int64_t>()[0], 3);
  EXPECT_EQ(q.data<int64_t>()[1], -3);
}

class MatMulGpuTest : public GpuParamTest<ShapePair> {};

TEST_P(MatMulGpuTest, MatchesCpu) {
  const ShapePair& p = GetParam();
  Tensor a = RandomFloats(p.a, -1.f, 1.f, 3);
  Tensor b = RandomFloats(p.b, -1.f, 1.f, 4);
  ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode("MatMul", {}, {a, b}, 13, Device::kCpu));
  ASSERT_OK_AND_ASSIGN(Tensor gpu, RunOnCudaKernel("MatMul", {}, {a, b}, 13));
  EXPECT_TRUE(AllClose<float>(gpu, cpu, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(
    All, MatMulGpuTest,
    ::testing::Values(ShapePair{{3, 4}, {4, 5}}, ShapePair{{2, 3, 4}, {4, 5}},
                      ShapePair{{4}, {4, 5}}, ShapePair{{3, 4}, {4}}, ShapePair{{6}, {6}},
                      ShapePair{{2, 1, 3, 4}, {1, 2, 4, 6}}, ShapePair{{5, 3, 4}, {5, 4, 2}},
                      ShapePair{{128, 256}, {256, 64}}, ShapePair{{3, 0}, {0, 4}}));

struct GemmCase {
  bool trans_a, trans_b;
  Shape c;  // empty vector with has_c false: no C
  bool has_c;
};

class GemmGpuTest : public GpuParamTest<GemmCase> {};

TEST_P(GemmGpuTest, MatchesCpu) {
  const GemmCase& g = GetParam();
  const int64_t m = 5, k = 7, n = 3;
  Tensor a = RandomFloats(g.trans_a ? Shape{k, m} : Shape{m, k}, -1.f, 1.f, 8);
  Tensor b = RandomFloats(g.trans_b ? Shape{n, k} : Shape{k, n}, -1.f, 1.f, 9);
  std::vector<Tensor> inputs = {a, b};
  if (g.has_c) inputs.push_back(RandomFloats(g.c, -1.f, 1.f, 10));
  const std::vector<Attribute> attrs = {FloatAttr("alpha", 0.5f), FloatAttr("beta", 2.f),
                                        IntAttr("transA", g.trans_a), IntAttr("transB", g.trans_b)};
  ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode("Gemm", attrs, inputs, 13, Device::kCpu));
  ASSERT_OK_AND_ASSIGN(Tensor gpu, RunOnCudaKernel("Gemm", attrs, inputs, 13));
  EXPECT_TRUE(AllClose<float>(gpu, cpu, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(
    All, GemmGpuTest,
    ::testing::Values(GemmCase{false, false, {5, 3}, true}, GemmCase{true, false, {3}, true},
                      GemmCase{false, true, {5, 1}, true}, GemmCase{true, true, {}, true},
                      GemmCase{false, false, {1, 3}, true}, GemmCase{true, true, {}, false}));

}  // namespace
}  // namespace onyx::gpu_test
