// NCCL gradient reduction (runtime/cuda/nccl_communicator.h) and data-parallel
// device-resident training on real GPUs, ranks as threads joined by the
// in-process communicator of tests/unit/train/thread_comm.h (NCCL only needs
// the unique id carried from rank 0). One rank needs one GPU, two need two;
// each test skips naming what is missing.
#include <memory>
#include <thread>
#include <vector>

#include "runtime/cuda/nccl_api.h"
#include "runtime/cuda/nccl_communicator.h"
#include "runtime/training/trainer.h"
#include "tests/unit/gpu/gpu_test_util.h"
#include "tests/unit/train/thread_comm.h"
#include "tests/unit/train/train_cases.h"

namespace onyx::gpu_test {
namespace {

// The sum over ranks of rank-dependent values, reduced in place on each GPU.
void ReduceOnRanks(int world) {
  train_test::ThreadGroup group(world);
  constexpr int64_t kN = 1000;
  std::vector<absl::Status> status(world);
  std::vector<std::vector<float>> results(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto backend = cuda::CudaBackend::Create(r);
      if (!backend.ok()) {
        status[r] = backend.status();
        return;
      }
      std::vector<float> mine(kN);
      for (int64_t i = 0; i < kN; ++i) mine[i] = static_cast<float>(i * (r + 1)) * 0.5f;
      auto device = (*backend)->ToDevice(*Tensor::FromVector<float>({kN}, mine));
      auto nccl = cuda::NcclCommunicator::Create(group.comm(r), **backend);
      if (!device.ok() || !nccl.ok()) {
        status[r] = !device.ok() ? device.status() : nccl.status();
        return;
      }
      const std::pair<float*, int64_t> buffers[] = {{device->data<float>(), kN}};
      status[r] = (*nccl)->AllReduceSum(buffers);
      if (!status[r].ok()) return;
      auto host = (*backend)->ToHost(*device);
      if (!host.ok()) {
        status[r] = host.status();
        return;
      }
      results[r].assign(host->data<float>(), host->data<float>() + kN);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int r = 0; r < world; ++r) {
    ASSERT_TRUE(status[r].ok()) << "rank " << r << ": " << status[r];
    for (int64_t i = 0; i < kN; ++i) {
      double expected = 0;  // sum over ranks q of i * (q + 1) / 2, exact in float here
      for (int q = 0; q < world; ++q) expected += static_cast<double>(i * (q + 1)) * 0.5;
      ASSERT_EQ(results[r][i], static_cast<float>(expected)) << "rank " << r << " [" << i << "]";
    }
  }
  EXPECT_TRUE(cuda::NcclMapped());
}

class NcclGpuTest : public GpuTest {};

TEST_F(NcclGpuTest, OneRankLeavesValuesAsTheyAre) { ReduceOnRanks(1); }

TEST_F(NcclGpuTest, TwoRanksOnTwoGpusSum) {
  if (cuda::DeviceCount() < 2) {
    GTEST_SKIP() << "skipped: needs 2 GPUs, " << cuda::DeviceCount() << " present";
  }
  ReduceOnRanks(2);
}

// Two device-resident trainers on two GPUs against two host trainers (MPI-path
// gradient buckets): the same weights up to cuBLAS/oneDNN rounding.
TEST_F(NcclGpuTest, DataParallelTrainingOnTwoGpusMatchesHost) {
  if (cuda::DeviceCount() < 2) {
    GTEST_SKIP() << "skipped: needs 2 GPUs, " << cuda::DeviceCount() << " present";
  }
  train_test::Case c{"adam", train_test::Opt("adam", 0.01)};
  const Tensor x = train_test::Uniform({13, 4}, -1.f, 1.f, 21);
  const Tensor y = train_test::Uniform({13, 3}, -1.f, 1.f, 22);
  std::vector<std::vector<Tensor>> params(2);
  for (bool on_gpu : {true, false}) {
    train_test::ThreadGroup group(2);
    std::vector<absl::Status> status(2);
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r) {
      threads.emplace_back([&, r] {
        TrainConfig config = train_test::Config(c);
        config.batch_size = 2;
        if (on_gpu) {
          auto backend = cuda::CudaBackend::Create(r);
          if (!backend.ok()) {
            status[r] = backend.status();
            return;
          }
          config.session.device = Device::kCuda;
          config.session.backend = *backend;
        }
        auto trainer = Trainer::Create(train_test::SmallMlp(), config, DefaultRegistry());
        if (!trainer.ok()) {
          status[r] = trainer.status();
          return;
        }
        (*trainer)->set_communicator(&group.comm(r));
        if (on_gpu && !(*trainer)->device_resident()) {
          status[r] = absl::InternalError("left the device");
          return;
        }
        for (int epoch = 0; epoch < 2 && status[r].ok(); ++epoch) {
          status[r] = (*trainer)->TrainEpoch(x, y).status();
        }
        if (!status[r].ok()) return;
        auto host = (*trainer)->HostParams();
        if (!host.ok()) {
          status[r] = host.status();
          return;
        }
        if (r == 0) params[on_gpu ? 0 : 1] = *std::move(host);
      });
    }
    for (std::thread& t : threads) t.join();
    for (int r = 0; r < 2; ++r) ASSERT_TRUE(status[r].ok()) << "rank " << r << ": " << status[r];
  }
  for (size_t p = 0; p < params[0].size(); ++p) {
    EXPECT_TRUE(AllClose<float>(params[0][p], params[1][p], 1e-4, 1e-5)) << p;
  }
}

}  // namespace
}  // namespace onyx::gpu_test
