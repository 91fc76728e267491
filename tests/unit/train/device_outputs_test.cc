// SessionOptions::device_outputs and device-resident feeds, on the stand-in
// device of fake_device.h (every node runs on the CPU kernel with copies).
#include <cmath>
#include <memory>

#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tests/unit/train/fake_device.h"
#include "tests/unit/train/train_cases.h"

namespace onyx::train_test {
namespace {

// y = Relu(x), z = Neg(x).
Graph ReluAndNeg() {
  Graph g;
  g.opset_imports[""] = 17;
  ValueInfo x;
  x.name = "x";
  x.dtype = DataType::kFloat32;
  x.has_shape = true;
  x.dims = {Dim{5, ""}};
  g.inputs.push_back(x);
  for (const char* name : {"y", "z"}) {
    ValueInfo out = x;
    out.name = name;
    g.outputs.push_back(out);
  }
  Node relu;
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.inputs = {"x"};
  relu.outputs = {"y"};
  Node neg;
  neg.name = "neg";
  neg.op_type = "Neg";
  neg.inputs = {"x"};
  neg.outputs = {"z"};
  g.nodes = {relu, neg};
  return g;
}

SessionOptions OnFakeDevice(std::shared_ptr<FakeDevice> device) {
  SessionOptions options;
  options.device = Device::kCuda;
  options.backend = std::move(device);
  options.device_outputs = {"y"};
  return options;
}

TEST(DeviceOutputsTest, NamedOutputStaysOnTheDeviceTheOthersComeBack) {
  auto device = std::make_shared<FakeDevice>();
  auto session = Session::Create(ReluAndNeg(), CpuOnlyRegistry(), OnFakeDevice(device));
  ASSERT_TRUE(session.ok()) << session.status();
  const std::vector<float> xs = {-2.f, -0.5f, 0.f, 0.25f, 3.f};
  Tensor x_host = *Tensor::FromVector<float>({5}, xs);
  for (bool feed_on_device : {false, true}) {
    Tensor x = feed_on_device ? *device->ToDevice(x_host) : x_host;
    for (int run = 0; run < 3; ++run) {  // later runs reuse buffers
      auto outs = (*session)->Run({{"x", x}});
      ASSERT_TRUE(outs.ok()) << outs.status();
      ASSERT_TRUE((*outs)[0].on_device());
      ASSERT_FALSE((*outs)[1].on_device());
      auto y = device->ToHost((*outs)[0]);
      ASSERT_TRUE(y.ok());
      for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(y->data<float>()[i], std::fmax(xs[i], 0.f)) << i;
        EXPECT_EQ((*outs)[1].data<float>()[i], -xs[i]) << i;
      }
    }
  }
}

TEST(DeviceOutputsTest, CpuSessionRefusesDeviceOutputsAndDeviceFeeds) {
  SessionOptions options;
  options.device_outputs = {"y"};
  auto session = Session::Create(ReluAndNeg(), CpuOnlyRegistry(), options);
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(session.status())) << session.status();
  EXPECT_NE(session.status().message().find("runs on the CPU"), std::string::npos);

  auto cpu = Session::Create(ReluAndNeg(), CpuOnlyRegistry(), SessionOptions{});
  ASSERT_TRUE(cpu.ok());
  FakeDevice device;
  Tensor x = *device.ToDevice(*Tensor::FromVector<float>({5}, std::vector<float>(5, 1.f)));
  auto outs = (*cpu)->Run({{"x", x}});
  ASSERT_FALSE(outs.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(outs.status())) << outs.status();
  EXPECT_NE(outs.status().message().find("input \"x\" is device memory"), std::string::npos)
      << outs.status();
}

TEST(DeviceOutputsTest, UnknownOutputNameIsRefused) {
  SessionOptions options = OnFakeDevice(std::make_shared<FakeDevice>());
  options.device_outputs = {"w"};
  auto session = Session::Create(ReluAndNeg(), CpuOnlyRegistry(), options);
  ASSERT_FALSE(session.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(session.status())) << session.status();
  EXPECT_NE(session.status().message().find("\"w\""), std::string::npos) << session.status();
}

}  // namespace
}  // namespace onyx::train_test
