// One Session shared by 8 threads x 1000 runs gives bit-identical results to
// serial runs. Batch sizes change from run to run, so every kernel keeps
// rebuilding its per-shape oneDNN cache while other threads use it.
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tests/status_matchers.h"
#include "tests/unit/runtime/test_kernels.h"

namespace onyx {
namespace {

using testing::FloatValue;
using testing::MakeNode;

constexpr int kIn = 32, kOut = 512;

Dim Fixed(int64_t value) {
  Dim d;
  d.value = value;
  return d;
}
Dim Symbol(const std::string& name) {
  Dim d;
  d.param = name;
  return d;
}

// y = Softmax(Relu(x W + b)) for x of shape [batch, kIn].
Graph MlpGraph(const std::vector<float>& w, const std::vector<float>& b) {
  Graph g;
  g.opset_imports[""] = 13;
  g.inputs.push_back(FloatValue("x", {Symbol("batch"), Fixed(kIn)}));
  g.initializers["w"] = Tensor::FromVector<float>({kIn, kOut}, w).value();
  g.initializers["b"] = Tensor::FromVector<float>({kOut}, b).value();
  g.nodes.push_back(MakeNode("MatMul", {"x", "w"}, {"xw"}));
  g.nodes.push_back(MakeNode("Add", {"xw", "b"}, {"z"}));
  g.nodes.push_back(MakeNode("Relu", {"z"}, {"r"}));
  Node softmax = MakeNode("Softmax", {"r"}, {"y"});
  Attribute axis;
  axis.name = "axis";
  axis.type = AttrType::kInt;
  axis.i = -1;
  softmax.attributes.push_back(axis);
  g.nodes.push_back(softmax);
  g.outputs.push_back(FloatValue("y", {Symbol("batch"), Fixed(kOut)}));
  return g;
}

// The same function in double precision, row by row.
std::vector<double> Reference(const std::vector<float>& x, int batch, const std::vector<float>& w,
                              const std::vector<float>& b) {
  std::vector<double> y(batch * kOut);
  for (int r = 0; r < batch; ++r) {
    double sum = 0;
    for (int j = 0; j < kOut; ++j) {
      double z = b[j];
      for (int k = 0; k < kIn; ++k) z += double(x[r * kIn + k]) * w[k * kOut + j];
      y[r * kOut + j] = std::exp(std::max(z, 0.0));
      sum += y[r * kOut + j];
    }
    for (int j = 0; j < kOut; ++j) y[r * kOut + j] /= sum;
  }
  return y;
}

TEST(ConcurrencyTest, EightThreadsThousandRunsMatchSerialRuns) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> w(kIn * kOut), b(kOut);
  for (float& v : w) v = uniform(rng);
  for (float& v : b) v = uniform(rng);
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(MlpGraph(w, b), DefaultRegistry()));

  // 12 feeds with batch sizes 1..6 (two of each); serial results first.
  struct Case {
    Tensor x;
    Tensor y;
    Tensor x_copy;  // to check that no run wrote into the feed
  };
  std::vector<Case> cases;
  for (int c = 0; c < 12; ++c) {
    const int batch = c % 6 + 1;
    std::vector<float> x(batch * kIn);
    for (float& v : x) v = uniform(rng);
    ASSERT_OK_AND_ASSIGN(Tensor xt, Tensor::FromVector<float>({batch, kIn}, x));
    ASSERT_OK_AND_ASSIGN(auto y, session->Run({{"x", xt}}));
    ASSERT_EQ(y[0].shape(), Shape({batch, kOut}));
    const std::vector<double> expected = Reference(x, batch, w, b);
    for (int i = 0; i < batch * kOut; ++i) {
      ASSERT_NEAR(y[0].data<float>()[i], expected[i], 1e-5) << "case " << c << " element " << i;
    }
    ASSERT_OK_AND_ASSIGN(Tensor x_copy, xt.Clone());
    cases.push_back({xt, y[0], x_copy});
  }

  constexpr int kThreads = 8, kRuns = 1000;
  std::atomic<int> failures{0}, mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 pick(100 + t);
      for (int i = 0; i < kRuns; ++i) {
        const Case& c = cases[pick() % cases.size()];
        auto y = session->Run({{"x", c.x}});
        if (!y.ok()) {
          failures++;
          continue;
        }
        const Tensor& got = (*y)[0];
        if (got.shape() != c.y.shape() ||
            std::memcmp(got.raw_data(), c.y.raw_data(), c.y.byte_size()) != 0) {
          mismatches++;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  for (const Case& c : cases) {
    EXPECT_EQ(std::memcmp(c.x.raw_data(), c.x_copy.raw_data(), c.x.byte_size()), 0);
  }
}

}  // namespace
}  // namespace onyx
