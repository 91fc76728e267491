// Concat and Split along one axis, for every dtype: each operand is viewed as
// [outer, n_k * inner] and moved with the byte-level strided copy.
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Concat-1 (axis default 1), 4 (axis required), 11 (negative axis), 13.
class ConcatKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<ConcatKernel>();
    ONYX_ASSIGN_OR_RETURN(k->axis_, ConcatAxisAttribute(node, opset));
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const std::vector<const Tensor*> xs, ConcatInputs(ctx));
    const Tensor& first = *xs[0];
    int axis = 0;
    ONYX_ASSIGN_OR_RETURN(const Shape out, ConcatOutputShape(node, xs, axis_, &axis));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, first.dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const size_t es = DataTypeSize(first.dtype());
    return ForEachConcatBand(xs, out, axis,
                             [&](const Tensor& x, absl::Span<const int64_t> dims,
                                 absl::Span<const int64_t> src_strides,
                                 absl::Span<const int64_t> dst_strides, int64_t offset) {
                               StridedCopy(es, dims, x.raw_data(), src_strides,
                                           static_cast<char*>(y->raw_data()) + offset * es,
                                           dst_strides);
                               return absl::OkStatus();
                             });
  }

 private:
  int64_t axis_ = 1;
};

// Split-2, 11 (split attribute), 13 (split input), 18 (num_outputs: chunks of
// ceil(dim / n), the last one smaller).
class SplitKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<SplitKernel>();
    k->opset_ = opset;
    ONYX_ASSIGN_OR_RETURN(k->axis_, node.GetInt("axis", 0));
    if (opset < 13 && node.FindAttribute("split") != nullptr) {
      ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> split, node.GetInts("split", {}));
      k->attr_split_ = std::move(split);
    }
    if (opset >= 18 && node.FindAttribute("num_outputs") != nullptr) {
      ONYX_ASSIGN_OR_RETURN(int64_t n, node.GetInt("num_outputs", 0));
      if (n < 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: num_outputs must be >= 1, got %d", node.Describe(), n));
      }
      k->num_outputs_ = n;
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    // Fuzz finding: NormalizeAxis accepts axis 0 for rank 0, and dim(0) of a
    // scalar read past its (empty) shape.
    if (x->rank() == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input must have rank >= 1, got a scalar", node.Describe()));
    }
    ONYX_ASSIGN_OR_RETURN(int axis, NormalizeAxis(axis_, x->rank()));
    const int64_t dim = x->dim(axis);
    const int n = ctx.num_outputs();
    std::vector<int64_t> sizes;
    bool have_split = attr_split_.has_value();
    if (have_split) sizes = *attr_split_;
    if (opset_ >= 13 && ctx.input(1) != nullptr) {
      ONYX_ASSIGN_OR_RETURN(sizes, ReadInts(node, *ctx.input(1), "input split"));
      have_split = true;
    }
    if (have_split) {
      int64_t sum = 0;
      bool ok = static_cast<int>(sizes.size()) == n;
      for (int64_t s : sizes) ok = ok && s >= 0 && !__builtin_add_overflow(sum, s, &sum);
      if (!ok || sum != dim) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: split [%s] must have %d non-negative entries summing to %d (axis %d of %s)",
            node.Describe(), absl::StrJoin(sizes, ","), n, dim, axis, x->DebugString()));
      }
    } else if (num_outputs_) {
      if (*num_outputs_ != n) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: num_outputs is %d but the node has %d outputs", node.Describe(),
                            *num_outputs_, n));
      }
      const int64_t chunk = (dim + n - 1) / n;
      sizes.assign(n, chunk);
      sizes.back() = dim - chunk * (n - 1);
      if (sizes.back() < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: cannot split a dim of %d into %d outputs of %d", node.Describe(), dim, n, chunk));
      }
    } else {
      if (dim % n != 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: axis %d of %s does not split evenly into %d outputs",
                            node.Describe(), axis, x->DebugString(), n));
      }
      sizes.assign(n, dim / n);
    }
    const size_t es = DataTypeSize(x->dtype());
    const int64_t outer = NumElements(absl::MakeConstSpan(x->shape()).subspan(0, axis));
    const int64_t inner = NumElements(absl::MakeConstSpan(x->shape()).subspan(axis + 1));
    int64_t offset = 0;
    for (int k = 0; k < n; ++k) {
      const int64_t row = sizes[k] * inner;
      if (ctx.wants_output(k)) {
        Shape out = x->shape();
        out[axis] = sizes[k];
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(k, x->dtype(), out));
        const int64_t dims[2] = {outer, row};
        const int64_t src_strides[2] = {dim * inner, 1};
        const int64_t dst_strides[2] = {row, 1};
        if (y->num_elements() > 0) {
          StridedCopy(es, dims, static_cast<const char*>(x->raw_data()) + offset * es, src_strides,
                      y->raw_data(), dst_strides);
        }
      }
      offset += row;
    }
    return absl::OkStatus();
  }

 private:
  int64_t opset_ = 0;
  int64_t axis_ = 0;
  std::optional<std::vector<int64_t>> attr_split_;
  std::optional<int64_t> num_outputs_;
};

}  // namespace

void RegisterConcatSplitOps(OpRegistry& registry) {
  RegisterCpu(registry, "Concat", {1, 4, 11, 13}, &ConcatKernel::Create);
  RegisterCpu(registry, "Split", {2, 11, 13, 18}, &SplitKernel::Create);
}

}  // namespace onyx::tensor
