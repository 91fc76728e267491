// TensorPool: exact-size recycling of sole-owned buffers.
#include "runtime/tensor_pool.h"

#include <utility>

#include "runtime/status_macros.h"

namespace onyx {

absl::StatusOr<Tensor> TensorPool::Take(DataType dtype, Shape shape, int64_t max_bytes) {
  ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
  // Newest first: the most recently released buffer is the likeliest in cache.
  for (size_t i = free_.size(); i-- > 0;) {
    const Tensor& t = free_[i].tensor;
    if (t.dtype() != dtype || t.num_elements() != count) continue;
    absl::StatusOr<Tensor> view = t.Reshaped(std::move(shape));
    free_[i] = std::move(free_.back());
    free_.pop_back();
    return view;  // the pool's reference is gone: the caller is the sole owner
  }
  ONYX_ASSIGN_OR_RETURN(Tensor fresh, Tensor::Uninitialized(dtype, std::move(shape), max_bytes));
  ++fresh_allocations_;
  fresh_bytes_ += static_cast<int64_t>(fresh.byte_size());
  return fresh;
}

void TensorPool::Give(Tensor& tensor) {
  if (!tensor.empty() && tensor.num_elements() > 0 && tensor.IsSoleOwner()) {
    free_.push_back(Entry{std::move(tensor), false});
  }
  tensor = Tensor();
}

void TensorPool::EndRun() {
  size_t kept = 0;
  for (Entry& e : free_) {
    if (e.idle) continue;  // unused for a whole run: freed here
    e.idle = true;
    if (&free_[kept] != &e) free_[kept] = std::move(e);  // no self-move
    ++kept;
  }
  free_.resize(kept);
  fresh_allocations_ = 0;
  fresh_bytes_ = 0;
}

int64_t TensorPool::free_bytes() const {
  int64_t total = 0;
  for (const Entry& e : free_) total += static_cast<int64_t>(e.tensor.byte_size());
  return total;
}

}  // namespace onyx
