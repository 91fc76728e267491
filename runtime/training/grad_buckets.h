// Gradient buckets for data-parallel training: the parameters are grouped into
// buckets in the order backward finishes their gradients, and each bucket's
// allreduce starts as soon as its last gradient is written, while the rest of
// backward still runs (as PyTorch DDP does).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "runtime/distributed/communicator.h"
#include "runtime/session.h"

namespace onyx {

struct GradBucket {
  std::vector<int> params;       // parameter indices, in packing order
  std::vector<int64_t> offsets;  // per entry of `params`: its first element in the bucket
  int64_t elements = 0;          // float32 elements in all
};

// Groups float32 parameters (`elements[p]` each), taken in `ready_order`, into
// consecutive buckets of at most `bucket_bytes`: a bucket is closed when the next
// parameter would not fit, so only a parameter larger than the cap on its own
// makes a bigger bucket. bucket_bytes <= 0: a single bucket.
std::vector<GradBucket> PlanGradBuckets(absl::Span<const int> ready_order,
                                        absl::Span<const int64_t> elements,
                                        int64_t bucket_bytes);

// Parameter indices in the order `session` finishes their gradients
// (`grad_names[p]`): by the position, in the session's execution order, of the
// node that writes each gradient (values have one producer, so that node's end
// is when the gradient is final). Gradients no node writes come last; ties keep
// index order.
std::vector<int> GradReadyOrder(const Session& session,
                                const std::vector<std::string>& grad_names);

// Sums one optimizer step's gradients over the communicator's processes. As the
// session's observer it adds each micro-batch's weighted gradients into the
// bucket buffers the moment backward writes them; on the step's last micro-batch
// a bucket's allreduce starts as soon as it is complete (always in bucket order,
// the same on every process) and is polled after every later node. Micro-batches
// before the last are only summed locally: reducing the sum once per step gives
// the same result as reducing each micro-batch (summation is linear) with a
// fraction of the traffic. A plan of one bucket (bucket_bytes <= 0, or all the
// gradients fit) is reduced by one blocking allreduce after backward instead.
class GradBucketReducer : public RunObserver {
 public:
  // `grad_names[p]` is parameter p's gradient in `session`'s graph, which holds
  // `elements[p]` float32 values. `session` and `comm` must outlive this.
  GradBucketReducer(const Session& session, const std::vector<std::string>& grad_names,
                    std::vector<int64_t> elements, int64_t bucket_bytes, Communicator& comm);

  // Before a micro-batch: its gradients count `weight` times; `first` starts a
  // new step's sums, `last` reduces them over the processes.
  void BeginMicroBatch(float weight, bool first, bool last);
  void OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
              absl::Span<const Tensor> outputs, std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end) override;
  // After the micro-batch: adds the gradients the observer did not see from
  // `grads` (per parameter; empty when this process had no rows, which counts as
  // zero), and on the last micro-batch starts the remaining reductions and waits
  // for all of them.
  absl::Status EndMicroBatch(absl::Span<const Tensor> grads);

  // Parameter p's gradient summed over the step and the processes (after the
  // last micro-batch's EndMicroBatch), copied into `out` (shaped like p).
  void CopyGradient(int p, Tensor& out) const;

  const std::vector<GradBucket>& buckets() const { return buckets_; }
  // Whether reductions start during backward (the plan has several buckets).
  bool overlapped() const { return overlap_; }
  // Gradient bytes each process sends into allreduces per optimizer step.
  int64_t bytes_per_step() const;

 private:
  void Add(int p, const Tensor& grad);
  void ZeroIfFirst(int p);
  void Packed(int p);
  void LaunchReady();
  void Fail(absl::Status status);

  Communicator& comm_;
  std::vector<int64_t> elements_;
  bool overlap_ = false;
  std::vector<GradBucket> buckets_;
  std::vector<std::vector<float>> buffers_;   // per bucket
  std::vector<int> bucket_of_;                // per parameter
  std::vector<int64_t> offset_of_;            // per parameter, within its bucket
  // Per node of the session's graph that writes gradients: (output, parameter).
  absl::flat_hash_map<const Node*, std::vector<std::pair<int, int>>> writes_;
  // Micro-batch state.
  float weight_ = 1.f;
  bool first_ = true, last_ = true;
  std::vector<bool> packed_;                  // per parameter
  std::vector<int> unpacked_in_bucket_;
  size_t next_launch_ = 0, first_unfinished_ = 0;
  std::vector<std::unique_ptr<PendingReduction>> pending_;  // per bucket
  absl::Status status_;
};

}  // namespace onyx
