// One Session shared by 8 threads x 1000 runs gives bit-identical results to
// serial runs. Batch sizes change from run to run, so every kernel keeps
// rebuilding its per-shape oneDNN cache while other threads use it.
#include <atomic>
#include <chrono>
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

struct Case {
  Tensor x;
  Tensor y;       // the serial run's result
  Tensor x_copy;  // to check that no run wrote into the feed
};

// 12 feeds with batch sizes 1..6 (two of each), run serially and checked
// against the double-precision reference.
std::vector<Case> SerialCases(Session& session, const std::vector<float>& w,
                              const std::vector<float>& b, std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<Case> cases;
  for (int c = 0; c < 12; ++c) {
    const int batch = c % 6 + 1;
    std::vector<float> x(batch * kIn);
    for (float& v : x) v = uniform(rng);
    Tensor xt = Tensor::FromVector<float>({batch, kIn}, x).value();
    auto y = session.Run({{"x", xt}});
    EXPECT_TRUE(y.ok()) << y.status();
    if (!y.ok()) return {};
    EXPECT_EQ((*y)[0].shape(), Shape({batch, kOut}));
    const std::vector<double> expected = Reference(x, batch, w, b);
    for (int i = 0; i < batch * kOut; ++i) {
      EXPECT_NEAR((*y)[0].data<float>()[i], expected[i], 1e-5) << "case " << c << " element " << i;
    }
    cases.push_back({xt, (*y)[0], xt.Clone().value()});
  }
  return cases;
}

// Counts the nodes one run reports; one per thread.
class CountingObserver : public RunObserver {
 public:
  void OnNode(const Node&, absl::Span<const Tensor* const>, absl::Span<const Tensor> outputs,
              std::chrono::steady_clock::time_point, std::chrono::steady_clock::time_point) override {
    ++nodes;
    for (const Tensor& t : outputs) empty_outputs += t.empty();
  }
  int64_t nodes = 0;
  int64_t empty_outputs = 0;
};

// kThreads threads run random cases `runs` times each; every result must be
// bit-identical to the serial one. With `observe`, each thread passes its own
// observer, which must see every node of every run.
void Stress(Session& session, const std::vector<Case>& cases, int runs, bool observe) {
  constexpr int kThreads = 8;
  std::atomic<int> failures{0}, mismatches{0}, miscounts{0};
  const int64_t nodes_per_run = static_cast<int64_t>(session.order().size());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 pick(100 + t);
      CountingObserver observer;
      for (int i = 0; i < runs; ++i) {
        const Case& c = cases[pick() % cases.size()];
        auto y = session.Run({{"x", c.x}}, observe ? &observer : nullptr);
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
      if (observe && (observer.nodes != nodes_per_run * runs || observer.empty_outputs != 0)) {
        miscounts++;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(miscounts.load(), 0);
  for (const Case& c : cases) {
    EXPECT_EQ(std::memcmp(c.x.raw_data(), c.x_copy.raw_data(), c.x.byte_size()), 0);
  }
}

struct Weights {
  std::vector<float> w = std::vector<float>(kIn * kOut);
  std::vector<float> b = std::vector<float>(kOut);
};
Weights RandomWeights(std::mt19937& rng) {
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  Weights weights;
  for (float& v : weights.w) v = uniform(rng);
  for (float& v : weights.b) v = uniform(rng);
  return weights;
}

// Runs share the session's buffer pool machinery and every kernel's oneDNN
// cache: without per-run state and per-kernel locks this crashes or mismatches.
TEST(ConcurrencyTest, EightThreadsThousandRunsMatchSerialRuns) {
  std::mt19937 rng(11);
  const Weights weights = RandomWeights(rng);
  ASSERT_OK_AND_ASSIGN(auto session,
                       Session::Create(MlpGraph(weights.w, weights.b), DefaultRegistry()));
  const std::vector<Case> cases = SerialCases(*session, weights.w, weights.b, rng);
  ASSERT_EQ(cases.size(), 12u);
  Stress(*session, cases, 1000, /*observe=*/false);
}

// Each run keeps its own memory account (--max-memory) and observer.
TEST(ConcurrencyTest, BudgetedObservedRunsMatchSerialRuns) {
  std::mt19937 rng(12);
  const Weights weights = RandomWeights(rng);
  SessionOptions options;
  // Room for one run's tensors (weights 66 KiB, activations up to 12 KiB each),
  // not for two runs' worth: the cap binds each run's own account.
  options.max_memory_bytes = 160 << 10;
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(MlpGraph(weights.w, weights.b),
                                                     DefaultRegistry(), options));
  const std::vector<Case> cases = SerialCases(*session, weights.w, weights.b, rng);
  ASSERT_EQ(cases.size(), 12u);
  Stress(*session, cases, 200, /*observe=*/true);
}

// Without buffer reuse (plain execution) the same holds.
TEST(ConcurrencyTest, RunsWithoutBufferReuseMatchSerialRuns) {
  std::mt19937 rng(13);
  const Weights weights = RandomWeights(rng);
  SessionOptions options;
  options.reuse_buffers = false;
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(MlpGraph(weights.w, weights.b),
                                                     DefaultRegistry(), options));
  const std::vector<Case> cases = SerialCases(*session, weights.w, weights.b, rng);
  ASSERT_EQ(cases.size(), 12u);
  Stress(*session, cases, 200, /*observe=*/false);
}

}  // namespace
}  // namespace onyx
