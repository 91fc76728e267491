// CUDA class-index losses against the CPU kernels: SoftmaxCrossEntropyLoss
// (12, 13), NegativeLogLikelihoodLoss (12, 13, 22), CrossEntropyLoss and their
// Grad ops (from log_prob and from the scores), every reduction, with and
// without class weights and ignore_index, label smoothing, int32/int64 labels,
// and shapes that pick each row grouping of class_loss_plan.h. Then many
// blocks of partial sums (bitwise repeatable), bad labels reported as the CPU
// reports them, and the float64 fallback.
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "tests/unit/gpu/loss_gpu_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::NodeSpec;
using testing_util::StringAttr;

struct ClassCase {
  std::string op = "";
  int64_t opset = 13;
  Shape shape = {};  // [N, C, d...]
  std::string reduction = "";
  bool weights = false;
  bool ignore = false;  // an ignore_index attribute (ONNX: -1; CrossEntropyLoss: class 2)
  float eps = 0;        // CrossEntropyLoss label_smoothing
  bool int32_labels = false;

  std::string Name() const {
    return absl::StrCat(op, opset, "_", absl::StrJoin(shape, "x"), "_", reduction,
                        weights ? "_w" : "", ignore ? "_ii" : "",
                        eps > 0 ? absl::StrCat("_eps", static_cast<int>(eps * 100)) : "",
                        int32_labels ? "_i32" : "");
  }
};

// gtest and ctest print the case by name.
void PrintTo(const ClassCase& c, std::ostream* os) { *os << c.Name(); }

std::vector<ClassCase> ClassCases() {
  const std::vector<std::pair<std::string, int64_t>> ops = {
      {"SoftmaxCrossEntropyLoss", 12},   {"SoftmaxCrossEntropyLoss", 13},
      {"NegativeLogLikelihoodLoss", 12}, {"NegativeLogLikelihoodLoss", 13},
      {"NegativeLogLikelihoodLoss", 22}, {"CrossEntropyLoss", 1}};
  // Thread per row (few classes; D >= 32), warp per row (contiguous; D < 32),
  // block per row, and no rows at all.
  const std::vector<Shape> shapes = {{6, 3}, {9, 40}, {3, 4100}, {4, 33, 5}, {2, 5, 8, 6}, {0, 4}};
  std::vector<ClassCase> cases;
  for (const auto& [op, opset] : ops) {
    for (size_t s = 0; s < shapes.size(); ++s) {
      for (const char* red : {"none", "sum", "mean"}) {
        for (int flags = 0; flags < 4; ++flags) {
          ClassCase c{.op = op, .opset = opset, .shape = shapes[s], .reduction = red};
          c.weights = flags & 1;
          c.ignore = flags & 2;
          if (op == "CrossEntropyLoss") c.eps = flags == 0 ? 0.f : (flags == 2 ? 0.25f : 0.1f);
          c.int32_labels = (flags + s) % 2 == 1;
          cases.push_back(c);
        }
      }
    }
  }
  return cases;
}

struct ClassInputs {
  Tensor x, labels, weights;
  int64_t c = 0;
};

ClassInputs MakeInputs(const ClassCase& cs, uint32_t seed) {
  ClassInputs in;
  in.c = cs.shape[1];
  in.x = RandomFloats(cs.shape, -4.f, 4.f, seed);
  Shape label_shape = cs.shape;
  label_shape.erase(label_shape.begin() + 1);
  std::mt19937 rng(seed + 1);
  std::uniform_int_distribution<int64_t> label(0, in.c - 1);
  std::vector<int64_t> y(NumElements(label_shape));
  for (int64_t& v : y) v = label(rng);
  const bool ce = cs.op == "CrossEntropyLoss";
  if (y.size() > 2) {
    if (cs.ignore) y[0] = ce ? 2 : -1;  // ignored rows among the others
    if (ce) y[1] = -100;                // torch's default ignore_index (ignored unless overridden)
    if (ce && cs.ignore) y[1] = 0;
  }
  if (cs.int32_labels) {
    in.labels = *Tensor::FromVector<int32_t>(label_shape, std::vector<int32_t>(y.begin(), y.end()));
  } else {
    in.labels = *Tensor::FromVector<int64_t>(label_shape, y);
  }
  if (cs.weights) in.weights = RandomFloats({in.c}, 0.2f, 2.f, seed + 2);
  return in;
}

std::vector<Attribute> Attrs(const ClassCase& cs) {
  std::vector<Attribute> attrs = {StringAttr("reduction", cs.reduction)};
  if (cs.ignore) attrs.push_back(IntAttr("ignore_index", cs.op == "CrossEntropyLoss" ? 2 : -1));
  if (cs.eps > 0) attrs.push_back(FloatAttr("label_smoothing", cs.eps));
  return attrs;
}

std::vector<Tensor> WithWeights(std::vector<Tensor> inputs, const Tensor& weights) {
  if (!weights.empty()) inputs.push_back(weights);
  return inputs;
}

struct BothRuns {
  absl::StatusOr<std::vector<Tensor>> cpu, gpu;
  LossNodeObserver observer;
};

BothRuns RunBoth(const NodeSpec& spec, const std::vector<Tensor>& inputs) {
  const Graph graph = testing_util::OneNodeGraph(spec, inputs);
  const NamedTensors feeds = testing_util::InputFeeds(inputs);
  BothRuns runs;
  runs.cpu = RunLossGraph(graph, feeds, Device::kCpu);
  runs.gpu = RunLossGraph(graph, feeds, Device::kCuda, &runs.observer);
  return runs;
}

NodeSpec Spec(const ClassCase& cs, const std::string& op, std::vector<Attribute> attrs,
              int outputs) {
  const bool onnx = op == "SoftmaxCrossEntropyLoss" || op == "NegativeLogLikelihoodLoss";
  return NodeSpec{.op_type = op,
                  .domain = onnx ? "" : kOnyxDomain,
                  .attrs = std::move(attrs),
                  .opset = onnx ? cs.opset : 13,
                  .outputs = testing_util::NumberedNames("y", outputs),
                  .imports = {kOnyxDomain}};
}

class ClassLossGpuTest : public GpuParamTest<ClassCase> {};

TEST_P(ClassLossGpuTest, ForwardAndBackwardMatchCpu) {
  const ClassCase& cs = GetParam();
  const ClassInputs in = MakeInputs(cs, 41);
  const bool softmax = cs.op != "NegativeLogLikelihoodLoss";
  const int outputs = softmax ? 2 : 1;
  BothRuns f =
      RunBoth(Spec(cs, cs.op, Attrs(cs), outputs), WithWeights({in.x, in.labels}, in.weights));
  ASSERT_OK(f.cpu.status());
  ASSERT_OK(f.gpu.status());
  EXPECT_TRUE(f.observer.all_on_device);
  EXPECT_TRUE(AllClose<float>((*f.gpu)[0], (*f.cpu)[0], 1e-5, 1e-5)) << "loss";
  if (softmax) {
    EXPECT_TRUE(AllClose<float>((*f.gpu)[1], (*f.cpu)[1], 1e-5, 1e-5)) << "log_prob";
  }

  Shape label_shape = cs.shape;
  label_shape.erase(label_shape.begin() + 1);
  const Tensor dloss = cs.reduction == "none"
                           ? RandomFloats(label_shape, -1.f, 1.f, 42)
                           : *Tensor::FromVector<float>({}, std::vector<float>{0.75f});
  // Softmax ops: from the forward's log_prob (the default input_kind) and from
  // the scores; NLL: from its log-probability input.
  for (bool from_scores : softmax ? std::vector<bool>{false, true} : std::vector<bool>{true}) {
    SCOPED_TRACE(from_scores ? "from scores" : "from log_prob");
    std::vector<Attribute> attrs = Attrs(cs);
    if (softmax && from_scores) attrs.push_back(StringAttr("input_kind", "scores"));
    const Tensor& input = from_scores ? in.x : (*f.cpu)[1];
    BothRuns b = RunBoth(Spec(cs, cs.op + "Grad", attrs, 1),
                         WithWeights({dloss, input, in.labels}, in.weights));
    ASSERT_OK(b.cpu.status());
    ASSERT_OK(b.gpu.status());
    EXPECT_TRUE(b.observer.all_on_device);
    EXPECT_TRUE(AllClose<float>((*b.gpu)[0], (*b.cpu)[0], 1e-4, 2e-6)) << "dx";
  }
}

INSTANTIATE_TEST_SUITE_P(All, ClassLossGpuTest, ::testing::ValuesIn(ClassCases()),
                         [](const auto& info) { return info.param.Name(); });

// Tens of thousands of rows: hundreds of blocks of partials (more than the
// final block's 256 threads), summed in a fixed order, so two runs agree to
// the bit; weights, ignored rows and smoothing on a thread-per-row and a
// warp-per-row layout.
TEST_F(GpuTest, ClassLossManyBlocksRepeatable) {
  for (const Shape& shape : {Shape{70000, 3}, Shape{3000, 64}, Shape{4, 7, 9000}}) {
    ClassCase cs{.op = "CrossEntropyLoss",
                 .opset = 1,
                 .shape = shape,
                 .reduction = "mean",
                 .weights = true,
                 .ignore = true,
                 .eps = 0.1f};
    SCOPED_TRACE(cs.Name());
    const ClassInputs in = MakeInputs(cs, 7);
    const std::vector<Tensor> inputs = WithWeights({in.x, in.labels}, in.weights);
    BothRuns a = RunBoth(Spec(cs, cs.op, Attrs(cs), 1), inputs);
    BothRuns b = RunBoth(Spec(cs, cs.op, Attrs(cs), 1), inputs);
    ASSERT_OK(a.gpu.status());
    ASSERT_OK(b.gpu.status());
    ASSERT_OK(a.cpu.status());
    EXPECT_TRUE(a.observer.all_on_device);
    EXPECT_TRUE(AllClose<float>((*a.gpu)[0], (*a.cpu)[0], 1e-5, 0));
    EXPECT_TRUE(AllClose<float>((*a.gpu)[0], (*b.gpu)[0], 0, 0));
    std::vector<Attribute> attrs = Attrs(cs);
    attrs.push_back(StringAttr("input_kind", "scores"));
    const Tensor one = *Tensor::FromVector<float>({}, std::vector<float>{1.f});
    BothRuns g = RunBoth(Spec(cs, cs.op + "Grad", attrs, 1),
                         WithWeights({one, in.x, in.labels}, in.weights));
    ASSERT_OK(g.gpu.status());
    ASSERT_OK(g.cpu.status());
    EXPECT_TRUE(AllClose<float>((*g.gpu)[0], (*g.cpu)[0], 1e-4, 1e-9));
  }
}

// A label outside [0, C) that is not ignore_index: the same InvalidArgument,
// naming the node and the first bad position, as the CPU kernel.
TEST_F(GpuTest, ClassLossBadLabelMatchesCpu) {
  for (const char* op : {"NegativeLogLikelihoodLoss", "CrossEntropyLoss"}) {
    for (bool int32_labels : {false, true}) {
      for (const char* red : {"none", "mean"}) {
        for (bool grad : {false, true}) {
          ClassCase cs{.op = op,
                       .opset = 13,
                       .shape = {5000, 4},
                       .reduction = red,
                       .ignore = true,
                       .int32_labels = int32_labels};
          SCOPED_TRACE(cs.Name() + (grad ? " grad" : ""));
          ClassInputs in = MakeInputs(cs, 9);
          auto set = [&](int64_t i, int64_t v) {
            if (int32_labels) {
              in.labels.data<int32_t>()[i] = static_cast<int32_t>(v);
            } else {
              in.labels.data<int64_t>()[i] = v;
            }
          };
          set(3210, 4);   // first bad
          set(4000, -7);  // later bad
          std::vector<Tensor> inputs = {in.x, in.labels};
          std::string node_op = op;
          std::vector<Attribute> attrs = Attrs(cs);
          if (grad) {
            const Tensor dloss = std::string(red) == "none"
                                     ? RandomFloats({5000}, -1.f, 1.f, 3)
                                     : *Tensor::FromVector<float>({}, std::vector<float>{1.f});
            inputs.insert(inputs.begin(), dloss);
            node_op += "Grad";
            if (std::string(op) == "CrossEntropyLoss") {
              attrs.push_back(StringAttr("input_kind", "scores"));
            }
          }
          BothRuns r = RunBoth(Spec(cs, node_op, attrs, 1), inputs);
          ASSERT_FALSE(r.cpu.ok());
          ASSERT_FALSE(r.gpu.ok());
          EXPECT_EQ(r.gpu.status().code(), absl::StatusCode::kInvalidArgument);
          EXPECT_EQ(r.gpu.status().message(), r.cpu.status().message());
          EXPECT_THAT(std::string(r.gpu.status().message()), ::testing::HasSubstr("position 3210"));
        }
      }
    }
  }
}

// float64 scores have no CUDA kernel: Unimplemented before any output, and the
// session runs the CPU kernel (same results, outputs on the host).
TEST_F(GpuTest, ClassLossFloat64FallsBackToCpu) {
  std::vector<double> x = {0.1, -0.4, 2.0, 1.0, 0.0, -1.0};
  const Tensor scores = *Tensor::FromVector<double>({2, 3}, x);
  const Tensor labels = *Tensor::FromVector<int64_t>({2}, std::vector<int64_t>{2, 0});
  ClassCase cs{.op = "SoftmaxCrossEntropyLoss", .opset = 13, .shape = {2, 3}, .reduction = "mean"};
  BothRuns r = RunBoth(Spec(cs, cs.op, Attrs(cs), 2), {scores, labels});
  ASSERT_OK(r.cpu.status());
  ASSERT_OK(r.gpu.status());
  EXPECT_EQ(r.observer.loss_nodes, 1);
  EXPECT_FALSE(r.observer.all_on_device);
  EXPECT_TRUE(AllClose<double>((*r.gpu)[0], (*r.cpu)[0], 0, 0));
  EXPECT_TRUE(AllClose<double>((*r.gpu)[1], (*r.cpu)[1], 0, 0));
}

}  // namespace
}  // namespace onyx::gpu_test
