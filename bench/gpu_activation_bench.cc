// Memory bandwidth of every CUDA activation kernel, forward and backward, on
// large float32 tensors, against the device's theoretical peak (memory clock x
// bus width) and the bandwidth a device-to-device cudaMemcpy reaches.
// Usage: gpu_activation_bench [--sweep] [MiB ...]   (tensor sizes; default 64 256)
// --sweep: every launch shape (unroll x threads x blocks per SM)
// for every op, ranked by the slowest op's bandwidth, then the default's table.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "ops/activation/activation_cuda.h"

namespace {

using onyx::cuda::Activation;
using onyx::cuda::ActivationParams;
using onyx::cuda::LaunchShape;

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

struct Bandwidth {
  double fwd_gbs, bwd_gbs;
};

Bandwidth Measure(const ActivationParams& params, const LaunchShape& shape, const float* x,
                  float* y, const float* dy, float* dx, int64_t n) {
  const double bytes = static_cast<double>(n) * sizeof(float);
  const double fwd_ms = MillisPerCall(
      [&] { CHECK_CUDA(onyx::cuda::ActivationForward(params, x, y, n, 0, shape)); }, 3, 20);
  const double bwd_ms = MillisPerCall(
      [&] { CHECK_CUDA(onyx::cuda::ActivationBackward(params, dy, x, dx, n, 0, shape)); }, 3, 20);
  return {2.0 * bytes / (fwd_ms * 1e-3) / 1e9,   // read x, write y
          3.0 * bytes / (bwd_ms * 1e-3) / 1e9};  // read dy and x, write dx
}

std::string Describe(const LaunchShape& s) {
  char text[64];
  std::snprintf(text, sizeof text, "unroll %d, %4d threads, %2d blocks/SM", s.unroll, s.threads,
                s.blocks_per_sm);
  return text;
}

// Every launch shape over every op: per shape, one line of each op's forward
// and one of its backward % of peak (ops in Rows() order), then the ten best
// shapes by the slowest op forward and by the slowest op backward.
void Sweep(const float* x, float* y, const float* dy, float* dx, int64_t n, double peak_gbs) {
  struct Result {
    LaunchShape shape;
    double fwd_min, bwd_min;
  };
  std::vector<Result> results;
  std::printf("sweep: %% of peak per op:");
  for (const Row& row : Rows()) std::printf(" %s", row.name);
  std::printf("\n");
  for (int unroll : {1, 2, 4}) {
    for (int threads : {128, 256, 512, 1024}) {
      for (int blocks_per_sm : {0, 2048 / threads, 4096 / threads, 8192 / threads}) {
        const LaunchShape shape{unroll, threads, blocks_per_sm};
        Result r{shape, 1e9, 1e9};
        std::string fwd, bwd;
        for (const Row& row : Rows()) {
          const Bandwidth b = Measure(row.params, shape, x, y, dy, dx, n);
          r.fwd_min = std::min(r.fwd_min, 100 * b.fwd_gbs / peak_gbs);
          r.bwd_min = std::min(r.bwd_min, 100 * b.bwd_gbs / peak_gbs);
          char cell[16];
          std::snprintf(cell, sizeof cell, " %5.1f", 100 * b.fwd_gbs / peak_gbs);
          fwd += cell;
          std::snprintf(cell, sizeof cell, " %5.1f", 100 * b.bwd_gbs / peak_gbs);
          bwd += cell;
        }
        std::printf("  %s fwd%s\n  %s bwd%s\n", Describe(shape).c_str(), fwd.c_str(),
                    Describe(shape).c_str(), bwd.c_str());
        results.push_back(r);
      }
    }
  }
  for (bool forward : {true, false}) {
    std::sort(results.begin(), results.end(), [&](const Result& a, const Result& b) {
      return forward ? a.fwd_min > b.fwd_min : a.bwd_min > b.bwd_min;
    });
    std::printf("best by the slowest op, %s:\n", forward ? "forward" : "backward");
    for (size_t i = 0; i < 10 && i < results.size(); ++i) {
      std::printf("  %s   slowest op fwd %5.1f, bwd %5.1f\n", Describe(results[i].shape).c_str(),
                  results[i].fwd_min, results[i].bwd_min);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("SKIP: no CUDA device (%s)\n", cudaGetErrorString(cudaGetLastError()));
    return 0;
  }
  bool sweep = false;
  std::vector<size_t> sizes_mib;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--sweep") == 0) {
      sweep = true;
    } else {
      sizes_mib.push_back(std::strtoull(argv[i], nullptr, 10));
    }
  }
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
    if (sweep) Sweep(x, y, dy, dx, n, peak_gbs);
    std::printf("%-10s %10s %8s %8s %10s %8s %8s   (%s)\n", "op", "fwd GB/s", "% peak",
                "% copy", "bwd GB/s", "% peak", "% copy",
                Describe(onyx::cuda::kDefaultShape).c_str());
    for (const Row& row : Rows()) {
      const Bandwidth b = Measure(row.params, onyx::cuda::kDefaultShape, x, y, dy, dx, n);
      std::printf("%-10s %10.0f %7.1f%% %7.1f%% %10.0f %7.1f%% %7.1f%%\n", row.name, b.fwd_gbs,
                  100 * b.fwd_gbs / peak_gbs, 100 * b.fwd_gbs / copy_gbs, b.bwd_gbs,
                  100 * b.bwd_gbs / peak_gbs, 100 * b.bwd_gbs / copy_gbs);
    }
    CHECK_CUDA(cudaFree(x));
    CHECK_CUDA(cudaFree(y));
    CHECK_CUDA(cudaFree(dy));
    CHECK_CUDA(cudaFree(dx));
  }
  return 0;
}
