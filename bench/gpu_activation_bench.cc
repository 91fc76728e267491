// Memory bandwidth of every CUDA activation kernel, forward and backward, on
// large float32 tensors, against the device's theoretical peak (memory clock x
// bus width) and the bandwidth a device-to-device cudaMemcpy reaches.
// Usage: gpu_activation_bench [MiB ...]   (tensor sizes; default 64 256)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "ops/activation/activation_cuda.h"

namespace {

using onyx::cuda::Activation;
using onyx::cuda::ActivationParams;

#define CHECK_CUDA(call)                                                          \
  do {                                                                            \
    cudaError_t e_ = (call);                                                      \
    if (e_ != cudaSuccess) {                                                      \
      std::fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(e_));            \
      std::exit(1);                                                               \
    }                                                                             \
  } while (0)

struct Row {
  const char* name;
  ActivationParams params;
};

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"Relu", {Activation::kRelu}},
      {"LeakyRelu", {Activation::kLeakyRelu, 0.01f}},
      {"Sigmoid", {Activation::kSigmoid}},
      {"Tanh", {Activation::kTanh}},
      {"Softplus", {Activation::kSoftplus}},
      {"Elu", {Activation::kElu, 1.f}},
      {"Selu", {Activation::kSelu, 1.67326319f, 0.f, 1.05070102f}},
      {"Gelu", {Activation::kGelu}},
      {"GeluTanh", {Activation::kGeluTanh}},
      {"Mish", {Activation::kMish}},
      {"Swish", {Activation::kSwish, 1.f}},
      {"HardSwish", {Activation::kHardSwish}},
  };
  return rows;
}

// Median-free, simple: `iters` launches between two events after `warmup`.
template <typename Fn>
double MillisPerCall(Fn&& fn, int warmup, int iters) {
  for (int i = 0; i < warmup; ++i) fn();
  cudaEvent_t start, stop;
  CHECK_CUDA(cudaEventCreate(&start));
  CHECK_CUDA(cudaEventCreate(&stop));
  CHECK_CUDA(cudaEventRecord(start));
  for (int i = 0; i < iters; ++i) fn();
  CHECK_CUDA(cudaEventRecord(stop));
  CHECK_CUDA(cudaEventSynchronize(stop));
  float ms = 0;
  CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
  CHECK_CUDA(cudaEventDestroy(start));
  CHECK_CUDA(cudaEventDestroy(stop));
  return ms / iters;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIP: no CUDA device (%s)\n", cudaGetErrorString(cudaGetLastError()));
    return 0;
  }
  std::vector<size_t> sizes_mib;
  for (int i = 1; i < argc; ++i) sizes_mib.push_back(std::strtoull(argv[i], nullptr, 10));
  if (sizes_mib.empty()) sizes_mib = {64, 256};

  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  int clock_khz = 0, bus_bits = 0;
  // Not fatal: a driver may not report these (the copy figure stands in).
  if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess) {
    cudaGetLastError();
    clock_khz = bus_bits = 0;
  }
  // Double data rate: two transfers per clock.
  double peak_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  std::printf("device: %s, %d SMs, memory clock %.0f MHz, bus %d bits\n", prop.name,
              prop.multiProcessorCount, clock_khz / 1e3, bus_bits);
  std::printf("theoretical peak bandwidth: %.0f GB/s\n", peak_gbs);

  for (size_t mib : sizes_mib) {
    const int64_t n = static_cast<int64_t>(mib) * (1 << 20) / sizeof(float);
    const size_t bytes = n * sizeof(float);
    float *x, *y, *dy, *dx;
    CHECK_CUDA(cudaMalloc(&x, bytes));
    CHECK_CUDA(cudaMalloc(&y, bytes));
    CHECK_CUDA(cudaMalloc(&dy, bytes));
    CHECK_CUDA(cudaMalloc(&dx, bytes));
    std::vector<float> host(n);
    for (int64_t i = 0; i < n; ++i) host[i] = -6.f + 12.f * ((i * 2654435761u) % 10007) / 10007.f;
    CHECK_CUDA(cudaMemcpy(x, host.data(), bytes, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(dy, host.data(), bytes, cudaMemcpyHostToDevice));

    const double copy_ms = MillisPerCall(
        [&] { CHECK_CUDA(cudaMemcpyAsync(y, x, bytes, cudaMemcpyDeviceToDevice)); }, 3, 20);
    const double copy_gbs = 2.0 * bytes / (copy_ms * 1e-3) / 1e9;
    if (peak_gbs <= 0) {  // the driver did not report clock or bus width
      peak_gbs = copy_gbs;
      std::printf("(no memory clock reported: peak taken as the cudaMemcpy figure)\n");
    }
    std::printf("\ntensor %zu MiB (%lld floats); cudaMemcpy D2D %.0f GB/s (%.1f%% of peak)\n",
                mib, static_cast<long long>(n), copy_gbs, 100 * copy_gbs / peak_gbs);
    // The default unroll, then one float4 per load round (the earlier kernel).
    for (int unroll : {onyx::cuda::kDefaultUnroll, 1}) {
      std::printf("%-10s %10s %8s %8s %10s %8s %8s   (unroll %d)\n", "op", "fwd GB/s", "% peak",
                  "% copy", "bwd GB/s", "% peak", "% copy", unroll);
      for (const Row& row : Rows()) {
        const double fwd_ms = MillisPerCall(
            [&] { CHECK_CUDA(onyx::cuda::ActivationForward(row.params, x, y, n, 0, unroll)); }, 3,
            20);
        const double bwd_ms = MillisPerCall(
            [&] {
              CHECK_CUDA(onyx::cuda::ActivationBackward(row.params, dy, x, dx, n, 0, unroll));
            },
            3, 20);
        const double fwd_gbs = 2.0 * bytes / (fwd_ms * 1e-3) / 1e9;  // read x, write y
        const double bwd_gbs = 3.0 * bytes / (bwd_ms * 1e-3) / 1e9;  // read dy, x; write dx
        std::printf("%-10s %10.0f %7.1f%% %7.1f%% %10.0f %7.1f%% %7.1f%%\n", row.name, fwd_gbs,
                    100 * fwd_gbs / peak_gbs, 100 * fwd_gbs / copy_gbs, bwd_gbs,
                    100 * bwd_gbs / peak_gbs, 100 * bwd_gbs / copy_gbs);
      }
    }
    CHECK_CUDA(cudaFree(x));
    CHECK_CUDA(cudaFree(y));
    CHECK_CUDA(cudaFree(dy));
    CHECK_CUDA(cudaFree(dx));
  }
  return 0;
}
