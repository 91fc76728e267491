// A caching, stream-ordered device allocator: freed blocks go to a free list
// and are handed out again without cudaFree/cudaMalloc. All work that uses the
// blocks runs on the one stream the allocator serves, so a block freed by the
// host while a kernel still reads it is only reused by work queued after that
// kernel on the same stream — stream order makes the reuse safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

#include <cuda_runtime.h>

#include "absl/status/statusor.h"

namespace onyx::cuda {

class CachingAllocator {
 public:
  explicit CachingAllocator(cudaStream_t stream) : stream_(stream) {}
  ~CachingAllocator();  // waits for the stream, then frees every block
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Size class of a request: powers of two up to 1 MiB, 2 MiB steps above.
  // Never 0, so an empty tensor still gets a unique, valid pointer.
  static size_t RoundUp(size_t bytes);

  // A block of at least `bytes` (256-byte aligned, as cudaMalloc returns).
  // When the device is full the cache is released and the call retried once.
  absl::StatusOr<void*> Allocate(size_t bytes);
  // Returns a block from Allocate(bytes) to the cache.
  void Free(void* ptr, size_t bytes);
  // cudaFree of every cached block (after the stream drains).
  void ReleaseCache();

  size_t bytes_in_use() const;
  size_t bytes_cached() const;

 private:
  void ReleaseCacheLocked();

  cudaStream_t stream_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;  // size class -> cached block
  size_t in_use_ = 0;
  size_t cached_ = 0;
};

}  // namespace onyx::cuda
