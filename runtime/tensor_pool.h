// TensorPool: buffers a session recycles across nodes and across runs, so that a
// steady-state run allocates nothing (a fresh 64 MiB buffer costs page faults
// worth several times an activation over it).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/tensor.h"

namespace onyx {

class TensorPool {
 public:
  // A tensor of `dtype` and `shape` with unspecified contents: the smallest free
  // buffer of the same dtype holding its bytes (at most twice as large) when
  // there is one, else a fresh one.
  absl::StatusOr<Tensor> Take(DataType dtype, Shape shape, int64_t max_bytes);
  // The same in a blocked `layout` (null: plain), sized by the layout.
  absl::StatusOr<Tensor> TakeWithLayout(DataType dtype, Shape shape,
                                        std::shared_ptr<const TensorLayout> layout,
                                        int64_t max_bytes);
  // Takes `tensor`'s buffer for reuse when no other Tensor shares it (a caller,
  // a view, a kernel); otherwise only drops this reference. Leaves `tensor` empty.
  void Give(Tensor& tensor);
  // Call once per run: frees buffers that stayed unused through a whole run, so
  // the pool holds about one run's working set when shapes change.
  void EndRun();

  int64_t free_bytes() const;
  // Fresh allocations made by Take since the last EndRun (0 in a steady state).
  int64_t fresh_allocations() const { return fresh_allocations_; }
  int64_t fresh_bytes() const { return fresh_bytes_; }

 private:
  struct Entry {
    Tensor tensor;
    bool idle = false;  // was already free at the previous EndRun
  };
  std::vector<Entry> free_;
  int64_t fresh_allocations_ = 0;
  int64_t fresh_bytes_ = 0;
};

}  // namespace onyx
