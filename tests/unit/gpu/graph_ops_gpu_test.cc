// The CUDA kernels that keep training graphs on the GPU, against the CPU
// kernels: com.onyx MatMulT, MatMulGrad, ReduceToShape, ClipGrad, Clip, and the
// view / shape ops (outputs share the input's device buffer: no copy). Then
// whole training graphs (tutorial MLP, small CNN) on CUDA against the CPU.
#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "importers/onnx/onnx_importer.h"
#include "tests/unit/gpu/gpu_test_util.h"
#include "tests/unit/gpu/training_graphs.h"

namespace onyx::gpu_test {
namespace {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::NodeSpec;

// Records which ops left host outputs (ran on the CPU, or produce host
// metadata such as Shape) and which were handed a device input (a CPU
// fallback is handed host copies of every input).
class OnDeviceObserver final : public RunObserver {
 public:
  void OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
              absl::Span<const Tensor> outputs, std::chrono::steady_clock::time_point,
              std::chrono::steady_clock::time_point) override {
    for (const Tensor& t : outputs) {
      if (!t.empty() && !t.on_device()) host_ops.insert(node.op_type);
    }
    for (const Tensor* t : inputs) {
      if (t != nullptr && t->on_device()) device_input_ops.insert(node.op_type);
    }
  }
  std::set<std::string> host_ops, device_input_ops;
};

struct CudaRun {
  std::vector<Tensor> outputs;
  std::set<std::string> host_ops;          // ops that left a host output
  std::set<std::string> device_input_ops;  // ops handed a device input
};

// Runs `graph` on CUDA; outputs named in `device_outputs` stay on the device.
// Graph passes are off, as in training sessions, so every node runs (folding
// would turn Shape of a fixed-shape input into a constant).
absl::StatusOr<CudaRun> RunOnCuda(std::shared_ptr<cuda::CudaBackend> backend, const Graph& graph,
                                  const NamedTensors& feeds,
                                  std::vector<std::string> device_outputs = {}) {
  SessionOptions options;
  options.opt_level = 0;
  options.device = Device::kCuda;
  options.backend = std::move(backend);
  options.device_outputs = std::move(device_outputs);
  auto session = Session::Create(graph, DefaultRegistry(), options);
  if (!session.ok()) return session.status();
  OnDeviceObserver observer;
  auto out = (*session)->Run(feeds, &observer);
  if (!out.ok()) return out.status();
  return CudaRun{*std::move(out), observer.host_ops, observer.device_input_ops};
}

std::shared_ptr<cuda::CudaBackend> Backend() {
  auto backend = cuda::CudaBackend::Create();
  EXPECT_TRUE(backend.ok()) << backend.status();
  return backend.ok() ? *backend : nullptr;
}

// The node of `spec` over `inputs` on the CPU and on CUDA: every output must
// agree, and the CUDA run must leave no host output (no CPU fallback).
void ExpectNodeMatchesCpu(const NodeSpec& spec, const std::vector<Tensor>& inputs, double rtol,
                          double atol) {
  auto cpu = testing_util::RunNodeSpec(spec, inputs);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  auto gpu = RunOnCuda(Backend(), testing_util::OneNodeGraph(spec, inputs),
                       testing_util::InputFeeds(inputs));
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  EXPECT_TRUE(gpu->host_ops.empty()) << "ran on the CPU: " << *gpu->host_ops.begin();
  ASSERT_EQ(gpu->outputs.size(), cpu->size());
  for (size_t i = 0; i < cpu->size(); ++i) {
    EXPECT_TRUE(AllClose<float>(gpu->outputs[i], (*cpu)[i], rtol, atol)) << "output " << i;
  }
}

// --- MatMulT ---------------------------------------------------------------

struct MatMulTCase {
  Shape a, b;  // as stored
  bool trans_a, trans_b;
  float alpha;
};

class MatMulTGpuTest : public GpuParamTest<MatMulTCase> {};

TEST_P(MatMulTGpuTest, MatchesCpu) {
  const MatMulTCase& c = GetParam();
  SCOPED_TRACE(ShapeToString(c.a) + " x " + ShapeToString(c.b));
  NodeSpec spec{.op_type = "MatMulT",
                .domain = kOnyxDomain,
                .attrs = {IntAttr("trans_a", c.trans_a), IntAttr("trans_b", c.trans_b),
                          FloatAttr("alpha", c.alpha)}};
  ExpectNodeMatchesCpu(spec, {RandomFloats(c.a, -1, 1, 1), RandomFloats(c.b, -1, 1, 2)}, 1e-4,
                       1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    All, MatMulTGpuTest,
    ::testing::Values(MatMulTCase{{3, 4}, {4, 5}, false, false, 1.f},
                      MatMulTCase{{4, 3}, {4, 5}, true, false, 1.f},
                      MatMulTCase{{3, 4}, {5, 4}, false, true, 0.5f},
                      MatMulTCase{{4, 3}, {5, 4}, true, true, -2.f},
                      MatMulTCase{{2, 3, 4}, {4, 5}, false, false, 1.f},
                      MatMulTCase{{3, 4}, {2, 5, 4}, false, true, 1.f},
                      MatMulTCase{{2, 1, 4, 3}, {1, 2, 4, 6}, true, false, 1.f},
                      MatMulTCase{{3, 1, 5, 2, 4}, {1, 4, 5, 4, 3}, false, false, 1.f},
                      MatMulTCase{{64, 128}, {64, 96}, true, false, 1.f},
                      MatMulTCase{{3, 0}, {0, 4}, false, false, 1.f},
                      MatMulTCase{{0, 3, 4}, {4, 2}, false, false, 1.f}));

// --- MatMulGrad ------------------------------------------------------------

struct MatMulGradCase {
  Shape a, b, y;  // y: MatMul(a, b)'s shape
  bool want_da = true, want_db = true;
};

class MatMulGradGpuTest : public GpuParamTest<MatMulGradCase> {};

TEST_P(MatMulGradGpuTest, MatchesCpu) {
  const MatMulGradCase& c = GetParam();
  SCOPED_TRACE(ShapeToString(c.a) + " x " + ShapeToString(c.b));
  NodeSpec spec{.op_type = "MatMulGrad",
                .domain = kOnyxDomain,
                .outputs = {c.want_da ? "da" : "", c.want_db ? "db" : ""}};
  ExpectNodeMatchesCpu(
      spec, {RandomFloats(c.y, -1, 1, 3), RandomFloats(c.a, -1, 1, 4), RandomFloats(c.b, -1, 1, 5)},
      1e-4, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    All, MatMulGradGpuTest,
    ::testing::Values(MatMulGradCase{{4}, {4, 5}, {5}}, MatMulGradCase{{3, 4}, {4}, {3}},
                      MatMulGradCase{{6}, {6}, {}}, MatMulGradCase{{3, 4}, {4, 5}, {3, 5}},
                      MatMulGradCase{{2, 3, 4}, {4, 5}, {2, 3, 5}},  // dB folds rows
                      MatMulGradCase{{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},
                      MatMulGradCase{{3, 4}, {2, 4, 5}, {2, 3, 5}},              // dA summed
                      MatMulGradCase{{2, 1, 3, 4}, {1, 2, 4, 6}, {2, 2, 3, 6}},  // both summed
                      MatMulGradCase{{5, 3, 4}, {1, 4, 2}, {5, 3, 2}},
                      MatMulGradCase{{4}, {2, 4, 3}, {2, 3}},
                      MatMulGradCase{{2, 3, 4}, {4, 5}, {2, 3, 5}, false, true},
                      MatMulGradCase{{2, 3, 4}, {4, 5}, {2, 3, 5}, true, false},
                      MatMulGradCase{{128, 256}, {256, 64}, {128, 64}},
                      MatMulGradCase{{3, 0}, {0, 4}, {3, 4}}));

// --- ReduceToShape ---------------------------------------------------------

struct ReduceCase {
  Shape grad, like;
};

class ReduceToShapeGpuTest : public GpuParamTest<ReduceCase> {};

TEST_P(ReduceToShapeGpuTest, MatchesCpu) {
  const ReduceCase& c = GetParam();
  SCOPED_TRACE(ShapeToString(c.grad) + " -> " + ShapeToString(c.like));
  NodeSpec spec{.op_type = "ReduceToShape", .domain = kOnyxDomain};
  ExpectNodeMatchesCpu(spec, {RandomFloats(c.grad, -1, 1, 6), RandomFloats(c.like, -1, 1, 7)}, 1e-5,
                       1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    All, ReduceToShapeGpuTest,
    ::testing::Values(ReduceCase{{64, 10}, {10}}, ReduceCase{{64, 10}, {1, 10}},
                      ReduceCase{{4096, 3000}, {3000}},          // a thread per output column
                      ReduceCase{{200000, 4}, {4}},              // a block per output, chunked
                      ReduceCase{{20000, 512}, {512}},           // a thread per column, chunked
                      ReduceCase{{16, 64, 28, 28}, {64, 1, 1}},  // a block per channel, chunked
                      ReduceCase{{8, 16, 5, 5}, {1, 16, 1, 1}},
                      ReduceCase{{8, 16, 5, 5}, {16, 1, 1}}, ReduceCase{{3, 4}, {}},
                      ReduceCase{{3, 4}, {1, 1}}, ReduceCase{{2, 3, 4, 5}, {3, 1, 5}},
                      ReduceCase{{7, 1, 5}, {1, 1, 5}}, ReduceCase{{6, 5}, {6, 1}},
                      ReduceCase{{0, 5}, {5}},
                      ReduceCase{{3, 4}, {3, 4}}));  // no-op: the buffer is shared

TEST_F(GpuTest, ReduceToShapeIsBitwiseRepeatable) {
  // Chunked sums add their partials in a fixed order: two runs agree exactly.
  NodeSpec spec{.op_type = "ReduceToShape", .domain = kOnyxDomain};
  for (const Shape& grad : {Shape{20000, 512}, Shape{300000, 3}}) {
    const std::vector<Tensor> inputs = {RandomFloats(grad, -1, 1, 21),
                                        RandomFloats({grad.back()}, -1, 1, 22)};
    const Graph g = testing_util::OneNodeGraph(spec, inputs);
    auto first = RunOnCuda(Backend(), g, testing_util::InputFeeds(inputs));
    auto second = RunOnCuda(Backend(), g, testing_util::InputFeeds(inputs));
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_TRUE(AllClose<float>(first->outputs[0], second->outputs[0], 0, 0));
  }
}

TEST_F(GpuTest, ReduceToShapeLeavesLikeOnTheHostAndSharesAnUnreducedGrad) {
  auto backend = Backend();
  ASSERT_NE(backend, nullptr);
  const std::vector<Tensor> inputs = {RandomFloats({3, 4}, -1, 1, 8),
                                      RandomFloats({3, 4}, -1, 1, 9)};
  ASSERT_OK_AND_ASSIGN(Tensor grad, backend->ToDevice(inputs[0]));
  NodeSpec spec{.op_type = "ReduceToShape", .domain = kOnyxDomain};
  auto run = RunOnCuda(backend, testing_util::OneNodeGraph(spec, inputs),
                       {{"x0", grad}, {"x1", inputs[1]}}, {"y"});
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(run->outputs[0].on_device());
  EXPECT_EQ(run->outputs[0].raw_data(), grad.raw_data());
}

// --- Views and shapes ------------------------------------------------------

struct ViewCase {
  std::string name;
  NodeSpec spec;
  Shape x;
  std::vector<Tensor> operands;  // inputs after x (shape, axes, ...)
};

Tensor Ints(std::vector<int64_t> v) {
  return *Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

std::vector<ViewCase> ViewCases() {
  return {
      {"Identity", {.op_type = "Identity", .opset = 21}, {2, 3}, {}},
      {"Reshape", {.op_type = "Reshape", .opset = 14}, {2, 3, 4}, {Ints({0, -1})}},
      {"ReshapeAllowZero",
       {.op_type = "Reshape", .attrs = {IntAttr("allowzero", 1)}, .opset = 14},
       {2, 3, 4},
       {Ints({4, 6})}},
      {"ReshapeOpset1",
       {.op_type = "Reshape", .attrs = {IntsAttr("shape", {6, 4})}, .opset = 1},
       {2, 3, 4},
       {}},
      {"Flatten",
       {.op_type = "Flatten", .attrs = {IntAttr("axis", 2)}, .opset = 13},
       {2, 3, 4, 5},
       {}},
      {"FlattenAxis0",
       {.op_type = "Flatten", .attrs = {IntAttr("axis", 0)}, .opset = 13},
       {2, 3},
       {}},
      {"FlattenNegative",
       {.op_type = "Flatten", .attrs = {IntAttr("axis", -1)}, .opset = 13},
       {2, 3, 4},
       {}},
      {"Squeeze", {.op_type = "Squeeze", .opset = 13}, {2, 1, 3, 1}, {Ints({1, -1})}},
      {"SqueezeAll", {.op_type = "Squeeze", .opset = 13}, {1, 2, 1, 3}, {}},
      {"SqueezeOpset11",
       {.op_type = "Squeeze", .attrs = {IntsAttr("axes", {0})}, .opset = 11},
       {1, 4},
       {}},
      {"Unsqueeze", {.op_type = "Unsqueeze", .opset = 13}, {2, 3}, {Ints({0, -1})}},
      {"UnsqueezeOpset11",
       {.op_type = "Unsqueeze", .attrs = {IntsAttr("axes", {1})}, .opset = 11},
       {2, 3},
       {}},
      {"Dropout",
       {.op_type = "Dropout", .opset = 13},
       {2, 3},
       {*Tensor::FromVector<float>({}, {0.5f}), *Tensor::FromVector<bool>({}, {false})}},
  };
}

class ViewGpuTest : public GpuParamTest<ViewCase> {};

TEST_P(ViewGpuTest, SharesTheDeviceBufferAndMatchesCpu) {
  const ViewCase& c = GetParam();
  auto backend = Backend();
  ASSERT_NE(backend, nullptr);
  std::vector<Tensor> inputs = {RandomFloats(c.x, -1, 1, 10)};
  for (const Tensor& t : c.operands) inputs.push_back(t);
  ASSERT_OK_AND_ASSIGN(Tensor cpu, testing_util::RunNodeSpecFirst(c.spec, inputs));
  ASSERT_OK_AND_ASSIGN(Tensor x, backend->ToDevice(inputs[0]));
  NamedTensors feeds = testing_util::InputFeeds(inputs);
  feeds[0].second = x;
  auto run = RunOnCuda(backend, testing_util::OneNodeGraph(c.spec, inputs), feeds, {"y"});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->host_ops.empty());
  const Tensor& y = run->outputs[0];
  ASSERT_TRUE(y.on_device());
  EXPECT_EQ(y.raw_data(), x.raw_data()) << "the view copied its input";
  EXPECT_EQ(y.shape(), cpu.shape());
  ASSERT_OK_AND_ASSIGN(Tensor host, backend->ToHost(y));
  EXPECT_TRUE(AllClose<float>(host, cpu, 0, 0));
}

INSTANTIATE_TEST_SUITE_P(All, ViewGpuTest, ::testing::ValuesIn(ViewCases()),
                         [](const auto& info) { return info.param.name; });

TEST_F(GpuTest, ReshapeShapeInitializerStaysOnTheHost) {
  // A shape constant read only by the CUDA Reshape is never uploaded; the
  // Reshape still runs on the device (a view of x, which is fed there: a
  // view takes its input where it is).
  auto backend = Backend();
  ASSERT_NE(backend, nullptr);
  const std::vector<Tensor> inputs = {RandomFloats({4, 6}, -1, 1, 11), Ints({3, 8})};
  ASSERT_OK_AND_ASSIGN(Tensor x, backend->ToDevice(inputs[0]));
  Graph g = testing_util::OneNodeGraph(NodeSpec{.op_type = "Reshape", .opset = 14}, inputs);
  g.initializers["x1"] = inputs[1];
  std::erase_if(g.inputs, [](const ValueInfo& v) { return v.name == "x1"; });
  auto run = RunOnCuda(backend, g, {{"x0", x}});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->host_ops.empty());
  EXPECT_EQ(run->outputs[0].shape(), (Shape{3, 8}));
  EXPECT_TRUE(AllClose<float>(*run->outputs[0].Reshaped({4, 6}), inputs[0], 0, 0));
}

TEST_F(GpuTest, DropoutMaskIsAllTrueOnTheDevice) {
  const std::vector<Tensor> inputs = {RandomFloats({5, 7}, -1, 1, 12)};
  NodeSpec spec{.op_type = "Dropout", .opset = 13, .outputs = {"y", "mask"}};
  auto run = RunOnCuda(Backend(), testing_util::OneNodeGraph(spec, inputs),
                       testing_util::InputFeeds(inputs));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->host_ops.empty());
  const Tensor& mask = run->outputs[1];
  ASSERT_EQ(mask.dtype(), DataType::kBool);
  for (int64_t i = 0; i < mask.num_elements(); ++i) EXPECT_TRUE(mask.data<bool>()[i]) << i;
}

TEST_F(GpuTest, ShapeAndSizeReadTheShapeOfADeviceTensorOnly) {
  auto backend = Backend();
  ASSERT_NE(backend, nullptr);
  const std::vector<Tensor> inputs = {RandomFloats({2, 3, 4, 5}, -1, 1, 13)};
  ASSERT_OK_AND_ASSIGN(Tensor x, backend->ToDevice(inputs[0]));
  struct Case {
    NodeSpec spec;
    std::vector<int64_t> want;
  };
  const std::vector<Case> cases = {
      {{.op_type = "Shape", .opset = 13}, {2, 3, 4, 5}},
      {{.op_type = "Shape", .attrs = {IntAttr("start", 1), IntAttr("end", -1)}, .opset = 15},
       {3, 4}},
      {{.op_type = "Shape", .attrs = {IntAttr("start", -10)}, .opset = 15}, {2, 3, 4, 5}},
      {{.op_type = "Size", .opset = 13}, {120}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec.op_type);
    auto run = RunOnCuda(backend, testing_util::OneNodeGraph(c.spec, inputs), {{"x0", x}});
    ASSERT_TRUE(run.ok()) << run.status();
    // The CUDA kernel ran: it was handed x where it was, on the device.
    EXPECT_TRUE(run->device_input_ops.count(c.spec.op_type)) << "x was copied to the host";
    const Tensor& y = run->outputs[0];
    ASSERT_EQ(y.dtype(), DataType::kInt64);
    ASSERT_EQ(y.num_elements(), static_cast<int64_t>(c.want.size()));
    for (size_t i = 0; i < c.want.size(); ++i) EXPECT_EQ(y.data<int64_t>()[i], c.want[i]);
  }
}

// --- Clip and ClipGrad -----------------------------------------------------

// Values with the bounds themselves, NaN and infinities among them.
Tensor ClipInput(uint32_t seed) {
  Tensor x = RandomFloats({1000}, -8, 8, seed);
  float* v = x.data<float>();
  v[0] = std::numeric_limits<float>::quiet_NaN();
  v[1] = std::numeric_limits<float>::infinity();
  v[2] = -std::numeric_limits<float>::infinity();
  v[3] = -1.f;  // == min below
  v[4] = 2.f;   // == max below
  return x;
}

Tensor Scalar(float v) { return *Tensor::FromVector<float>({}, {v}); }

TEST_F(GpuTest, ClipMatchesCpuExactly) {
  const Tensor x = ClipInput(14);
  struct Case {
    NodeSpec spec;
    std::vector<Tensor> inputs;
  };
  const std::vector<Case> cases = {
      {{.op_type = "Clip", .attrs = {FloatAttr("min", -1), FloatAttr("max", 2)}, .opset = 6}, {x}},
      {{.op_type = "Clip", .attrs = {FloatAttr("max", 2)}, .opset = 6}, {x}},
      {{.op_type = "Clip", .opset = 11}, {x, Scalar(-1), Scalar(2)}},
      {{.op_type = "Clip", .opset = 13}, {x, Scalar(-1)}},
      {{.op_type = "Clip", .opset = 13}, {x, Tensor(), Scalar(2)}},
      {{.op_type = "Clip", .opset = 13}, {x}},
      {{.op_type = "Clip", .opset = 13}, {x, Scalar(3), Scalar(1)}},  // lo > hi: hi wins
      {{.op_type = "Clip", .opset = 13},
       {x, Scalar(std::numeric_limits<float>::quiet_NaN()), Scalar(2)}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectNodeMatchesCpu(cases[i].spec, cases[i].inputs, 0, 0);
  }
}

TEST_F(GpuTest, ClipGradMatchesCpuExactly) {
  const Tensor x = ClipInput(15);
  const Tensor dy = RandomFloats({1000}, -1, 1, 16);
  struct Case {
    NodeSpec spec;
    std::vector<Tensor> inputs;
  };
  const std::vector<Case> cases = {
      {{.op_type = "ClipGrad", .domain = kOnyxDomain}, {dy, x, Scalar(-1), Scalar(2)}},
      {{.op_type = "ClipGrad", .domain = kOnyxDomain}, {dy, x, Scalar(-1)}},
      {{.op_type = "ClipGrad", .domain = kOnyxDomain}, {dy, x, Tensor(), Scalar(2)}},
      {{.op_type = "ClipGrad", .domain = kOnyxDomain}, {dy, x}},  // ±inf: outside float's range
      {{.op_type = "ClipGrad",
        .domain = kOnyxDomain,
        .attrs = {FloatAttr("min", -1), FloatAttr("max", 2)}},
       {dy, x}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectNodeMatchesCpu(cases[i].spec, cases[i].inputs, 0, 0);
  }
}

// --- Whole training graphs -------------------------------------------------

// The training graph run on the CPU and on CUDA with the same feeds: the loss
// and every gradient agree, and only `allowed_host_ops` left host outputs.
void ExpectTrainingGraphMatchesCpu(const TrainingGraph& train, const NamedTensors& feeds,
                                   const std::set<std::string>& allowed_host_ops, double rtol,
                                   double atol) {
  auto cpu = RunGraph(train.grad.graph, feeds, Device::kCpu);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  auto gpu = RunOnCuda(Backend(), train.grad.graph, feeds);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  for (const std::string& op : gpu->host_ops) {
    EXPECT_TRUE(allowed_host_ops.count(op)) << op << " ran on the CPU";
  }
  ASSERT_EQ(gpu->outputs.size(), cpu->size());
  for (size_t i = 0; i < cpu->size(); ++i) {
    EXPECT_TRUE(AllClose<float>(gpu->outputs[i], (*cpu)[i], rtol, atol))
        << train.grad.graph.outputs[i].name;
  }
}

TEST_F(GpuTest, TutorialMlpMseTrainingGraphMatchesCpu) {
  auto model = LoadOnnxModel(std::string(ONYX_SOURCE_DIR) + "/models/tutorial_mlp/model.onnx");
  ASSERT_TRUE(model.ok()) << model.status();
  auto train = BuildTrainingGraph(*model, "MseLoss", DataType::kFloat32);
  ASSERT_TRUE(train.ok()) << train.status();
  NamedTensors feeds = {{"input", RandomFloats({16, 20}, -1, 1, 17)},
                        {"target", RandomFloats({16, 2}, 0, 1, 18)}};
  for (const std::string& p : train->params) feeds.emplace_back(p, model->initializers.at(p));
  // The loss ops get their CUDA kernels on another branch.
  ExpectTrainingGraphMatchesCpu(*train, feeds, {"MseLoss", "MseLossGrad"}, 1e-4, 1e-5);
}

TEST_F(GpuTest, SmallCnnMseTrainingGraphMatchesCpu) {
  const Graph cnn = SmallCnn();
  auto train = BuildTrainingGraph(cnn, "MseLoss", DataType::kFloat32);
  ASSERT_TRUE(train.ok()) << train.status();
  NamedTensors feeds = {{"x", RandomFloats({2, 3, 8, 8}, -1, 1, 19)},
                        {"target", RandomFloats({2, 5}, 0, 1, 20)}};
  for (const std::string& p : train->params) feeds.emplace_back(p, cnn.initializers.at(p));
  ExpectTrainingGraphMatchesCpu(
      *train, feeds, {"MseLoss", "MseLossGrad", "MaxPoolGrad", "GlobalAveragePoolGrad", "Shape"},
      1e-3, 1e-4);
}

}  // namespace
}  // namespace onyx::gpu_test
