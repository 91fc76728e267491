// The trainer's device-resident step (parameters, optimizer state and gradient
// sums on the device) against its host step, on a stand-in device
// (fake_device.h) whose memory the host cannot read by accident. The host step
// is the reference (tests/e2e/train_test.cc checks it against PyTorch); both
// call the same update_math.h functors, so they must agree to the bit.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training/trainer.h"
#include "tests/status_matchers.h"
#include "tests/unit/train/fake_device.h"
#include "tests/unit/train/train_cases.h"

namespace onyx::train_test {
namespace {

std::unique_ptr<Trainer> MakeTrainer(const Case& c, std::shared_ptr<FakeDevice> device) {
  TrainConfig config = Config(c);
  if (device != nullptr) {
    config.session.device = Device::kCuda;
    config.session.backend = std::move(device);
  }
  auto trainer = Trainer::Create(SmallMlp(), config, CpuOnlyRegistry());
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  return trainer.ok() ? *std::move(trainer) : nullptr;
}

class DeviceTrainerTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { UseFakeKernels(); }
};

TEST_P(DeviceTrainerTest, MatchesTheHostStepBitForBit) {
  const Case& c = GetParam();
  Data data;
  auto device = std::make_shared<FakeDevice>();
  std::unique_ptr<Trainer> host = MakeTrainer(c, nullptr);
  std::unique_ptr<Trainer> dev = MakeTrainer(c, device);
  ASSERT_NE(host, nullptr);
  ASSERT_NE(dev, nullptr);
  EXPECT_FALSE(host->device_resident());
  ASSERT_TRUE(dev->device_resident());
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto hs = host->TrainEpoch(data.x, data.y);
    auto ds = dev->TrainEpoch(data.x, data.y);
    ASSERT_TRUE(hs.ok()) << hs.status();
    ASSERT_TRUE(ds.ok()) << ds.status();
    EXPECT_EQ(hs->loss, ds->loss) << "epoch " << epoch + 1;
    ASSERT_TRUE(SameParams(*dev, *host)) << "after epoch " << epoch + 1;
  }
  EXPECT_EQ(dev->optimizer().step_count(), host->optimizer().step_count());
  // Still resident after the steps: parameters, state.
  for (const Tensor& p : dev->params()) EXPECT_TRUE(p.on_device());
  for (const auto& [name, t] : dev->optimizer().State()) EXPECT_TRUE(t->on_device()) << name;
  // Evaluation feeds the device parameters; the export copies them back.
  auto he = host->Evaluate(data.x, data.y);
  auto de = dev->Evaluate(data.x, data.y);
  ASSERT_TRUE(he.ok() && de.ok());
  EXPECT_EQ(he->loss, de->loss);
  const Graph model = dev->TrainedModel();
  auto host_params = host->HostParams();
  ASSERT_TRUE(host_params.ok());
  for (size_t p = 0; p < dev->param_names().size(); ++p) {
    const Tensor& exported = model.initializers.at(dev->param_names()[p]);
    ASSERT_FALSE(exported.on_device());
    for (int64_t i = 0; i < exported.num_elements(); ++i) {
      ASSERT_EQ(exported.data<float>()[i], (*host_params)[p].data<float>()[i]);
    }
  }
}

// A device checkpoint resumes on the host and a host checkpoint on the device,
// and both continue exactly as an uninterrupted host run.
TEST_P(DeviceTrainerTest, CheckpointsMoveBetweenHostAndDevice) {
  const Case& c = GetParam();
  Data data;
  std::unique_ptr<Trainer> reference = MakeTrainer(c, nullptr);
  std::unique_ptr<Trainer> dev = MakeTrainer(c, std::make_shared<FakeDevice>());
  ASSERT_TRUE(reference->TrainEpoch(data.x, data.y).ok());
  ASSERT_TRUE(dev->TrainEpoch(data.x, data.y).ok());

  std::unique_ptr<Trainer> host_resumed = MakeTrainer(c, nullptr);
  ASSERT_TRUE(host_resumed->RestoreCheckpointBytes(dev->CheckpointBytes(), "device").ok());
  std::unique_ptr<Trainer> dev_resumed = MakeTrainer(c, std::make_shared<FakeDevice>());
  ASSERT_TRUE(
      dev_resumed->RestoreCheckpointBytes(reference->CheckpointBytes(), "host").ok());
  EXPECT_TRUE(dev_resumed->device_resident());

  for (Trainer* t : {reference.get(), host_resumed.get(), dev_resumed.get()}) {
    auto stats = t->TrainEpoch(data.x, data.y);
    ASSERT_TRUE(stats.ok()) << stats.status();
  }
  EXPECT_TRUE(SameParams(*host_resumed, *reference));
  EXPECT_TRUE(SameParams(*dev_resumed, *reference));
  EXPECT_EQ(dev_resumed->CheckpointBytes(), reference->CheckpointBytes());
}

INSTANTIATE_TEST_SUITE_P(Optimizers, DeviceTrainerTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(DeviceTrainerPlanTest, StaysOnTheHostWithoutDeviceKernels) {
  // A device whose optimizer kernels nobody registered: the graph still runs
  // on that device's session, the step on the host.
  RegisterDeviceTrainingKernels(Device::kCuda, nullptr);
  Case c{"sgd", Opt("sgd", 0.1)};
  auto device = std::make_shared<FakeDevice>();
  std::unique_ptr<Trainer> dev = MakeTrainer(c, device);
  std::unique_ptr<Trainer> host = MakeTrainer(c, nullptr);
  ASSERT_NE(dev, nullptr);
  EXPECT_FALSE(dev->device_resident());
  for (const Tensor& p : dev->params()) EXPECT_FALSE(p.on_device());
  Data data;
  ASSERT_TRUE(dev->TrainEpoch(data.x, data.y).ok());
  ASSERT_TRUE(host->TrainEpoch(data.x, data.y).ok());
  EXPECT_TRUE(SameParams(*dev, *host));
  // Every node ran on the CPU and the parameters stayed there: nothing uploaded.
  EXPECT_EQ(device->to_device, 0);
}

TEST(DeviceOptimizerTest, StateMovesToTheDeviceAndBack) {
  UseFakeKernels();
  OptimizerConfig config = Opt("adagrad", 0.1);
  config.initial_accumulator_value = 0.25;
  Tensor p = Uniform({5}, -1.f, 1.f, 3);
  const Tensor* params[] = {&p};
  auto opt = MakeOptimizer(config, params);
  ASSERT_TRUE(opt.ok());
  auto device = std::make_shared<FakeDevice>();
  FakeKernels kernels(device);
  ASSERT_TRUE((*opt)->UseDevice(&kernels).ok());
  EXPECT_TRUE((*opt)->on_device());
  Tensor* state = (*opt)->State()[0].second;
  ASSERT_TRUE(state->on_device());
  // A host parameter is refused while the state is on the device.
  Tensor g = Uniform({5}, -1.f, 1.f, 4);
  Tensor* ps[] = {&p};
  const Tensor* gs[] = {&g};
  const absl::Status refused = (*opt)->Step(ps, gs, 0.1);
  EXPECT_TRUE(absl::IsInvalidArgument(refused)) << refused;
  EXPECT_NE(refused.message().find("on the host"), std::string::npos) << refused;
  ASSERT_TRUE((*opt)->UseDevice(nullptr).ok());
  state = (*opt)->State()[0].second;
  ASSERT_FALSE(state->on_device());
  for (float v : state->span<float>()) EXPECT_EQ(v, 0.25f);
}

}  // namespace
}  // namespace onyx::train_test
