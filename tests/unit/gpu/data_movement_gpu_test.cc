// The CUDA data-movement kernels (Transpose, Slice and SliceGrad, Gather,
// Concat, Cast) against the CPU kernels, bit for bit, over tables of shapes,
// attributes and dtypes; where host and device values run.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/unit/gpu/xformer_gpu_util.h"

namespace onyx::gpu_test {
namespace {

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

}  // namespace
}  // namespace onyx::gpu_test
