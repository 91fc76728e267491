// Whole training graphs with each loss on CUDA against the same graphs on the
// CPU: the small MLP of tests/unit/train/train_cases.h, a loss node, and the
// backward built by BuildGradientGraph; the loss and every parameter gradient
// must agree and both loss nodes (forward and Grad) must run their CUDA
// kernels. Then device-resident Trainer runs with the classification and
// binary losses against the host trainer.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/training/autograd.h"
#include "runtime/training/trainer.h"
#include "tests/unit/gpu/loss_gpu_util.h"
#include "tests/unit/train/train_cases.h"

namespace onyx::gpu_test {
namespace {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::StringAttr;

struct GraphCase {
  std::string name = "";
  std::string op = "";
  std::string domain = kOnyxDomain;
  std::string activation = "";  // applied to the MLP output before the loss ("" = none)
  bool labels = false;          // int64 class labels, else float targets in [0, 1]
  bool weights = false;
  bool log_prob = false;  // SoftmaxCrossEntropyLoss's second output (its Grad reads it)
  std::vector<Attribute> attrs = {};
};

void PrintTo(const GraphCase& c, std::ostream* os) { *os << c.name; }

std::vector<GraphCase> GraphCases() {
  return {
      {.name = "mse", .op = "MseLoss"},
      {.name = "mse_sum", .op = "MseLoss", .attrs = {StringAttr("reduction", "sum")}},
      {.name = "bce", .op = "BceLoss", .activation = "Sigmoid"},
      {.name = "bce_logits", .op = "BceWithLogitsLoss"},
      {.name = "cross_entropy", .op = "CrossEntropyLoss", .labels = true},
      {.name = "cross_entropy_weights_smoothing",
       .op = "CrossEntropyLoss",
       .labels = true,
       .weights = true,
       .attrs = {FloatAttr("label_smoothing", 0.1f)}},
      {.name = "cross_entropy_sum_ignore",
       .op = "CrossEntropyLoss",
       .labels = true,
       .attrs = {StringAttr("reduction", "sum"), IntAttr("ignore_index", 1)}},
      {.name = "softmax_cross_entropy_log_prob",
       .op = "SoftmaxCrossEntropyLoss",
       .domain = "",
       .labels = true,
       .weights = true,
       .log_prob = true},
      {.name = "nll_after_log_softmax",
       .op = "NegativeLogLikelihoodLoss",
       .domain = "",
       .activation = "LogSoftmax",
       .labels = true,
       .attrs = {IntAttr("ignore_index", 2)}},
  };
}

constexpr int64_t kBatch = 12;

Tensor Targets(const GraphCase& c) {
  if (!c.labels) return train_test::Uniform({kBatch, 3}, 0.f, 1.f, 12);
  std::vector<int64_t> y(kBatch);
  for (int64_t i = 0; i < kBatch; ++i) y[i] = (i * 7 + 1) % 3;
  return *Tensor::FromVector<int64_t>({kBatch}, y);
}

// MLP -> [activation] -> loss, then the backward to W1, b1, W2, b2.
absl::StatusOr<Graph> TrainingGraph(const GraphCase& c, const Tensor& target) {
  Graph g = train_test::SmallMlp();
  std::string out = "y";
  if (!c.activation.empty()) {
    g.nodes.push_back(testing_util::MakeNode(c.activation, {"y"}, {"act"}, {}, "", g.nodes.size()));
    out = "act";
  }
  g.inputs.push_back(testing_util::InputInfo("target", target));
  Node loss =
      testing_util::MakeNode(c.op, {out, "target"}, {"loss"}, c.attrs, c.domain, g.nodes.size());
  if (c.weights) {
    g.initializers["class_weights"] =
        *Tensor::FromVector<float>({3}, std::vector<float>{0.5f, 2.f, 1.25f});
    loss.inputs.push_back("class_weights");
  }
  if (c.log_prob) loss.outputs.push_back("log_prob");
  g.nodes.push_back(std::move(loss));
  g.opset_imports[kOnyxDomain] = 1;
  g.outputs.clear();
  auto grad = BuildGradientGraph(std::move(g), "loss", {"W1", "b1", "W2", "b2"}, DefaultRegistry());
  if (!grad.ok()) return grad.status();
  return grad->graph;
}

class LossGraphGpuTest : public GpuParamTest<GraphCase> {};

TEST_P(LossGraphGpuTest, LossAndGradientsMatchCpu) {
  const GraphCase& c = GetParam();
  const Tensor target = Targets(c);
  ASSERT_OK_AND_ASSIGN(Graph graph, TrainingGraph(c, target));
  const NamedTensors feeds = {{"x", train_test::Uniform({kBatch, 4}, -1.f, 1.f, 11)},
                              {"target", target}};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> cpu, RunLossGraph(graph, feeds, Device::kCpu));
  LossNodeObserver observer;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunLossGraph(graph, feeds, Device::kCuda, &observer));
  EXPECT_EQ(observer.loss_nodes, 2);  // the loss and its Grad node
  EXPECT_TRUE(observer.all_on_device);
  ASSERT_EQ(cpu.size(), 5u);  // loss, then the four gradients
  ASSERT_EQ(gpu.size(), cpu.size());
  EXPECT_EQ(cpu[0].shape(), Shape{});
  for (size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_TRUE(AllClose<float>(gpu[i], cpu[i], 1e-4, 1e-6)) << graph.outputs[i].name;
  }
}

INSTANTIATE_TEST_SUITE_P(Losses, LossGraphGpuTest, ::testing::ValuesIn(GraphCases()),
                         [](const auto& info) { return info.param.name; });

// Device-resident training (graph and step on the GPU) against the host trainer.
struct TrainLossCase {
  std::string loss = "";
  bool sigmoid_output = false;
  std::vector<float> class_weights = {};
  double label_smoothing = 0;
};

void PrintTo(const TrainLossCase& c, std::ostream* os) {
  *os << c.loss << (c.class_weights.empty() ? "" : " with class weights and smoothing");
}

class LossTrainGpuTest : public GpuParamTest<TrainLossCase> {};

std::unique_ptr<Trainer> MakeTrainer(const TrainLossCase& c, const OpRegistry& registry,
                                     bool on_gpu) {
  TrainConfig config = train_test::Config(train_test::Cases()[0]);  // plain SGD
  config.loss = c.loss;
  config.class_weights = c.class_weights;
  config.label_smoothing = c.label_smoothing;
  if (on_gpu) {
    auto backend = cuda::CudaBackend::Create();
    EXPECT_TRUE(backend.ok()) << backend.status();
    if (!backend.ok()) return nullptr;
    config.session.device = Device::kCuda;
    config.session.backend = *backend;
  }
  Graph model = train_test::SmallMlp();
  if (c.sigmoid_output) {  // BceLoss takes probabilities
    model.nodes.back().outputs = {"logits"};
    model.nodes.push_back(
        testing_util::MakeNode("Sigmoid", {"logits"}, {"y"}, {}, "", model.nodes.size()));
  }
  auto trainer = Trainer::Create(std::move(model), config, registry);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  return trainer.ok() ? *std::move(trainer) : nullptr;
}

TEST_P(LossTrainGpuTest, DeviceTrainingMatchesHost) {
  const TrainLossCase& c = GetParam();
  std::unique_ptr<Trainer> host = MakeTrainer(c, train_test::CpuOnlyRegistry(), false);
  std::unique_ptr<Trainer> gpu = MakeTrainer(c, DefaultRegistry(), true);
  ASSERT_NE(host, nullptr);
  ASSERT_NE(gpu, nullptr);
  ASSERT_TRUE(gpu->device_resident());
  const Tensor x = train_test::Uniform({kBatch, 4}, -1.f, 1.f, 11);
  const Tensor y =
      c.loss == "cross_entropy" ? Targets(GraphCase{.labels = true}) : Targets(GraphCase{});
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto hs = host->TrainEpoch(x, y);
    auto gs = gpu->TrainEpoch(x, y);
    ASSERT_TRUE(hs.ok()) << hs.status();
    ASSERT_TRUE(gs.ok()) << gs.status();
    EXPECT_NEAR(gs->loss, hs->loss, 1e-4 * std::abs(hs->loss) + 1e-6) << "epoch " << epoch;
  }
  auto hp = host->HostParams();
  auto gp = gpu->HostParams();
  ASSERT_TRUE(hp.ok() && gp.ok());
  for (size_t p = 0; p < hp->size(); ++p) {
    EXPECT_TRUE(AllClose<float>((*gp)[p], (*hp)[p], 1e-4, 1e-5)) << gpu->param_names()[p];
  }
}

INSTANTIATE_TEST_SUITE_P(Losses, LossTrainGpuTest,
                         ::testing::Values(TrainLossCase{.loss = "cross_entropy"},
                                           TrainLossCase{.loss = "cross_entropy",
                                                         .class_weights = {0.5f, 2.f, 1.25f},
                                                         .label_smoothing = 0.1},
                                           TrainLossCase{.loss = "bce", .sigmoid_output = true},
                                           TrainLossCase{.loss = "bce_logits"}),
                         [](const auto& info) {
                           return info.param.loss +
                                  (info.param.class_weights.empty() ? "" : "_weights_smoothing");
                         });

}  // namespace
}  // namespace onyx::gpu_test
