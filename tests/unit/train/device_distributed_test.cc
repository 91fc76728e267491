// Data-parallel, device-resident training on the stand-in device: two trainers
// in two threads joined by an in-process communicator sum their gradients with
// the device's collective (here: the fake's, over that communicator) and must
// end where two host trainers end with the MPI-path gradient buckets.
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training/trainer.h"
#include "tests/unit/train/fake_device.h"
#include "tests/unit/train/thread_comm.h"
#include "tests/unit/train/train_cases.h"

#ifdef ONYX_HAVE_NCCL
#include "runtime/cuda/nccl_api.h"
#endif

namespace onyx::train_test {
namespace {

constexpr int kWorld = 2;

struct ProcessRun {
  std::vector<std::unique_ptr<Trainer>> trainers;
  std::vector<absl::Status> status = std::vector<absl::Status>(kWorld);
};

// 13 rows, 2 per process per step: micro-batches of 4, 4, 4 and 1 rows (where
// rank 0 has none and contributes zeros).
ProcessRun TrainTwoProcesses(const Case& c, bool on_device) {
  ProcessRun run;
  TrainConfig config = Config(c);
  config.batch_size = 2;
  config.bucket_mb = 0;  // host path: one bucket (the overlap is tested elsewhere)
  for (int r = 0; r < kWorld; ++r) {
    TrainConfig mine = config;
    if (on_device) {
      mine.session.device = Device::kCuda;
      mine.session.backend = std::make_shared<FakeDevice>();
    }
    auto trainer = Trainer::Create(SmallMlp(), mine, CpuOnlyRegistry());
    EXPECT_TRUE(trainer.ok()) << trainer.status();
    if (!trainer.ok()) return run;
    run.trainers.push_back(*std::move(trainer));
  }
  ThreadGroup group(kWorld);
  const Tensor x = Uniform({13, 4}, -1.f, 1.f, 21);
  const Tensor y = Uniform({13, 3}, -1.f, 1.f, 22);
  std::vector<std::thread> threads;
  for (int r = 0; r < kWorld; ++r) {
    threads.emplace_back([&, r] {
      Trainer& t = *run.trainers[r];
      t.set_communicator(&group.comm(r));
      for (int epoch = 0; epoch < 2 && run.status[r].ok(); ++epoch) {
        run.status[r] = t.TrainEpoch(x, y).status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return run;
}

class DeviceDistributedTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { UseFakeKernels(); }
};

TEST_P(DeviceDistributedTest, ReducesOnTheDeviceLikeTheHostBuckets) {
  ProcessRun device = TrainTwoProcesses(GetParam(), true);
  ProcessRun host = TrainTwoProcesses(GetParam(), false);
  ASSERT_EQ(device.trainers.size(), kWorld);
  ASSERT_EQ(host.trainers.size(), kWorld);
  for (int r = 0; r < kWorld; ++r) {
    ASSERT_TRUE(device.status[r].ok()) << device.status[r];
    ASSERT_TRUE(host.status[r].ok()) << host.status[r];
    EXPECT_TRUE(device.trainers[r]->device_resident()) << "rank " << r;
    EXPECT_EQ(device.trainers[r]->grad_reducer(), nullptr);  // no host buckets
  }
  // Every rank holds the same weights, on the device as on the host.
  EXPECT_TRUE(SameParams(*device.trainers[1], *device.trainers[0]));
  EXPECT_TRUE(SameParams(*device.trainers[0], *host.trainers[0]));
}

// A device without collectives: every rank goes back to the host step (the
// parameters and state come back, the downloaded gradients go through the
// host buckets), with the same result as host trainers.
TEST_P(DeviceDistributedTest, FallsBackToTheHostWithoutDeviceCollectives) {
  UseFakeKernels(absl::UnimplementedError("no collectives"));
  ProcessRun device = TrainTwoProcesses(GetParam(), true);
  UseFakeKernels();
  ProcessRun host = TrainTwoProcesses(GetParam(), false);
  ASSERT_EQ(device.trainers.size(), kWorld);
  ASSERT_EQ(host.trainers.size(), kWorld);
  for (int r = 0; r < kWorld; ++r) {
    ASSERT_TRUE(device.status[r].ok()) << device.status[r];
    EXPECT_FALSE(device.trainers[r]->device_resident()) << "rank " << r;
    EXPECT_NE(device.trainers[r]->grad_reducer(), nullptr);
    for (const Tensor& p : device.trainers[r]->params()) EXPECT_FALSE(p.on_device());
  }
  EXPECT_TRUE(SameParams(*device.trainers[0], *host.trainers[0]));
  EXPECT_TRUE(SameParams(*device.trainers[1], *host.trainers[1]));
}

// Ranks that agreed to set up NCCL and then failed: not a quiet fallback to
// the host (the other ranks may wait inside NCCL): the step fails, so the CLI
// ends the job. A failure every rank agreed on (FailedPrecondition) falls back.
TEST_P(DeviceDistributedTest, AFailureToJoinAfterAgreeingFailsTheStep) {
  UseFakeKernels(absl::InternalError("ncclCommInitRank: unhandled system error"));
  ProcessRun failed = TrainTwoProcesses(GetParam(), true);
  UseFakeKernels(absl::FailedPreconditionError("1 of 2 processes cannot set up NCCL"));
  ProcessRun agreed = TrainTwoProcesses(GetParam(), true);
  UseFakeKernels();
  ASSERT_EQ(failed.trainers.size(), kWorld);
  ASSERT_EQ(agreed.trainers.size(), kWorld);
  for (int r = 0; r < kWorld; ++r) {
    EXPECT_TRUE(absl::IsInternal(failed.status[r])) << failed.status[r];
    EXPECT_NE(failed.status[r].message().find("ncclCommInitRank"), std::string::npos);
    EXPECT_TRUE(agreed.status[r].ok()) << agreed.status[r];
    EXPECT_FALSE(agreed.trainers[r]->device_resident()) << "rank " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Optimizers, DeviceDistributedTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

#ifdef ONYX_HAVE_NCCL
// CPU runs (and single-process GPU runs) never map libnccl: it is opened with
// dlopen only when device-resident processes join a data-parallel job.
TEST(NcclLoadingTest, TrainingWithoutProcessesNeverMapsNccl) {
  UseFakeKernels();
  Case c{"adam", Opt("adam", 0.01)};
  auto host = Trainer::Create(SmallMlp(), Config(c), DefaultRegistry());
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_TRUE((*host)->TrainEpoch(Uniform({8, 4}, -1.f, 1.f, 1), Uniform({8, 3}, -1.f, 1.f, 2))
                  .ok());
  EXPECT_FALSE(cuda::NcclMapped());
}
#endif

}  // namespace
}  // namespace onyx::train_test
