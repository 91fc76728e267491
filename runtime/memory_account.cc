// MemoryAccount: per-buffer holder counts.
#include "runtime/memory_account.h"

namespace onyx {

void MemoryAccount::Hold(const Tensor& t) {
  if (t.empty()) return;
  Buffer& buffer = buffers_[t.raw_data()];
  if (buffer.holders++ == 0) {
    buffer.bytes = static_cast<int64_t>(t.byte_size());
    live_bytes_ += buffer.bytes;
  }
}

void MemoryAccount::Drop(const Tensor& t) {
  if (t.empty()) return;
  auto it = buffers_.find(t.raw_data());
  if (it == buffers_.end()) return;
  if (--it->second.holders == 0) {
    live_bytes_ -= it->second.bytes;
    buffers_.erase(it);
  }
}

}  // namespace onyx
