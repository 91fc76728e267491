// CUDA optimizer updates. Built with --fmad=false (ops/CMakeLists.txt): the
// functors round after every operation in torch's order, and a fused
// multiply-add would change the last bit.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/optim/optim_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

// Calls update(i) for every element; the updates are independent.
template <typename Update>
__global__ void UpdateKernel(Update update, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    update(i);
  }
}

template <typename Update>
cudaError_t Run(Update update, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  UpdateKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(update, n);
  return cudaGetLastError();
}

template <bool kMomentum, bool kNesterov>
struct Sgd {
  update_math::MomentumCoeffs<float> c;
  float *x, *v;
  const float* g;
  __device__ void operator()(int64_t i) const {
    float unused = 0.f;
    update_math::MomentumUpdate<kMomentum, kNesterov>(c, x[i], g[i], kMomentum ? v[i] : unused);
  }
};

template <bool kAmsgrad>
struct Adam {
  update_math::AdamCoeffs<float> c;
  float *x, *m, *v, *vmax;
  const float* g;
  __device__ void operator()(int64_t i) const {
    float unused = 0.f;
    update_math::AdamUpdate<kAmsgrad>(c, x[i], g[i], m[i], v[i], kAmsgrad ? vmax[i] : unused);
  }
};

template <bool kCentered, bool kMomentum>
struct Rmsprop {
  update_math::RmspropCoeffs<float> c;
  float *x, *sq, *ga, *buf;
  const float* g;
  __device__ void operator()(int64_t i) const {
    float unused_ga = 0.f, unused_buf = 0.f;
    update_math::RmspropUpdate<kCentered, kMomentum>(c, x[i], g[i], sq[i],
                                                     kCentered ? ga[i] : unused_ga,
                                                     kMomentum ? buf[i] : unused_buf);
  }
};

struct Adagrad {
  update_math::AdagradCoeffs<float> c;
  float *x, *h;
  const float* g;
  __device__ void operator()(int64_t i) const {
    update_math::AdagradUpdate(c, x[i], g[i], h[i]);
  }
};

struct ScaleOp {
  float *y;
  const float* x;
  float alpha;
  __device__ void operator()(int64_t i) const { y[i] = alpha * x[i]; }
};

struct AddScaledOp {
  float* acc;
  const float* x;
  float alpha;
  __device__ void operator()(int64_t i) const { acc[i] = acc[i] + alpha * x[i]; }
};

// One partial sum of squares per block, by a fixed tree within the block.
__global__ void SumSquaresPartials(const float* x, int64_t n, double* partials) {
  __shared__ double sums[kThreads];
  double s = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double v = x[i];
    s += v * v;
  }
  sums[threadIdx.x] = s;
  __syncthreads();
  for (int half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) sums[threadIdx.x] += sums[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = sums[0];
}

__global__ void AddPartials(const double* partials, int count, double* total) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    double s = 0;
    for (int b = 0; b < count; ++b) s += partials[b];
    *total += s;
  }
}

}  // namespace

cudaError_t ScaleFloats(float* y, const float* x, float alpha, int64_t n, cudaStream_t stream) {
  return Run(ScaleOp{y, x, alpha}, n, stream);
}

cudaError_t AddScaledFloats(float* acc, const float* x, float alpha, int64_t n,
                            cudaStream_t stream) {
  return Run(AddScaledOp{acc, x, alpha}, n, stream);
}

cudaError_t AddSumOfSquares(const float* x, int64_t n, double* partials, double* total,
                            cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  SumSquaresPartials<<<kSumSquaresBlocks, kThreads, 0, stream>>>(x, n, partials);
  if (cudaError_t error = cudaGetLastError(); error != cudaSuccess) return error;
  AddPartials<<<1, 1, 0, stream>>>(partials, kSumSquaresBlocks, total);
  return cudaGetLastError();
}

cudaError_t SgdUpdate(const update_math::MomentumCoeffs<float>& c, bool momentum, bool nesterov,
                      float* x, const float* g, float* v, int64_t n, cudaStream_t stream) {
  if (!momentum) return Run(Sgd<false, false>{c, x, v, g}, n, stream);
  if (nesterov) return Run(Sgd<true, true>{c, x, v, g}, n, stream);
  return Run(Sgd<true, false>{c, x, v, g}, n, stream);
}

cudaError_t AdamUpdate(const update_math::AdamCoeffs<float>& c, bool amsgrad, float* x,
                       const float* g, float* m, float* v, float* vmax, int64_t n,
                       cudaStream_t stream) {
  if (amsgrad) return Run(Adam<true>{c, x, m, v, vmax, g}, n, stream);
  return Run(Adam<false>{c, x, m, v, vmax, g}, n, stream);
}

cudaError_t RmspropUpdate(const update_math::RmspropCoeffs<float>& c, bool centered,
                          bool momentum, float* x, const float* g, float* sq, float* ga,
                          float* buf, int64_t n, cudaStream_t stream) {
  if (centered && momentum) return Run(Rmsprop<true, true>{c, x, sq, ga, buf, g}, n, stream);
  if (centered) return Run(Rmsprop<true, false>{c, x, sq, ga, buf, g}, n, stream);
  if (momentum) return Run(Rmsprop<false, true>{c, x, sq, ga, buf, g}, n, stream);
  return Run(Rmsprop<false, false>{c, x, sq, ga, buf, g}, n, stream);
}

cudaError_t AdagradUpdate(const update_math::AdagradCoeffs<float>& c, float* x, const float* g,
                          float* h, int64_t n, cudaStream_t stream) {
  return Run(Adagrad{c, x, h, g}, n, stream);
}

}  // namespace onyx::cuda
