// CachingAllocator: exact size classes, one free list, a mutex.
#include "runtime/cuda/cuda_allocator.h"

#include "absl/strings/str_format.h"
#include "runtime/cuda/cuda_status.h"

namespace onyx::cuda {
namespace {
constexpr size_t kMinBlock = 512;
constexpr size_t kSmallLimit = size_t{1} << 20;
constexpr size_t kLargeStep = size_t{2} << 20;
}  // namespace

CachingAllocator::~CachingAllocator() {
  cudaStreamSynchronize(stream_);
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseCacheLocked();
}

size_t CachingAllocator::RoundUp(size_t bytes) {
  if (bytes <= kMinBlock) return kMinBlock;
  if (bytes <= kSmallLimit) {
    size_t size = kMinBlock;
    while (size < bytes) size <<= 1;
    return size;
  }
  return (bytes + kLargeStep - 1) / kLargeStep * kLargeStep;
}

absl::StatusOr<void*> CachingAllocator::Allocate(size_t bytes) {
  const size_t size = RoundUp(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_.find(size);
  if (it != free_.end()) {
    void* ptr = it->second;
    free_.erase(it);
    cached_ -= size;
    in_use_ += size;
    return ptr;
  }
  void* ptr = nullptr;
  cudaError_t error = cudaMalloc(&ptr, size);
  if (error == cudaErrorMemoryAllocation && !free_.empty()) {
    cudaGetLastError();  // clear the sticky-free error before retrying
    ReleaseCacheLocked();
    error = cudaMalloc(&ptr, size);
  }
  if (error != cudaSuccess) {
    cudaGetLastError();
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cudaMalloc of %d bytes failed (%d in use, %d cached): %s", size, in_use_, cached_,
        cudaGetErrorString(error)));
  }
  in_use_ += size;
  return ptr;
}

void CachingAllocator::Free(void* ptr, size_t bytes) {
  const size_t size = RoundUp(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  free_.emplace(size, ptr);
  in_use_ -= size;
  cached_ += size;
}

void CachingAllocator::ReleaseCache() {
  std::lock_guard<std::mutex> lock(mu_);
  ReleaseCacheLocked();
}

void CachingAllocator::ReleaseCacheLocked() {
  if (free_.empty()) return;
  // Kernels queued before a block was freed may still read it.
  cudaStreamSynchronize(stream_);
  for (const auto& [size, ptr] : free_) cudaFree(ptr);
  free_.clear();
  cached_ = 0;
}

size_t CachingAllocator::bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

size_t CachingAllocator::bytes_cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cached_;
}

}  // namespace onyx::cuda
