// Live tensor bytes of one session run, counted per buffer (views such as
// Reshape share a buffer and are counted once), for SessionOptions::max_memory_bytes.
#pragma once

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "runtime/tensor.h"

namespace onyx {

class MemoryAccount {
 public:
  // A value now holds `t` (no-op for empty tensors).
  void Hold(const Tensor& t);
  // A value that held `t` was dropped.
  void Drop(const Tensor& t);
  int64_t live_bytes() const { return live_bytes_; }
  // Forgets every buffer (the start of a run).
  void Clear() {
    buffers_.clear();
    live_bytes_ = 0;
  }

 private:
  struct Buffer {
    int64_t bytes = 0;
    int holders = 0;
  };
  absl::flat_hash_map<const void*, Buffer> buffers_;
  int64_t live_bytes_ = 0;
};

}  // namespace onyx
