// The CUDA registrations of the view and shape ops (ops/tensor/
// shape_views_cuda.cc) in a device session on the stand-in device of
// tests/unit/train/fake_device.h, which scrambles "device" bytes: no GPU
// needed. The views must share the device buffer (no copy either way), their
// shape / axes operands stay on the host, and Shape / Size read only the
// input's shape.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tests/unit/common/run_node.h"
#include "tests/unit/train/fake_device.h"

namespace onyx::gpu_test {
namespace {

using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::NodeSpec;
using train_test::FakeDevice;

Tensor Ints(std::vector<int64_t> v) {
  return *Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

Tensor Iota(const Shape& shape) {
  std::vector<float> v(NumElements(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return *Tensor::FromVector<float>(shape, v);
}

struct Run {
  std::vector<Tensor> outputs;
  Tensor x;  // the device copy of input 0 that was fed
  std::shared_ptr<FakeDevice> device;
};

// The node of `spec` in a device session: x0 fed on the device, the other
// inputs on the host; output "y" kept on the device when `keep_on_device`.
absl::StatusOr<Run> RunOnFakeDevice(const NodeSpec& spec, const std::vector<Tensor>& inputs,
                                    bool keep_on_device) {
  Run run;
  run.device = std::make_shared<FakeDevice>();
  SessionOptions options;
  options.device = Device::kCuda;
  options.backend = run.device;
  if (keep_on_device) options.device_outputs = {"y"};
  auto session =
      Session::Create(testing_util::OneNodeGraph(spec, inputs), DefaultRegistry(), options);
  if (!session.ok()) return session.status();
  auto x = run.device->ToDevice(inputs[0]);
  if (!x.ok()) return x.status();
  run.x = *x;
  NamedTensors feeds = testing_util::InputFeeds(inputs);
  feeds[0].second = run.x;
  run.device->to_device = run.device->to_host = 0;
  auto out = (*session)->Run(feeds);
  if (!out.ok()) return out.status();
  run.outputs = *std::move(out);
  return run;
}

struct ViewCase {
  std::string name;
  NodeSpec spec;
  Shape x;
  std::vector<Tensor> operands;
  Shape want;
};

class ShapeViewsCudaTest : public ::testing::TestWithParam<ViewCase> {};

TEST_P(ShapeViewsCudaTest, SharesTheDeviceBufferWithoutCopies) {
  const ViewCase& c = GetParam();
  std::vector<Tensor> inputs = {Iota(c.x)};
  for (const Tensor& t : c.operands) inputs.push_back(t);
  auto run = RunOnFakeDevice(c.spec, inputs, /*keep_on_device=*/true);
  ASSERT_TRUE(run.ok()) << run.status();
  const Tensor& y = run->outputs[0];
  ASSERT_TRUE(y.on_device()) << "the CPU kernel ran instead";
  EXPECT_EQ(y.raw_data(), run->x.raw_data()) << "the view copied its input";
  EXPECT_EQ(y.shape(), c.want);
  // Neither x nor an operand crossed over.
  EXPECT_EQ(run->device->to_host, 0);
  EXPECT_EQ(run->device->to_device, 0);
  // The values come back intact.
  auto host = run->device->ToHost(y);
  ASSERT_TRUE(host.ok());
  for (int64_t i = 0; i < host->num_elements(); ++i) {
    EXPECT_EQ(host->data<float>()[i], static_cast<float>(i));
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, ShapeViewsCudaTest,
    ::testing::Values(
        ViewCase{"Identity", {.op_type = "Identity", .opset = 21}, {2, 3}, {}, {2, 3}},
        ViewCase{
            "Reshape", {.op_type = "Reshape", .opset = 14}, {2, 3, 4}, {Ints({0, -1})}, {2, 12}},
        ViewCase{"ReshapeAllowZero",
                 {.op_type = "Reshape", .attrs = {IntAttr("allowzero", 1)}, .opset = 14},
                 {0, 3},
                 {Ints({3, 0})},
                 {3, 0}},
        ViewCase{"Flatten",
                 {.op_type = "Flatten", .attrs = {IntAttr("axis", 2)}, .opset = 13},
                 {2, 3, 4, 5},
                 {},
                 {6, 20}},
        ViewCase{
            "Squeeze", {.op_type = "Squeeze", .opset = 13}, {2, 1, 3, 1}, {Ints({1, -1})}, {2, 3}},
        ViewCase{"SqueezeOpset11",
                 {.op_type = "Squeeze", .attrs = {IntsAttr("axes", {0})}, .opset = 11},
                 {1, 4},
                 {},
                 {4}},
        ViewCase{"Unsqueeze",
                 {.op_type = "Unsqueeze", .opset = 13},
                 {2, 3},
                 {Ints({0, -1})},
                 {1, 2, 3, 1}}),
    [](const auto& info) { return info.param.name; });

TEST(ShapeOpsCudaTest, ShapeAndSizeLeaveTheirInputOnTheDevice) {
  struct Case {
    NodeSpec spec;
    std::vector<int64_t> want;
  };
  const std::vector<Case> cases = {
      {{.op_type = "Shape", .opset = 13}, {2, 3, 4}},
      {{.op_type = "Shape", .attrs = {IntAttr("start", -2)}, .opset = 15}, {3, 4}},
      {{.op_type = "Shape", .attrs = {IntAttr("start", 2), IntAttr("end", 1)}, .opset = 15}, {}},
      {{.op_type = "Size", .opset = 13}, {24}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec.op_type);
    auto run = RunOnFakeDevice(c.spec, {Iota({2, 3, 4})}, /*keep_on_device=*/false);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->device->to_host, 0) << "x was copied to the host";
    const Tensor& y = run->outputs[0];
    ASSERT_FALSE(y.on_device());
    ASSERT_EQ(y.dtype(), DataType::kInt64);
    ASSERT_EQ(y.num_elements(), static_cast<int64_t>(c.spec.op_type == "Size" ? 1 : c.want.size()));
    for (size_t i = 0; i < c.want.size(); ++i) EXPECT_EQ(y.data<int64_t>()[i], c.want[i]);
  }
}

TEST(ShapeOpsCudaTest, ReshapeShapeConstantIsNeverUploaded) {
  const std::vector<Tensor> inputs = {Iota({4, 6}), Ints({3, 8})};
  Graph g = testing_util::OneNodeGraph(NodeSpec{.op_type = "Reshape", .opset = 14}, inputs);
  g.initializers["x1"] = inputs[1];
  std::erase_if(g.inputs, [](const ValueInfo& v) { return v.name == "x1"; });
  auto device = std::make_shared<FakeDevice>();
  SessionOptions options;
  options.device = Device::kCuda;
  options.backend = device;
  auto session = Session::Create(g, DefaultRegistry(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(device->to_device, 0) << "the host-read shape was uploaded";
  auto out = (*session)->Run({{"x0", inputs[0]}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].shape(), (Shape{3, 8}));
  // The float feed x0 goes to the device (kWhereItIs) and the view comes back
  // to the caller; the shape never moves.
  EXPECT_EQ(device->to_device, 1);
  EXPECT_EQ(device->to_host, 1);
  for (int i = 0; i < 24; ++i) EXPECT_EQ((*out)[0].data<float>()[i], static_cast<float>(i));
}

}  // namespace
}  // namespace onyx::gpu_test
