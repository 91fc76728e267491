// stream_copy [--threads N] [--mib M] [--reps R]: STREAM "Copy" (b[i] = a[i], plain
// stores) and in-place scale (a[i] = 2 * a[i]) over M MiB float buffers on N
// OpenMP threads. Prints one JSON object; bandwidth counts bytes read + written,
// as `onyx bench` does for activations (bytes in + out / time).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

template <typename Body>
double MedianSeconds(int reps, Body body) {
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const Clock::time_point start = Clock::now();
    body();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 21;
  long mib = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--mib")) mib = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  if (threads < 1 || mib < 1 || reps < 1) {
    std::fprintf(stderr, "usage: stream_copy [--threads N>=1] [--mib M>=1] [--reps R>=1]\n");
    return 2;
  }
  omp_set_dynamic(0);
  omp_set_num_threads(threads);
  const long n = mib * (1L << 20) / static_cast<long>(sizeof(float));
  float* a = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  float* b = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  if (a == nullptr || b == nullptr) return 1;
  // First touch on the threads that will use the pages.
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i % 1000) * 1e-3f;
    b[i] = 0.f;
  }
  const double copy_s = MedianSeconds(reps, [&] {
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < n; ++i) b[i] = a[i];
  });
  const double scale_s = MedianSeconds(reps, [&] {
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < n; ++i) a[i] = -a[i];
  });
  const double bytes = 2.0 * n * sizeof(float);
  std::printf("{\"threads\": %d, \"mib\": %ld, \"copy_gb_per_s\": %.3f, "
              "\"inplace_gb_per_s\": %.3f, \"copy_ms\": %.4f}\n",
              threads, mib, bytes / copy_s / 1e9, bytes / scale_s / 1e9, copy_s * 1e3);
  std::printf("%s", b[n / 3] < 0 ? " " : "");  // keep the copies observable
  std::free(a);
  std::free(b);
  return 0;
}
