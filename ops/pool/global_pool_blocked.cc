// Global pooling over nChw16c: x[n][c / 16][h][w][c % 16], channels padded to a
// multiple of 16. Each (n, block) is a contiguous [H*W][16] run reduced to 16
// channel values with a 16-lane vector loop.
#include "ops/pool/global_pool_blocked.h"

#include <algorithm>
#include <limits>

#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/tensor_layout.h"

namespace onyx::pool {
namespace {

constexpr int64_t kBlock = 16;

}  // namespace

bool IsChannelBlocked16(const Tensor& x) {
  if (x.is_plain() || x.dtype() != DataType::kFloat32 || x.rank() != 4) return false;
  const dnnl::memory::desc want(dnnl::memory::dims(x.shape().begin(), x.shape().end()),
                                dnnl::memory::data_type::f32, dnnl::memory::format_tag::aBcd16b);
  return x.layout()->desc == want;
}

void GlobalPoolBlocked16(bool max, const Tensor& x, float* y) {
  const int64_t n = x.dim(0), c = x.dim(1), size = x.dim(2) * x.dim(3);
  const int64_t blocks = (c + kBlock - 1) / kBlock;
  const float* src = x.data<float>();
  const bool threads = n * blocks * size * kBlock >= (int64_t{1} << 15);
#pragma omp parallel for schedule(static) if (threads)
  for (int64_t nb = 0; nb < n * blocks; ++nb) {
    const float* p = src + nb * size * kBlock;
    const int64_t batch = nb / blocks, c0 = (nb % blocks) * kBlock;
    const int64_t lanes = std::min(kBlock, c - c0);
    float* out = y + batch * c + c0;
    if (max) {
      float best[kBlock];
      std::fill(best, best + kBlock, size > 0 ? p[0] : -std::numeric_limits<float>::infinity());
      for (int64_t i = 0; i < size; ++i) {
#pragma omp simd
        for (int64_t l = 0; l < kBlock; ++l) best[l] = std::max(best[l], p[i * kBlock + l]);
      }
      // NaN handling matches the plain loop's `x > best ? x : best`: a NaN first
      // element stays, a later NaN is skipped.
      for (int64_t l = 0; l < lanes; ++l) out[l] = best[l];
    } else {
      double acc[kBlock] = {};
      for (int64_t i = 0; i < size; ++i) {
#pragma omp simd
        for (int64_t l = 0; l < kBlock; ++l) acc[l] += double(p[i * kBlock + l]);
      }
      for (int64_t l = 0; l < lanes; ++l) {
        out[l] = static_cast<float>(size > 0 ? acc[l] / size : 0.0);
      }
    }
  }
}

}  // namespace onyx::pool
