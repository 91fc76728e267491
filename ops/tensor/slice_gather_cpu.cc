// Slice (attribute form 1; input form 10, 11, 13) and Gather (1, 11, 13) for
// every dtype. Slice is one strided copy (negative strides for negative steps);
// Gather copies contiguous inner blocks per index.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

class SliceKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<SliceKernel>();
    k->from_attrs_ = opset < 10;
    if (k->from_attrs_) {
      if (node.FindAttribute("starts") == nullptr || node.FindAttribute("ends") == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: attributes starts and ends are required", node.Describe()));
      }
      ONYX_ASSIGN_OR_RETURN(k->starts_, node.GetInts("starts", {}));
      ONYX_ASSIGN_OR_RETURN(k->ends_, node.GetInts("ends", {}));
      ONYX_ASSIGN_OR_RETURN(k->axes_, node.GetInts("axes", {}));
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    if (!from_attrs_) {
      ONYX_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
      ONYX_ASSIGN_OR_RETURN(const Tensor* e, ctx.RequiredInput(2));
      ONYX_ASSIGN_OR_RETURN(starts, ReadInts(node, *s, "input starts"));
      ONYX_ASSIGN_OR_RETURN(ends, ReadInts(node, *e, "input ends"));
      if (ctx.input(3) != nullptr) {
        ONYX_ASSIGN_OR_RETURN(axes, ReadInts(node, *ctx.input(3), "input axes"));
      }
      if (ctx.input(4) != nullptr) {
        ONYX_ASSIGN_OR_RETURN(steps, ReadInts(node, *ctx.input(4), "input steps"));
      }
    }
    const int rank = x->rank();
    if (axes.empty()) {
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    }
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: starts, ends, axes and steps have %d, %d, %d and %d entries (must be equal)",
          node.Describe(), starts.size(), ends.size(), axes.size(), steps.size()));
    }
    ONYX_ASSIGN_OR_RETURN(std::vector<int> norm_axes, NormalizeAxes(node, axes, rank));
    const std::vector<int64_t> in_strides = ContiguousStrides(x->shape());
    Shape out = x->shape();
    std::vector<int64_t> src_strides = in_strides;
    int64_t base = 0;
    for (size_t i = 0; i < norm_axes.size(); ++i) {
      const int a = norm_axes[i];
      const int64_t dim = x->dim(a), step = steps[i];
      if (step == 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: step for axis %d is 0", node.Describe(), a));
      }
      // Negative starts/ends count from the end, then clamp: [0, dim] for
      // positive steps, [0, dim-1] (start) and [-1, dim-1] (end) for negative.
      int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
      int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
      int64_t count;
      if (dim == 0) {
        count = 0;
      } else if (step > 0) {
        start = std::clamp<int64_t>(start, 0, dim);
        end = std::clamp<int64_t>(end, 0, dim);
        count = end > start ? (end - start - 1) / step + 1 : 0;
      } else {
        start = std::clamp<int64_t>(start, 0, dim - 1);
        end = std::clamp<int64_t>(end, -1, dim - 1);
        // step may be INT64_MIN: compare before negating.
        count =
            start > end
                ? (step == std::numeric_limits<int64_t>::min() ? 1 : (start - end - 1) / -step + 1)
                : 0;
      }
      out[a] = count;
      if (count > 0) {
        base += start * in_strides[a];
        // A single element ignores the step (and so cannot overflow with it).
        src_strides[a] = count > 1 ? in_strides[a] * step : 0;
      }
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const size_t es = DataTypeSize(x->dtype());
    StridedCopy(es, out, static_cast<const char*>(x->raw_data()) + base * es, src_strides,
                y->raw_data(), ContiguousStrides(out));
    return absl::OkStatus();
  }

 private:
  bool from_attrs_ = false;
  std::vector<int64_t> starts_, ends_, axes_;
};

// Gather-1, 11, 13: y[o, j..., i] = x[o, idx[j...], i] along `axis`;
// negative indices count from the end of the axis.
class GatherKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<GatherKernel>();
    ONYX_ASSIGN_OR_RETURN(k->axis_, node.GetInt("axis", 0));
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* idx, ctx.RequiredInput(1));
    if (x->rank() == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input data must have rank >= 1", node.Describe()));
    }
    ONYX_ASSIGN_OR_RETURN(int axis, NormalizeAxis(axis_, x->rank()));
    const int64_t dim = x->dim(axis);
    const int64_t n = idx->num_elements();
    std::vector<int64_t> indices(n);
    if (idx->dtype() == DataType::kInt64) {
      std::copy_n(idx->data<int64_t>(), n, indices.begin());
    } else if (idx->dtype() == DataType::kInt32) {
      std::copy_n(idx->data<int32_t>(), n, indices.begin());
    } else {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: indices must be int32 or int64, got %s", node.Describe(), idx->DebugString()));
    }
    for (int64_t j = 0; j < n; ++j) {
      const int64_t v = indices[j];
      if (v < -dim || v >= dim) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: index %d (at flat position %d) is out of range for axis %d of size %d",
            node.Describe(), v, j, axis, dim));
      }
      if (v < 0) indices[j] = v + dim;
    }
    Shape out(x->shape().begin(), x->shape().begin() + axis);
    out.insert(out.end(), idx->shape().begin(), idx->shape().end());
    out.insert(out.end(), x->shape().begin() + axis + 1, x->shape().end());
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const int64_t es = static_cast<int64_t>(DataTypeSize(x->dtype()));
    const int64_t outer = NumElements(absl::MakeConstSpan(x->shape()).subspan(0, axis));
    const int64_t block = NumElements(absl::MakeConstSpan(x->shape()).subspan(axis + 1)) * es;
    const char* src = static_cast<const char*>(x->raw_data());
    char* dst = static_cast<char*>(y->raw_data());
    const int64_t total = outer * n;
#pragma omp parallel for schedule(static) if (total * block >= (int64_t{1} << 20))
    for (int64_t t = 0; t < total; ++t) {
      const int64_t o = t / n, j = t % n;
      std::memcpy(dst + t * block, src + (o * dim + indices[j]) * block, block);
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = 0;
};

}  // namespace

void RegisterSliceGatherOps(OpRegistry& registry) {
  RegisterCpu(registry, "Slice", {1, 10, 11, 13}, &SliceKernel::Create);
  RegisterCpu(registry, "Gather", {1, 11, 13}, &GatherKernel::Create);
}

}  // namespace onyx::tensor
