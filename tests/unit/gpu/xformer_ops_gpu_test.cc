// The CUDA kernels of the transformer ops (LayerNormalization and its Grad,
// Transpose, Gather, Concat, Slice and SliceGrad, Cast, Erf and the other unary
// ops with their Grads) against the CPU kernels, over tables of shapes,
// attributes and dtypes; data movement and Cast must match bit for bit. Ends
// with an attention block (Gather, Slice, LayerNorm, MatMul, Reshape,
// Transpose, Softmax, Concat, Erf, Cast) run on both devices.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::NodeSpec;

// Random contents of any dtype: floats in [-3, 3], bools 0/1, raw bytes otherwise.
Tensor RandomTensor(DataType dtype, const Shape& shape, uint32_t seed) {
  if (dtype == DataType::kFloat32) return RandomFloats(shape, -3.f, 3.f, seed);
  Tensor t = *Tensor::Zeros(dtype, shape);
  std::mt19937 rng(seed);
  const int64_t n = NumElements(shape);
  if (dtype == DataType::kFloat64) {
    std::uniform_real_distribution<double> dist(-3.0, 3.0);
    for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = dist(rng);
    return t;
  }
  auto* bytes = static_cast<uint8_t*>(t.raw_data());
  const int64_t size = n * static_cast<int64_t>(DataTypeSize(dtype));
  for (int64_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(dtype == DataType::kBool ? rng() & 1 : rng());
  }
  return t;
}

Tensor Ints(const std::vector<int64_t>& v) {
  return *Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

::testing::AssertionResult BitsEqual(const Tensor& gpu, const Tensor& cpu) {
  if (gpu.dtype() != cpu.dtype() || gpu.shape() != cpu.shape()) {
    return ::testing::AssertionFailure() << gpu.DebugString() << " vs " << cpu.DebugString();
  }
  const size_t bytes = static_cast<size_t>(cpu.num_elements()) * DataTypeSize(cpu.dtype());
  if (bytes > 0 && std::memcmp(gpu.raw_data(), cpu.raw_data(), bytes) != 0) {
    return ::testing::AssertionFailure() << "bytes differ: " << cpu.DebugString();
  }
  return ::testing::AssertionSuccess();
}

struct BothRuns {
  std::vector<Tensor> cpu, gpu;
  bool on_device = false;  // every node ran its CUDA kernel
};

constexpr int kAllOnDevice = 1 << 20;

// The one-node graph of `spec` on a CUDA session. The first `device_inputs`
// inputs are fed as device tensors (activations made by an earlier device
// node), the rest on the host (graph inputs, shape values): host floats go to
// the device, and host integers are left to the CPU kernel.
absl::StatusOr<std::vector<Tensor>> RunOnCuda(const Graph& g, const std::vector<Tensor>& inputs,
                                              int device_inputs, bool* on_device) {
  auto backend = cuda::CudaBackend::Create();
  if (!backend.ok()) return backend.status();
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) continue;
    const std::string name = testing_util::InputName(i);
    if (static_cast<int>(i) < device_inputs) {
      auto d = (*backend)->ToDevice(inputs[i]);
      if (!d.ok()) return d.status();
      feeds.emplace_back(name, *std::move(d));
    } else {
      feeds.emplace_back(name, inputs[i]);
    }
  }
  SessionOptions options;
  options.device = Device::kCuda;
  options.backend = *backend;
  auto session = Session::Create(g, DefaultRegistry(), options);
  if (!session.ok()) return session.status();
  DeviceOutputObserver observer;
  auto out = (*session)->Run(feeds, &observer);
  *on_device = observer.nodes > 0 && observer.all_on_device;
  return out;
}

// The graph on the CPU and on CUDA. When either fails both must (Internal
// otherwise), and the CUDA session's status is returned, so error tests check
// what the CUDA kernels report.
absl::StatusOr<BothRuns> RunBoth(const NodeSpec& spec, const std::vector<Tensor>& inputs,
                                 int device_inputs = kAllOnDevice) {
  const Graph g = testing_util::OneNodeGraph(spec, inputs);
  BothRuns r;
  auto cpu = RunGraph(g, testing_util::InputFeeds(inputs), Device::kCpu);
  auto gpu = RunOnCuda(g, inputs, device_inputs, &r.on_device);
  if (cpu.ok() != gpu.ok()) {
    return absl::InternalError(
        absl::StrFormat("CPU: %s; CUDA: %s", cpu.status().ToString(), gpu.status().ToString()));
  }
  if (!gpu.ok()) return gpu.status();
  r.cpu = *std::move(cpu);
  r.gpu = *std::move(gpu);
  return r;
}

const DataType kMoveTypes[] = {DataType::kFloat32, DataType::kInt64, DataType::kUInt8,
                               DataType::kFloat16, DataType::kBool,  DataType::kFloat64};

// ---- Transpose ----

struct TransposeCase {
  Shape shape;
  std::vector<int64_t> perm;  // empty: the default (reversed dims)
  bool on_device = true;      // false: more than 8 unmergeable dims, the CPU kernel runs
};

class TransposeGpuTest : public GpuParamTest<TransposeCase> {};

TEST_P(TransposeGpuTest, MatchesCpuBitForBit) {
  const TransposeCase& c = GetParam();
  for (DataType dtype : kMoveTypes) {
    SCOPED_TRACE(std::string(DataTypeName(dtype)) + " " + ShapeToString(c.shape));
    NodeSpec spec{"Transpose"};
    if (!c.perm.empty()) spec.attrs = {IntsAttr("perm", c.perm)};
    ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(spec, {RandomTensor(dtype, c.shape, 7)}));
    EXPECT_EQ(r.on_device, c.on_device);
    EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
  }
}

INSTANTIATE_TEST_SUITE_P(All, TransposeGpuTest,
                         ::testing::ValuesIn(std::vector<TransposeCase>{
                             {{5, 7}, {}},
                             {{64, 33}, {1, 0}},
                             {{2, 3, 4, 5}, {0, 1, 3, 2}},
                             {{2, 3, 4, 5}, {0, 2, 1, 3}},
                             {{2, 8, 4, 16}, {0, 2, 3, 1}},
                             {{3, 70, 129}, {0, 2, 1}},
                             {{2, 8, 4, 16}, {0, 2, 1, 3}},
                             {{2, 5, 3, 6}, {0, 2, 1, 3}},  // 16- and 8-byte words
                             {{2, 3, 4, 5, 6}, {4, 2, 0, 3, 1}},
                             {{1, 5, 1, 3}, {2, 0, 3, 1}},
                             {{4, 1, 6}, {1, 0, 2}},
                             {{0, 3}, {1, 0}},
                             {{7}, {}},
                             {{2, 3, 2, 3, 2, 3, 2, 3}, {}},
                             {{2, 3, 2, 3, 2, 3, 2, 3, 2}, {}, false},
                         }));

TEST_F(GpuTest, TransposeBadPermIsAnError) {
  auto r = RunBoth(NodeSpec{"Transpose", "", {IntsAttr("perm", {0, 0})}},
                   {RandomFloats({2, 3}, -1.f, 1.f, 1)});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

// ---- Slice and SliceGrad ----

struct SliceCase {
  Shape shape;
  std::vector<int64_t> starts, ends, axes, steps;  // axes/steps may be empty
};

class SliceGpuTest : public GpuParamTest<SliceCase> {};

TEST_P(SliceGpuTest, ForwardAndGradMatchCpu) {
  const SliceCase& c = GetParam();
  std::vector<Tensor> args = {Ints(c.starts), Ints(c.ends)};
  if (!c.axes.empty() || !c.steps.empty()) args.push_back(c.axes.empty() ? Tensor() : Ints(c.axes));
  if (!c.steps.empty()) args.push_back(Ints(c.steps));
  for (DataType dtype : kMoveTypes) {
    SCOPED_TRACE(std::string(DataTypeName(dtype)) + " " + ShapeToString(c.shape));
    std::vector<Tensor> inputs = {RandomTensor(dtype, c.shape, 3)};
    inputs.insert(inputs.end(), args.begin(), args.end());
    ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(NodeSpec{"Slice"}, inputs, 1));
    EXPECT_TRUE(r.on_device);
    EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
    if (dtype != DataType::kFloat32 && dtype != DataType::kFloat64) continue;
    // SliceGrad(dY, X, starts, ends, axes, steps): dY scattered into zeros.
    std::vector<Tensor> grad_inputs = {RandomTensor(dtype, r.cpu[0].shape(), 4), inputs[0]};
    grad_inputs.insert(grad_inputs.end(), args.begin(), args.end());
    NodeSpec grad{"SliceGrad", kOnyxDomain};
    ASSERT_OK_AND_ASSIGN(BothRuns g, RunBoth(grad, grad_inputs, 2));
    EXPECT_TRUE(g.on_device);
    EXPECT_TRUE(BitsEqual(g.gpu[0], g.cpu[0]));
  }
}

INSTANTIATE_TEST_SUITE_P(All, SliceGpuTest,
                         ::testing::ValuesIn(std::vector<SliceCase>{
                             {{10}, {2}, {7}, {}, {}},
                             {{4, 6}, {1, 0}, {3, 6}, {}, {}},
                             {{4, 6}, {-1, 1}, {-100, 100}, {0, 1}, {-2, 2}},
                             {{3, 8, 5}, {0, 1}, {INT64_MAX, -1}, {2, 1}, {1, 3}},
                             {{3, 8, 5}, {7}, {INT64_MIN}, {-2}, {-1}},
                             {{2, 16, 32}, {0}, {8}, {1}, {}},
                             {{5, 5}, {3}, {1}, {0}, {1}},  // empty
                             {{2, 3, 4, 5}, {1, 1, 1, 1}, {2, 3, 4, 5}, {0, 1, 2, 3}, {1, 1, 2, 3}},
                         }));

TEST_F(GpuTest, SliceOpset1AttributesMatchCpu) {
  NodeSpec spec{
      "Slice",
      "",
      {IntsAttr("starts", {1, -3}), IntsAttr("ends", {3, 100}), IntsAttr("axes", {0, 2})}};
  spec.opset = 9;
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(spec, {RandomFloats({4, 3, 5}, -1.f, 1.f, 2)}));
  EXPECT_TRUE(r.on_device);
  EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
}

TEST_F(GpuTest, SliceZeroStepIsAnError) {
  auto r = RunBoth(NodeSpec{"Slice"},
                   {RandomFloats({4}, -1.f, 1.f, 1), Ints({0}), Ints({4}), Ints({0}), Ints({0})});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), absl::StatusCode::kInternal) << r.status();  // both devices fail
}

// ---- Gather ----

struct GatherCase {
  Shape data;
  Shape indices_shape;
  std::vector<int64_t> indices;
  int64_t axis;
};

class GatherGpuTest : public GpuParamTest<GatherCase> {};

TEST_P(GatherGpuTest, MatchesCpuBitForBit) {
  const GatherCase& c = GetParam();
  for (DataType index_type : {DataType::kInt64, DataType::kInt32}) {
    Tensor idx = *Tensor::Zeros(index_type, c.indices_shape);
    for (size_t i = 0; i < c.indices.size(); ++i) {
      if (index_type == DataType::kInt64) {
        idx.data<int64_t>()[i] = c.indices[i];
      } else {
        idx.data<int32_t>()[i] = static_cast<int32_t>(c.indices[i]);
      }
    }
    for (DataType dtype : kMoveTypes) {
      SCOPED_TRACE(std::string(DataTypeName(dtype)) + " " + ShapeToString(c.data));
      ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(NodeSpec{"Gather", "", {IntAttr("axis", c.axis)}},
                                               {RandomTensor(dtype, c.data, 9), idx}, 1));
      EXPECT_TRUE(r.on_device);
      EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, GatherGpuTest,
                         ::testing::ValuesIn(std::vector<GatherCase>{
                             {{50, 32}, {2, 3}, {0, 49, -1, 7, 7, -50}, 0},  // embedding rows
                             {{4, 5, 6}, {}, {2}, 1},          // scalar index drops the axis
                             {{4, 5, 6}, {3}, {-1, 0, 5}, 2},  // last axis: 1-element rows
                             {{3, 7}, {2, 2}, {6, 0, -7, 3}, 1},
                             {{3, 7}, {0}, {}, 0},                 // no indices
                             {{2, 3, 33}, {4}, {1, 1, 0, -2}, 1},  // odd row bytes
                         }));

TEST_F(GpuTest, GatherOutOfRangeIndexIsAnError) {
  for (int64_t bad : {int64_t{5}, int64_t{-6}, int64_t{1} << 40}) {
    auto r = RunBoth(NodeSpec{"Gather"}, {RandomFloats({5, 3}, -1.f, 1.f, 1), Ints({0, bad})});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  }
}

// ---- Concat ----

struct ConcatCase {
  std::vector<Shape> shapes;
  int64_t axis;
};

class ConcatGpuTest : public GpuParamTest<ConcatCase> {};

TEST_P(ConcatGpuTest, MatchesCpuBitForBit) {
  const ConcatCase& c = GetParam();
  for (DataType dtype : kMoveTypes) {
    SCOPED_TRACE(DataTypeName(dtype));
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < c.shapes.size(); ++i) {
      inputs.push_back(RandomTensor(dtype, c.shapes[i], 20 + static_cast<uint32_t>(i)));
    }
    ASSERT_OK_AND_ASSIGN(BothRuns r,
                         RunBoth(NodeSpec{"Concat", "", {IntAttr("axis", c.axis)}}, inputs));
    EXPECT_TRUE(r.on_device);
    EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
  }
}

INSTANTIATE_TEST_SUITE_P(All, ConcatGpuTest,
                         ::testing::ValuesIn(std::vector<ConcatCase>{
                             {{{3}}, 0},
                             {{{2, 3}, {4, 3}}, 0},
                             {{{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}, 1},
                             {{{2, 3, 4}, {2, 3, 7}, {2, 3, 1}, {2, 3, 2}}, -1},
                             {{{2, 0, 4}, {2, 3, 4}}, 1},
                             {{{1, 8, 64}, {1, 8, 64}}, 2},
                         }));

TEST_F(GpuTest, ConcatMismatchedShapesIsAnError) {
  auto r = RunBoth(NodeSpec{"Concat", "", {IntAttr("axis", 0)}},
                   {RandomFloats({2, 3}, -1.f, 1.f, 1), RandomFloats({2, 4}, -1.f, 1.f, 2)});
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().code(), absl::StatusCode::kInternal) << r.status();  // both devices fail
}

// Data placement: host data runs on the CPU kernel where it is; a mix of
// device and host inputs is joined on the device.
TEST_F(GpuTest, ConcatFollowsItsInputs) {
  const std::vector<Tensor> xs = {RandomTensor(DataType::kInt64, {2, 3}, 1),
                                  RandomTensor(DataType::kInt64, {2, 5}, 2)};
  const NodeSpec spec{"Concat", "", {IntAttr("axis", 1)}};
  ASSERT_OK_AND_ASSIGN(BothRuns host, RunBoth(spec, xs, 0));
  EXPECT_FALSE(host.on_device);
  EXPECT_TRUE(BitsEqual(host.gpu[0], host.cpu[0]));
  ASSERT_OK_AND_ASSIGN(BothRuns mixed, RunBoth(spec, xs, 1));
  EXPECT_TRUE(mixed.on_device);
  EXPECT_TRUE(BitsEqual(mixed.gpu[0], mixed.cpu[0]));
}

// Integer values on the host (shape arithmetic) stay there: the CPU kernel runs
// them. Host floats go to the device (InputMemory::kWhereItIs).
TEST_F(GpuTest, HostIntegersRunOnTheCpuKernel) {
  const Tensor shape_values = *Tensor::FromVector<int64_t>({4}, std::vector<int64_t>{2, 8, 4, 16});
  const std::vector<std::pair<NodeSpec, std::vector<Tensor>>> cases = {
      {NodeSpec{"Gather", "", {IntAttr("axis", 0)}}, {shape_values, Ints({0, -1})}},
      {NodeSpec{"Slice"}, {shape_values, Ints({1}), Ints({3})}},
      {NodeSpec{"Transpose"}, {RandomTensor(DataType::kInt64, {2, 3}, 1)}},
      {NodeSpec{"Mul"}, {shape_values, shape_values}},
      {NodeSpec{"Neg"}, {shape_values}},
      {NodeSpec{"Cast", "", {IntAttr("to", static_cast<int64_t>(DataType::kFloat32))}},
       {shape_values}},
  };
  for (const auto& [spec, inputs] : cases) {
    SCOPED_TRACE(spec.op_type);
    ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(spec, inputs, 0));
    EXPECT_FALSE(r.on_device);
    EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
  }
  ASSERT_OK_AND_ASSIGN(BothRuns floats,
                       RunBoth(NodeSpec{"Transpose"}, {RandomFloats({2, 3}, -1.f, 1.f, 1)}, 0));
  EXPECT_TRUE(floats.on_device);
  EXPECT_TRUE(BitsEqual(floats.gpu[0], floats.cpu[0]));
}

// ---- Cast ----

// Every supported pair, from values that cover rounding, saturation,
// wrapping, NaN and infinities: CPU-cast from float64 into each source type.
TEST_F(GpuTest, CastMatchesCpuBitForBit) {
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      0.5,
                                      -0.5,
                                      1.5,
                                      2.5,
                                      -2.5,
                                      127.0,
                                      128.0,
                                      255.0,
                                      256.0,
                                      -129.0,
                                      300.7,
                                      -129.3,
                                      65504.0,
                                      65520.0,
                                      1e-8,
                                      6e-5,
                                      3e38,
                                      -3e38,
                                      1e10,
                                      -1e10,
                                      2147483647.0,
                                      -2147483648.0,
                                      1099511627776.0,
                                      1e19,
                                      -1e19,
                                      std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      1.00048828125,
                                      3.140625};
  const Tensor base = *Tensor::FromVector<double>({static_cast<int64_t>(values.size())}, values);
  const DataType types[] = {DataType::kFloat32,  DataType::kFloat64, DataType::kFloat16,
                            DataType::kBFloat16, DataType::kInt8,    DataType::kUInt8,
                            DataType::kInt32,    DataType::kInt64,   DataType::kBool};
  for (DataType from : types) {
    ASSERT_OK_AND_ASSIGN(Tensor x, RunNode("Cast", {IntAttr("to", static_cast<int64_t>(from))},
                                           {base}, 13, Device::kCpu));
    for (DataType to : types) {
      SCOPED_TRACE(std::string(DataTypeName(from)) + " -> " + DataTypeName(to));
      ASSERT_OK_AND_ASSIGN(
          BothRuns r,
          RunBoth(NodeSpec{"Cast", "", {IntAttr("to", static_cast<int64_t>(to))}}, {x}));
      EXPECT_TRUE(r.on_device);
      if (to == DataType::kFloat32 || to == DataType::kFloat64) {
        // NaN payloads and signs may differ between the CPU's and GPU's float conversions.
        if (to == DataType::kFloat32) {
          EXPECT_TRUE(AllClose<float>(r.gpu[0], r.cpu[0], 0, 0));
        } else {
          EXPECT_TRUE(AllClose<double>(r.gpu[0], r.cpu[0], 0, 0));
        }
      } else if (to == DataType::kFloat16 || to == DataType::kBFloat16) {
        ASSERT_EQ(r.gpu[0].shape(), r.cpu[0].shape());
        const int exp_shift = to == DataType::kFloat16 ? 10 : 7;
        const uint16_t exp_mask = to == DataType::kFloat16 ? 0x1f : 0xff;
        for (int64_t i = 0; i < r.cpu[0].num_elements(); ++i) {
          const uint16_t a = static_cast<const uint16_t*>(r.gpu[0].raw_data())[i];
          const uint16_t b = static_cast<const uint16_t*>(r.cpu[0].raw_data())[i];
          auto is_nan = [&](uint16_t h) {
            return ((h >> exp_shift) & exp_mask) == exp_mask && (h & ((1u << exp_shift) - 1)) != 0;
          };
          EXPECT_TRUE(a == b || (is_nan(a) && is_nan(b))) << i << ": " << a << " vs " << b;
        }
      } else {
        EXPECT_TRUE(BitsEqual(r.gpu[0], r.cpu[0]));
      }
    }
  }
}

TEST_F(GpuTest, CastOfAnUnsupportedTypeFallsBackToTheCpu) {
  // uint16 has no CUDA kernel: the session runs the CPU kernel, same result.
  Tensor u16 = *Tensor::Zeros(DataType::kUInt16, {3});
  const uint16_t values[3] = {1, 2, 65535};
  std::memcpy(u16.raw_data(), values, sizeof(values));
  NodeSpec spec{"Cast", "", {IntAttr("to", static_cast<int64_t>(DataType::kFloat32))}};
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(spec, {u16}));
  EXPECT_TRUE(AllClose<float>(r.gpu[0], r.cpu[0], 0, 0));
}

// ---- Erf and the other unary ops ----

TEST_F(GpuTest, UnaryOpsAndGradsMatchCpu) {
  const std::vector<std::string> ops = {"Erf",   "Sqrt",       "Exp",  "Log",     "Neg",
                                        "Abs",   "Reciprocal", "Sign", "Floor",   "Ceil",
                                        "Round", "Sin",        "Cos",  "Softsign"};
  Tensor x = RandomFloats({3, 257}, -4.f, 4.f, 11);
  x.data<float>()[0] = 2.5f;  // Round: half to even
  x.data<float>()[1] = -0.f;
  Tensor dy = RandomFloats({3, 257}, -1.f, 1.f, 12);
  for (const std::string& op : ops) {
    SCOPED_TRACE(op);
    ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(NodeSpec{op}, {x}));
    EXPECT_TRUE(r.on_device);
    EXPECT_TRUE(AllClose<float>(r.gpu[0], r.cpu[0], 2e-6, 1e-7));
    if (op == "Neg") continue;  // no NegGrad op
    ASSERT_OK_AND_ASSIGN(BothRuns g, RunBoth(NodeSpec{op + "Grad", kOnyxDomain}, {dy, x}));
    EXPECT_TRUE(g.on_device);
    EXPECT_TRUE(AllClose<float>(g.gpu[0], g.cpu[0], 2e-6, 1e-7));
  }
  // float64 Erf.
  Tensor xd = RandomTensor(DataType::kFloat64, {1000}, 13);
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(NodeSpec{"Erf"}, {xd}));
  EXPECT_TRUE(AllClose<double>(r.gpu[0], r.cpu[0], 1e-14, 1e-16));
}

// ---- LayerNormalization and LayerNormalizationGrad ----

struct LayerNormCase {
  Shape shape;
  int64_t axis;
  bool bias;
};

class LayerNormGpuTest : public GpuParamTest<LayerNormCase> {};

TEST_P(LayerNormGpuTest, ForwardAndGradMatchCpu) {
  const LayerNormCase& c = GetParam();
  const int rank = static_cast<int>(c.shape.size());
  const int axis = static_cast<int>(c.axis < 0 ? c.axis + rank : c.axis);
  const Shape inner(c.shape.begin() + axis, c.shape.end());
  // An offset mean (5) checks the two-pass variance.
  Tensor x = RandomFloats(c.shape, 3.f, 7.f, 1);
  Tensor scale = RandomFloats(inner, 0.5f, 1.5f, 2);
  Tensor bias = RandomFloats(inner, -1.f, 1.f, 3);
  const std::vector<Attribute> attrs = {IntAttr("axis", c.axis), FloatAttr("epsilon", 1e-5f)};
  NodeSpec fwd{"LayerNormalization", "", attrs, 17};
  fwd.outputs = {"y", "mean", "inv_std"};
  std::vector<Tensor> inputs = {x, scale};
  if (c.bias) inputs.push_back(bias);
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(fwd, inputs));
  EXPECT_TRUE(r.on_device);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(AllClose<float>(r.gpu[i], r.cpu[i], 1e-4, 1e-5)) << i;

  Tensor dy = RandomFloats(c.shape, -1.f, 1.f, 4);
  NodeSpec bwd{"LayerNormalizationGrad", kOnyxDomain, attrs, 17};
  bwd.outputs = {"dx", "dscale", "dbias"};
  std::vector<Tensor> grad_inputs = {dy, x, scale};
  if (c.bias) grad_inputs.push_back(bias);
  ASSERT_OK_AND_ASSIGN(BothRuns g, RunBoth(bwd, grad_inputs));
  EXPECT_TRUE(g.on_device);
  EXPECT_TRUE(AllClose<float>(g.gpu[0], g.cpu[0], 1e-3, 1e-4));
  // Sums over up to thousands of rows: relative to the sum's magnitude.
  const double rows = static_cast<double>(NumElements(c.shape) / NumElements(inner));
  for (int i = 1; i < 3; ++i) {
    EXPECT_TRUE(AllClose<float>(g.gpu[i], g.cpu[i], 1e-4, 1e-5 * rows)) << i;
  }
  // Deterministic: a second run gives the same bits.
  ASSERT_OK_AND_ASSIGN(BothRuns again, RunBoth(bwd, grad_inputs));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(BitsEqual(again.gpu[i], g.gpu[i])) << i;
}

INSTANTIATE_TEST_SUITE_P(All, LayerNormGpuTest,
                         ::testing::ValuesIn(std::vector<LayerNormCase>{
                             {{4, 10}, -1, true},
                             {{2, 8, 64}, -1, true},
                             {{3, 5, 2000}, -1, true},
                             {{2, 3, 4, 5}, 2, false},
                             {{1, 1}, -1, true},
                             {{4000, 32}, -1, true},
                             {{7, 1025}, 1, false},
                             {{2, 3}, 0, true},
                         }));

TEST_F(GpuTest, LayerNormFloat64MatchesCpu) {
  Tensor x = RandomTensor(DataType::kFloat64, {6, 300}, 5);
  Tensor s = RandomTensor(DataType::kFloat64, {300}, 6);
  NodeSpec fwd{"LayerNormalization", "", {IntAttr("axis", -1)}, 17};
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(fwd, {x, s}));
  EXPECT_TRUE(r.on_device);
  EXPECT_TRUE(AllClose<double>(r.gpu[0], r.cpu[0], 1e-12, 1e-12));
}

TEST_F(GpuTest, LayerNormEmptyRowsStatisticsMatchCpu) {
  // Rows of no elements: Mean and InvStdDev still have one value per row (the
  // CUDA launcher writes none, so the CPU kernel must run them).
  NodeSpec fwd{"LayerNormalization", "", {IntAttr("axis", -1)}, 17};
  fwd.outputs = {"y", "mean", "inv_std"};
  ASSERT_OK_AND_ASSIGN(
      BothRuns r, RunBoth(fwd, {RandomFloats({3, 0}, -1.f, 1.f, 1), RandomFloats({0}, 0, 1, 2)}));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(AllClose<float>(r.gpu[i], r.cpu[i], 0, 0)) << i;
}

TEST_F(GpuTest, LayerNormBroadcastScaleFallsBackToTheCpu) {
  Tensor x = RandomFloats({3, 4, 5}, -1.f, 1.f, 1);
  Tensor s = RandomFloats({1, 5}, 0.5f, 1.5f, 2);  // broadcast over dims[1:]
  NodeSpec fwd{"LayerNormalization", "", {IntAttr("axis", 1)}, 17};
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(fwd, {x, s}));
  EXPECT_TRUE(AllClose<float>(r.gpu[0], r.cpu[0], 1e-5, 1e-6));
}

// ---- An attention block ----

TEST_F(GpuTest, AttentionBlockMatchesCpu) {
  constexpr int64_t kB = 2, kS = 8, kE = 32, kH = 4, kD = 8, kV = 50;
  Graph g;
  g.name = "attention";
  g.opset_imports[""] = 17;
  ValueInfo tokens;
  tokens.name = "tokens";
  tokens.dtype = DataType::kInt64;
  tokens.has_shape = true;
  tokens.dims = {Dim{kB, ""}, Dim{kS, ""}};
  g.inputs.push_back(tokens);
  g.initializers["emb"] = RandomFloats({kV, kE}, -1.f, 1.f, 1);
  g.initializers["pos"] = RandomFloats({16, kE}, -1.f, 1.f, 2);
  g.initializers["ln_scale"] = RandomFloats({kE}, 0.5f, 1.5f, 3);
  g.initializers["ln_bias"] = RandomFloats({kE}, -0.5f, 0.5f, 4);
  g.initializers["w_qkv"] = RandomFloats({kE, 3 * kE}, -0.3f, 0.3f, 5);
  g.initializers["zero"] = Ints({0});
  g.initializers["seq"] = Ints({kS});
  g.initializers["qkv_shape"] = Ints({kB, kS, 3, kH, kD});
  g.initializers["out_shape"] = Ints({kB, kS, kE});
  g.initializers["inv_sqrt_d"] = *Tensor::FromVector<float>({}, std::vector<float>{0.35355339f});
  for (int i = 0; i < 3; ++i) {
    g.initializers["i" + std::to_string(i)] =
        *Tensor::FromVector<int64_t>({}, std::vector<int64_t>{i});
  }
  auto add = [&](std::string op, std::vector<std::string> in, std::string out,
                 std::vector<Attribute> attrs = {}) {
    Node n;
    n.name = out + "_node";
    n.op_type = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    n.attributes = std::move(attrs);
    g.nodes.push_back(std::move(n));
  };
  add("Gather", {"emb", "tokens"}, "e");
  add("Slice", {"pos", "zero", "seq", "zero"}, "p");
  add("Add", {"e", "p"}, "h");
  add("LayerNormalization", {"h", "ln_scale", "ln_bias"}, "n", {IntAttr("axis", -1)});
  add("MatMul", {"n", "w_qkv"}, "qkv");
  add("Reshape", {"qkv", "qkv_shape"}, "qkv5");
  add("Transpose", {"qkv5"}, "heads", {IntsAttr("perm", {2, 0, 3, 1, 4})});  // [3,B,H,S,D]
  add("Gather", {"heads", "i0"}, "q");
  add("Gather", {"heads", "i1"}, "k");
  add("Gather", {"heads", "i2"}, "v");
  add("Transpose", {"k"}, "kt", {IntsAttr("perm", {0, 1, 3, 2})});
  add("MatMul", {"q", "kt"}, "scores_raw");
  add("Mul", {"scores_raw", "inv_sqrt_d"}, "scores");
  add("Softmax", {"scores"}, "attn", {IntAttr("axis", -1)});
  add("MatMul", {"attn", "v"}, "ctx");
  add("Transpose", {"ctx"}, "ctx_t", {IntsAttr("perm", {0, 2, 1, 3})});
  add("Reshape", {"ctx_t", "out_shape"}, "ctx_e");
  add("Concat", {"ctx_e", "n"}, "cat", {IntAttr("axis", -1)});
  add("Erf", {"cat"}, "act");
  add("Cast", {"act"}, "y", {IntAttr("to", static_cast<int64_t>(DataType::kFloat64))});
  ValueInfo y;
  y.name = "y";
  g.outputs.push_back(y);

  std::vector<int64_t> ids(kB * kS);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>((i * 17 + 3) % kV);
  const NamedTensors feeds = {{"tokens", *Tensor::FromVector<int64_t>({kB, kS}, ids)}};
  ASSERT_OK_AND_ASSIGN(auto cpu, RunGraph(g, feeds, Device::kCpu));
  ASSERT_OK_AND_ASSIGN(auto gpu, RunGraph(g, feeds, Device::kCuda));
  ASSERT_EQ(gpu[0].shape(), (Shape{kB, kS, 2 * kE}));
  EXPECT_TRUE(AllClose<double>(gpu[0], cpu[0], 1e-4, 1e-5));
}

}  // namespace
}  // namespace onyx::gpu_test
