// The CUDA emulator against closed forms and against the faults a GPU shows:
// written as CUDA and compiled the way the emulator build compiles ops/*.cu.
#include <cuda_runtime.h>

#include <vector>

#include "gtest/gtest.h"

namespace {

constexpr int kThreads = 256;

__global__ void BlockSums(const int* in, int n, int* out) {
  __shared__ int partial[kThreads];
  int sum = 0;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    sum += in[i];
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}

__global__ void WarpSums(const float* in, float* out) {
  float v = in[threadIdx.x];
  for (int mask = 16; mask > 0; mask /= 2) v += __shfl_xor_sync(0xffffffffu, v, mask);
  out[threadIdx.x] = v;
}

__global__ void WriteIndices(int* out) {
  const int block = blockIdx.z * gridDim.y * gridDim.x + blockIdx.y * gridDim.x + blockIdx.x;
  const int thread = threadIdx.z * blockDim.y * blockDim.x + threadIdx.y * blockDim.x + threadIdx.x;
  out[block * blockDim.x * blockDim.y * blockDim.z + thread] = block * 1000 + thread;
}

// Reads a neighbour's shared slot with no barrier after the writes.
__global__ void ReadNeighbourWithoutBarrier(int offset, int* out) {
  __shared__ int slots[64];
  slots[threadIdx.x] = blockIdx.x * 1000 + threadIdx.x;
  out[blockIdx.x * 64 + threadIdx.x] = slots[(threadIdx.x + offset) % 64];
}

__global__ void HalfAtBarrierHalfAtShuffle(float* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
  }
}

__global__ void ShuffleAfterHalfExited(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

__global__ void CopyInts(const int* in, int* out) { out[threadIdx.x] = in[threadIdx.x]; }

template <typename T>
T* DeviceCopy(const std::vector<T>& host) {
  T* device = nullptr;
  EXPECT_EQ(cudaMalloc(&device, host.size() * sizeof(T)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(device, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            cudaSuccess);
  return device;
}

template <typename T>
std::vector<T> HostCopy(const T* device, size_t n) {
  std::vector<T> host(n);
  EXPECT_EQ(cudaMemcpy(host.data(), device, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  return host;
}

TEST(CudaEmulator, SharedMemoryReductionMatchesTheClosedForm) {
  const int n = 10000;
  std::vector<int> values(n);
  for (int i = 0; i < n; ++i) values[i] = i;
  int* in = DeviceCopy(values);
  int* sums = DeviceCopy(std::vector<int>(3));
  BlockSums<<<3, kThreads>>>(in, n, sums);
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<int> partial = HostCopy(sums, 3);
  EXPECT_EQ(partial[0] + partial[1] + partial[2], n * (n - 1) / 2);
  cudaFree(in);
  cudaFree(sums);
}

TEST(CudaEmulator, XorShufflesGiveEveryLaneItsWarpSum) {
  std::vector<float> values(64);
  for (int i = 0; i < 64; ++i) values[i] = static_cast<float>(i);
  float* in = DeviceCopy(values);
  float* out = DeviceCopy(std::vector<float>(64));
  WarpSums<<<1, 64>>>(in, out);
  const std::vector<float> sums = HostCopy(out, 64);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(sums[i], i < 32 ? 31 * 32 / 2 : 32 * 32 + 31 * 32 / 2) << i;
}

TEST(CudaEmulator, GridAndBlockIndicesCoverEveryThreadOnce) {
  const dim3 grid(3, 2, 2);
  const dim3 block(4, 3, 2);
  const int total = 12 * 24;
  int* out = DeviceCopy(std::vector<int>(total, -1));
  WriteIndices<<<grid, block>>>(out);
  const std::vector<int> indices = HostCopy(out, total);
  for (int i = 0; i < total; ++i) EXPECT_EQ(indices[i], i / 24 * 1000 + i % 24) << i;
}

TEST(CudaEmulator, AMissingBarrierShowsWhicheverNeighbourIsRead) {
  for (int offset : {1, 63}) {  // the next thread's slot, then the previous one's
    int* out = DeviceCopy(std::vector<int>(128));
    ReadNeighbourWithoutBarrier<<<2, 64>>>(offset, out);
    const std::vector<int> read = HostCopy(out, 128);
    int stale = 0;
    for (int i = 0; i < 128; ++i) stale += read[i] != i / 64 * 1000 + (i % 64 + offset) % 64;
    EXPECT_GT(stale, 0) << "offset " << offset;
  }
}

TEST(CudaEmulator, FreshDeviceMemoryIsNotZero) {
  int* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, 8 * sizeof(int)), cudaSuccess);
  for (int v : HostCopy(device, 8)) EXPECT_EQ(v, -1);
}

TEST(CudaEmulator, ABadLaunchIsReportedAndRunsNothing) {
  int* out = DeviceCopy(std::vector<int>(4, 7));
  WriteIndices<<<1, 2048>>>(out);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidConfiguration);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // reading the error clears it
  WriteIndices<<<1, 4, 0, reinterpret_cast<cudaStream_t>(0x1234)>>>(out);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  for (int v : HostCopy(out, 4)) EXPECT_EQ(v, 7);
}

TEST(CudaEmulator, CopiesCheckTheirDirectionAndRange) {
  std::vector<int> host(4, 1);
  int* device = DeviceCopy(host);
  EXPECT_EQ(cudaMemcpy(host.data(), device, 16, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(device, host.data(), 16, cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(device, host.data(), 20, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(device + 1, host.data(), 12, cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(cudaFree(host.data()), cudaErrorInvalidValue);
}

TEST(CudaEmulatorDeathTest, HostCodeCannotTouchDeviceMemory) {
  int* device = DeviceCopy(std::vector<int>(4));
  EXPECT_DEATH(device[0] = 1, "");
  ASSERT_EQ(cudaFree(device), cudaSuccess);
  int* out = DeviceCopy(std::vector<int>(4));
  EXPECT_DEATH(CopyInts<<<1, 4>>>(device, out), "");  // a freed buffer stays unmapped
}

TEST(CudaEmulatorDeathTest, KernelsCannotBeHandedHostPointers) {
  std::vector<int> host(4, 1);
  int* out = DeviceCopy(std::vector<int>(4));
  EXPECT_DEATH(CopyInts<<<1, 4>>>(host.data(), out), "CopyInts: argument 0 is a host pointer");
  CopyInts<<<1, 4>>>(out + 0, out);  // device pointers, offsets included, are fine
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(CudaEmulatorDeathTest, ThreadsAtDifferentBarriersDeadlock) {
  float* out = DeviceCopy(std::vector<float>(32));
  EXPECT_DEATH(HalfAtBarrierHalfAtShuffle<<<1, 32>>>(out), "deadlock");
}

TEST(CudaEmulatorDeathTest, AShuffleMayNotNameAnExitedLane) {
  float* out = DeviceCopy(std::vector<float>(32));
  EXPECT_DEATH(ShuffleAfterHalfExited<<<1, 32>>>(out), "lane 16, which has exited");
  EXPECT_DEATH(WarpSums<<<1, 48>>>(out, out), "beyond the block's last thread");
}

}  // namespace
