// Device-resident training on CUDA against the host trainer: a small MLP
// trained for a few steps with each optimizer (tests/unit/train/train_cases.h).
// First with the graph on the CPU and only the step (gradient sums, clipping,
// update) on the GPU: optim_cuda.cu builds with --fmad=false and the same
// update_math.h functors, so the weights agree to rounding. Then with the
// graph on the GPU too (cuBLAS sums in another order: a looser tolerance).
#include <memory>

#include "ops/register_all.h"
#include "runtime/training/trainer.h"
#include "tests/unit/gpu/gpu_test_util.h"
#include "tests/unit/train/train_cases.h"

namespace onyx::gpu_test {
namespace {

using train_test::Case;

std::unique_ptr<Trainer> MakeTrainer(const Case& c, const OpRegistry& registry, bool on_gpu) {
  TrainConfig config = train_test::Config(c);
  if (on_gpu) {
    auto backend = cuda::CudaBackend::Create();
    EXPECT_TRUE(backend.ok()) << backend.status();
    if (!backend.ok()) return nullptr;
    config.session.device = Device::kCuda;
    config.session.backend = *backend;
  }
  auto trainer = Trainer::Create(train_test::SmallMlp(), config, registry);
  EXPECT_TRUE(trainer.ok()) << trainer.status();
  return trainer.ok() ? *std::move(trainer) : nullptr;
}

void TrainAndCompare(const Case& c, const OpRegistry& gpu_registry, double rtol, double atol) {
  // The CUDA training kernels are registered with the optim family.
  OpRegistry scratch;
  RegisterOptimOps(scratch);
  train_test::Data data;
  std::unique_ptr<Trainer> host = MakeTrainer(c, train_test::CpuOnlyRegistry(), false);
  std::unique_ptr<Trainer> gpu = MakeTrainer(c, gpu_registry, true);
  ASSERT_NE(host, nullptr);
  ASSERT_NE(gpu, nullptr);
  ASSERT_TRUE(gpu->device_resident());
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto hs = host->TrainEpoch(data.x, data.y);
    auto gs = gpu->TrainEpoch(data.x, data.y);
    ASSERT_TRUE(hs.ok()) << hs.status();
    ASSERT_TRUE(gs.ok()) << gs.status();
  }
  for (const Tensor& p : gpu->params()) EXPECT_TRUE(p.on_device());
  for (const auto& [name, t] : gpu->optimizer().State()) EXPECT_TRUE(t->on_device()) << name;
  auto hp = host->HostParams();
  auto gp = gpu->HostParams();
  ASSERT_TRUE(hp.ok() && gp.ok());
  for (size_t p = 0; p < hp->size(); ++p) {
    EXPECT_TRUE(AllClose<float>((*gp)[p], (*hp)[p], rtol, atol)) << gpu->param_names()[p];
  }
  // The export and a checkpoint read the device copies.
  const Graph model = gpu->TrainedModel();
  for (size_t p = 0; p < gp->size(); ++p) {
    EXPECT_TRUE(AllClose<float>(model.initializers.at(gpu->param_names()[p]), (*gp)[p], 0, 0));
  }
  std::unique_ptr<Trainer> resumed = MakeTrainer(c, train_test::CpuOnlyRegistry(), false);
  ASSERT_TRUE(resumed->RestoreCheckpointBytes(gpu->CheckpointBytes(), "gpu").ok());
  auto rp = resumed->HostParams();
  ASSERT_TRUE(rp.ok());
  for (size_t p = 0; p < gp->size(); ++p) {
    EXPECT_TRUE(AllClose<float>((*rp)[p], (*gp)[p], 0, 0));
  }
}

class TrainGpuTest : public GpuParamTest<Case> {};

TEST_P(TrainGpuTest, StepOnGpuMatchesHost) {
  TrainAndCompare(GetParam(), train_test::CpuOnlyRegistry(), 1e-5, 1e-7);
}

TEST_P(TrainGpuTest, GraphAndStepOnGpuMatchHost) {
  TrainAndCompare(GetParam(), DefaultRegistry(), 1e-4, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, TrainGpuTest, ::testing::ValuesIn(train_test::Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace onyx::gpu_test
