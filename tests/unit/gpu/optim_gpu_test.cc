// CUDA optimizer updates against the same update_math functors run on the CPU
// (the CUDA file is built without FMA contraction, so results agree to ~1 ulp).
#include <vector>

#include <cuda_runtime.h>

#include "ops/optim/optim_cuda.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

constexpr int64_t kN = 100003;

std::vector<float> Random(float lo, float hi, uint32_t seed) {
  Tensor t = RandomFloats({kN}, lo, hi, seed);
  return std::vector<float>(t.data<float>(), t.data<float>() + kN);
}

// Device copies of host vectors, copied back by Fetch.
class DeviceBuffers {
 public:
  float* Put(const std::vector<float>& host) {
    float* d = nullptr;
    EXPECT_EQ(cudaMalloc(&d, host.size() * sizeof(float)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(d, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
              cudaSuccess);
    buffers_.push_back(d);
    return d;
  }
  std::vector<float> Fetch(const float* d) {
    std::vector<float> host(kN);
    EXPECT_EQ(cudaMemcpy(host.data(), d, kN * sizeof(float), cudaMemcpyDeviceToHost),
              cudaSuccess);
    return host;
  }
  ~DeviceBuffers() {
    for (float* d : buffers_) cudaFree(d);
  }

 private:
  std::vector<float*> buffers_;
};

void ExpectClose(const std::vector<float>& gpu, const std::vector<float>& cpu, const char* what) {
  int bad = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    if (std::fabs(gpu[i] - cpu[i]) > 1e-6f * std::fabs(cpu[i]) + 1e-30f && bad++ < 3) {
      ADD_FAILURE() << what << "[" << i << "]: cuda " << gpu[i] << " vs cpu " << cpu[i];
    }
  }
}

TEST_F(GpuTest, AdamAmsgradMatchesCpuFunctor) {
  std::vector<float> x = Random(-1, 1, 1), g = Random(-1, 1, 2), m = Random(-0.1f, 0.1f, 3),
                     v = Random(0, 0.01f, 4), vmax = Random(0, 0.02f, 5);
  const update_math::AdamCoeffs<float> c{0.999f, 0.01f, 0.9f, 0.1f, 0.999f, 0.001f,
                                         0.0316f, 1e-8f, -0.01f, 1.f};
  DeviceBuffers d;
  float *dx = d.Put(x), *dg = d.Put(g), *dm = d.Put(m), *dv = d.Put(v), *dvm = d.Put(vmax);
  ASSERT_EQ(cuda::AdamUpdate(c, true, dx, dg, dm, dv, dvm, kN, nullptr), cudaSuccess);
  for (int64_t i = 0; i < kN; ++i) update_math::AdamUpdate<true>(c, x[i], g[i], m[i], v[i], vmax[i]);
  ExpectClose(d.Fetch(dx), x, "x");
  ExpectClose(d.Fetch(dm), m, "m");
  ExpectClose(d.Fetch(dv), v, "v");
  ExpectClose(d.Fetch(dvm), vmax, "vmax");
}

TEST_F(GpuTest, SgdNesterovMatchesCpuFunctor) {
  std::vector<float> x = Random(-1, 1, 6), g = Random(-1, 1, 7), v = Random(-0.1f, 0.1f, 8);
  const update_math::MomentumCoeffs<float> c{0.01f, 0.9f, 0.8f, -0.05f};
  DeviceBuffers d;
  float *dx = d.Put(x), *dg = d.Put(g), *dv = d.Put(v);
  ASSERT_EQ(cuda::SgdUpdate(c, true, true, dx, dg, dv, kN, nullptr), cudaSuccess);
  for (int64_t i = 0; i < kN; ++i) update_math::MomentumUpdate<true, true>(c, x[i], g[i], v[i]);
  ExpectClose(d.Fetch(dx), x, "x");
  ExpectClose(d.Fetch(dv), v, "v");
}

TEST_F(GpuTest, RmspropCenteredMomentumMatchesCpuFunctor) {
  std::vector<float> x = Random(-1, 1, 9), g = Random(-1, 1, 10), sq = Random(0.5f, 1, 11),
                     ga = Random(-0.1f, 0.1f, 12), buf = Random(-0.1f, 0.1f, 13);
  const update_math::RmspropCoeffs<float> c{0.001f, 0.99f, 0.01f, 1e-8f, 0.9f, -0.01f};
  DeviceBuffers d;
  float *dx = d.Put(x), *dg = d.Put(g), *dsq = d.Put(sq), *dga = d.Put(ga), *db = d.Put(buf);
  ASSERT_EQ(cuda::RmspropUpdate(c, true, true, dx, dg, dsq, dga, db, kN, nullptr), cudaSuccess);
  for (int64_t i = 0; i < kN; ++i) {
    update_math::RmspropUpdate<true, true>(c, x[i], g[i], sq[i], ga[i], buf[i]);
  }
  ExpectClose(d.Fetch(dx), x, "x");
  ExpectClose(d.Fetch(dsq), sq, "sq");
  ExpectClose(d.Fetch(dga), ga, "ga");
  ExpectClose(d.Fetch(db), buf, "buf");
}

TEST_F(GpuTest, AdagradMatchesCpuFunctor) {
  std::vector<float> x = Random(-1, 1, 14), g = Random(-1, 1, 15), h = Random(0, 1, 16);
  const update_math::AdagradCoeffs<float> c{0.001f, 1e-10f, -0.01f};
  DeviceBuffers d;
  float *dx = d.Put(x), *dg = d.Put(g), *dh = d.Put(h);
  ASSERT_EQ(cuda::AdagradUpdate(c, dx, dg, dh, kN, nullptr), cudaSuccess);
  for (int64_t i = 0; i < kN; ++i) update_math::AdagradUpdate(c, x[i], g[i], h[i]);
  ExpectClose(d.Fetch(dx), x, "x");
  ExpectClose(d.Fetch(dh), h, "h");
}

}  // namespace
}  // namespace onyx::gpu_test
