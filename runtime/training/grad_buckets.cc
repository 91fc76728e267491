// Gradient bucket planning and the reducer that overlaps allreduce with backward.
#include "runtime/training/grad_buckets.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_format.h"

namespace onyx {

std::vector<GradBucket> PlanGradBuckets(absl::Span<const int> ready_order,
                                        absl::Span<const int64_t> elements,
                                        int64_t bucket_bytes) {
  std::vector<GradBucket> buckets;
  for (int p : ready_order) {
    const int64_t bytes = elements[p] * static_cast<int64_t>(sizeof(float));
    if (buckets.empty() ||
        (bucket_bytes > 0 && !buckets.back().params.empty() &&
         buckets.back().elements * static_cast<int64_t>(sizeof(float)) + bytes > bucket_bytes)) {
      buckets.emplace_back();
    }
    GradBucket& b = buckets.back();
    b.params.push_back(p);
    b.offsets.push_back(b.elements);
    b.elements += elements[p];
  }
  return buckets;
}

std::vector<int> GradReadyOrder(const Session& session,
                                const std::vector<std::string>& grad_names) {
  const Graph& graph = session.graph();
  absl::flat_hash_map<std::string, int64_t> written_at;  // value -> step of its producer
  const std::vector<int>& order = session.order();
  for (size_t s = 0; s < order.size(); ++s) {
    for (const std::string& out : graph.nodes[order[s]].outputs) {
      if (!out.empty()) written_at[out] = static_cast<int64_t>(s);
    }
  }
  std::vector<int64_t> ready(grad_names.size());
  for (size_t p = 0; p < grad_names.size(); ++p) {
    auto it = written_at.find(grad_names[p]);
    ready[p] = it == written_at.end() ? static_cast<int64_t>(order.size()) : it->second;
  }
  std::vector<int> params(grad_names.size());
  std::iota(params.begin(), params.end(), 0);
  std::stable_sort(params.begin(), params.end(),
                   [&](int a, int b) { return ready[a] < ready[b]; });
  return params;
}

GradBucketReducer::GradBucketReducer(const Session& session,
                                     const std::vector<std::string>& grad_names,
                                     std::vector<int64_t> elements, int64_t bucket_bytes,
                                     Communicator& comm)
    : comm_(comm), elements_(std::move(elements)) {
  buckets_ = PlanGradBuckets(GradReadyOrder(session, grad_names), elements_, bucket_bytes);
  // A single bucket is complete only about when backward ends, and a blocking
  // allreduce has less latency for it than a non-blocking one (measured with
  // Open MPI: BENCHMARKS.md), so only several buckets go non-blocking.
  overlap_ = buckets_.size() > 1;
  bucket_of_.resize(elements_.size());
  offset_of_.resize(elements_.size());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    buffers_.emplace_back(buckets_[b].elements, 0.f);
    for (size_t i = 0; i < buckets_[b].params.size(); ++i) {
      bucket_of_[buckets_[b].params[i]] = static_cast<int>(b);
      offset_of_[buckets_[b].params[i]] = buckets_[b].offsets[i];
    }
  }
  absl::flat_hash_map<std::string, std::vector<int>> params_of;  // one gradient may serve several
  for (size_t p = 0; p < grad_names.size(); ++p) params_of[grad_names[p]].push_back(p);
  for (const Node& node : session.graph().nodes) {
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      auto it = params_of.find(node.outputs[o]);
      if (it == params_of.end() || node.outputs[o].empty()) continue;
      for (int p : it->second) writes_[&node].emplace_back(static_cast<int>(o), p);
    }
  }
  pending_.resize(buckets_.size());
  packed_.assign(elements_.size(), false);
}

int64_t GradBucketReducer::bytes_per_step() const {
  return std::accumulate(elements_.begin(), elements_.end(), int64_t{0}) *
         static_cast<int64_t>(sizeof(float));
}

void GradBucketReducer::Fail(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

void GradBucketReducer::BeginMicroBatch(float weight, bool first, bool last) {
  weight_ = weight;
  first_ = first;
  last_ = last;
  packed_.assign(elements_.size(), false);
  unpacked_in_bucket_.clear();
  for (const GradBucket& b : buckets_) {
    unpacked_in_bucket_.push_back(static_cast<int>(b.params.size()));
  }
  next_launch_ = first_unfinished_ = 0;
}

void GradBucketReducer::Add(int p, const Tensor& grad) {
  if (grad.dtype() != DataType::kFloat32 || grad.num_elements() != elements_[p] ||
      grad.on_device()) {
    Fail(absl::InternalError(absl::StrFormat(
        "gradient %d is %s, expected %d float32 values on the host", p, grad.DebugString(),
        elements_[p])));
    ZeroIfFirst(p);
    return;
  }
  float* dst = buffers_[bucket_of_[p]].data() + offset_of_[p];
  const float* g = grad.data<float>();
  const float w = weight_;
  const int64_t n = elements_[p];
  if (first_) {
    for (int64_t i = 0; i < n; ++i) dst[i] = g[i] * w;
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] += g[i] * w;
  }
  Packed(p);
}

void GradBucketReducer::ZeroIfFirst(int p) {
  if (first_) {
    float* dst = buffers_[bucket_of_[p]].data() + offset_of_[p];
    std::fill(dst, dst + elements_[p], 0.f);
  }
  Packed(p);
}

void GradBucketReducer::Packed(int p) {
  packed_[p] = true;
  --unpacked_in_bucket_[bucket_of_[p]];
  if (last_ && overlap_) LaunchReady();
}

void GradBucketReducer::LaunchReady() {
  // In bucket order only, so every process issues the same sequence of collectives.
  while (next_launch_ < buckets_.size() && unpacked_in_bucket_[next_launch_] == 0) {
    auto started = comm_.StartAllReduceSum(absl::MakeSpan(buffers_[next_launch_]));
    if (started.ok()) {
      pending_[next_launch_] = *std::move(started);
    } else {
      Fail(started.status());
    }
    ++next_launch_;
  }
}

void GradBucketReducer::OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
                               absl::Span<const Tensor> outputs,
                               std::chrono::steady_clock::time_point start,
                               std::chrono::steady_clock::time_point end) {
  auto it = writes_.find(&node);
  if (it != writes_.end()) {
    for (const auto& [output, p] : it->second) {
      // Device tensors are left to EndMicroBatch, which gets them on the host.
      if (!packed_[p] && !outputs[output].on_device()) Add(p, outputs[output]);
    }
  }
  // Let the reductions in flight progress while backward goes on.
  while (first_unfinished_ < next_launch_) {
    PendingReduction* pending = pending_[first_unfinished_].get();
    if (pending != nullptr) {
      auto done = pending->Test();
      if (!done.ok()) {
        Fail(done.status());
      } else if (!*done) {
        break;
      }
    }
    ++first_unfinished_;
  }
}

absl::Status GradBucketReducer::EndMicroBatch(absl::Span<const Tensor> grads) {
  for (size_t p = 0; p < elements_.size(); ++p) {
    if (packed_[p]) continue;
    if (grads.empty()) {
      ZeroIfFirst(static_cast<int>(p));
    } else {
      Add(static_cast<int>(p), grads[p]);
    }
  }
  if (last_ && !overlap_) {
    if (absl::Status s = comm_.AllReduceSum(absl::MakeSpan(buffers_[0])); !s.ok()) Fail(s);
  } else if (last_) {
    LaunchReady();
    for (std::unique_ptr<PendingReduction>& pending : pending_) {
      if (pending != nullptr) {
        if (absl::Status s = pending->Wait(); !s.ok()) Fail(s);
      }
      pending.reset();
    }
  }
  absl::Status status = std::move(status_);
  status_ = absl::OkStatus();
  return status;
}

void GradBucketReducer::CopyGradient(int p, Tensor& out) const {
  std::memcpy(out.raw_data(), buffers_[bucket_of_[p]].data() + offset_of_[p],
              elements_[p] * sizeof(float));
}

}  // namespace onyx
