// Pad-2 (pads/value attributes); 11, 13 (pads and constant_value inputs); 18
// (axes input); 19 (wrap mode); 21. Modes constant, reflect, edge, wrap; negative
// pads crop. Every output coordinate maps per axis to a source coordinate (or
// to "pad value"), so all modes and all dtypes share one byte-level loop.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Source coordinate for output coordinate o of an axis of size `dim` padded by
// `before` (may be negative: crop); -1 means the pad value.
int64_t SourceIndex(PadMode mode, int64_t o, int64_t before, int64_t dim) {
  const int64_t j = o - before;
  if (j >= 0 && j < dim) return j;
  switch (mode) {
    case PadMode::kConstant:
      return -1;
    case PadMode::kEdge:
      return j < 0 ? 0 : dim - 1;
    case PadMode::kWrap:
      return ((j % dim) + dim) % dim;
    case PadMode::kReflect: {
      // Reflection without repeating the edge has period 2 * (dim - 1).
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      const int64_t m = ((j % period) + period) % period;
      return m < dim ? m : period - m;
    }
  }
  return -1;
}

class PadKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<PadKernel>();
    k->opset_ = opset;
    ONYX_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "constant"));
    if (mode == "constant") {
      k->mode_ = PadMode::kConstant;
    } else if (mode == "reflect") {
      k->mode_ = PadMode::kReflect;
    } else if (mode == "edge") {
      k->mode_ = PadMode::kEdge;
    } else if (mode == "wrap" && opset >= 19) {
      k->mode_ = PadMode::kWrap;
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: unknown mode \"%s\" for opset %d", node.Describe(), mode, opset));
    }
    if (opset < 11) {
      ONYX_ASSIGN_OR_RETURN(k->attr_pads_, node.GetInts("pads", {}));
      ONYX_ASSIGN_OR_RETURN(float value, node.GetFloat("value", 0.f));
      k->attr_value_ = value;
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = x->rank();
    const size_t es = DataTypeSize(x->dtype());
    std::vector<int64_t> pads = attr_pads_;
    std::vector<char> value(es, 0);
    std::vector<int> axes;
    if (opset_ < 11) {
      StoreScalar(x->dtype(), attr_value_, value.data());
    } else {
      ONYX_ASSIGN_OR_RETURN(const Tensor* p, ctx.RequiredInput(1));
      ONYX_ASSIGN_OR_RETURN(pads, ReadInts(node, *p, "input pads"));
      const Tensor* v = ctx.input(2);
      if (v != nullptr && v->num_elements() > 0) {
        if (v->dtype() != x->dtype()) {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: constant_value is %s but data is %s", node.Describe(),
                              v->DebugString(), x->DebugString()));
        }
        std::memcpy(value.data(), v->raw_data(), es);
      }
      if (opset_ >= 18 && ctx.input(3) != nullptr) {
        ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> raw,
                              ReadInts(node, *ctx.input(3), "input axes"));
        ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, raw, rank));
      }
    }
    if (axes.empty() && pads.size() == 2 * static_cast<size_t>(rank)) {
      for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    if (pads.size() != 2 * axes.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: pads [%s] must have 2 entries per padded axis (input %s)",
                          node.Describe(), absl::StrJoin(pads, ","), x->DebugString()));
    }
    std::vector<int64_t> before(rank, 0), after(rank, 0);
    const size_t k = axes.size();
    for (size_t i = 0; i < k; ++i) {
      before[axes[i]] = pads[i];
      after[axes[i]] = pads[i + k];
    }
    Shape out(rank);
    for (int a = 0; a < rank; ++a) {
      const int64_t dim = x->dim(a);
      if (__builtin_add_overflow(dim, before[a], &out[a]) ||
          __builtin_add_overflow(out[a], after[a], &out[a]) || out[a] < 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: pads [%s] give a negative or overflowing dim for input %s",
                            node.Describe(), absl::StrJoin(pads, ","), x->DebugString()));
      }
      if (mode_ != PadMode::kConstant && dim == 0 && out[a] > 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: cannot pad the empty axis %d of %s in a non-constant mode",
                            node.Describe(), a, x->DebugString()));
      }
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    if (rank == 0) {
      std::memcpy(y->raw_data(), x->raw_data(), es);
      return absl::OkStatus();
    }
    // Per-axis coordinate maps.
    std::vector<std::vector<int64_t>> maps(rank);
    for (int a = 0; a < rank; ++a) {
      maps[a].resize(out[a]);
      for (int64_t o = 0; o < out[a]; ++o) {
        maps[a][o] = SourceIndex(mode_, o, before[a], x->dim(a));
      }
    }
    const std::vector<int64_t> strides = ContiguousStrides(x->shape());
    const int64_t inner = out.back();
    const int64_t rows = y->num_elements() / inner;
    const std::vector<int64_t>& last = maps.back();
    // Output positions [lo, hi) of the last axis read x contiguously.
    const int64_t lo = std::clamp<int64_t>(before.back(), 0, inner);
    const int64_t hi = std::clamp<int64_t>(before.back() + x->dim(rank - 1), lo, inner);
    const char* src = static_cast<const char*>(x->raw_data());
    char* dst = static_cast<char*>(y->raw_data());
#pragma omp parallel for schedule(static) if (y->byte_size() >= (size_t{1} << 20))
    for (int64_t row = 0; row < rows; ++row) {
      char* yr = dst + row * inner * es;
      int64_t base = 0, rest = row;
      bool padded = false;
      for (int a = rank - 2; a >= 0; --a) {
        const int64_t m = maps[a][rest % out[a]];
        rest /= out[a];
        if (m < 0) padded = true;
        base += m * strides[a];
      }
      if (padded) {
        FillElements(es, value.data(), inner, yr);
        continue;
      }
      const char* xr = src + base * es;
      for (int64_t i = 0; i < lo; ++i) {
        std::memcpy(yr + i * es, last[i] < 0 ? value.data() : xr + last[i] * es, es);
      }
      if (hi > lo) std::memcpy(yr + lo * es, xr + last[lo] * es, (hi - lo) * es);
      for (int64_t i = hi; i < inner; ++i) {
        std::memcpy(yr + i * es, last[i] < 0 ? value.data() : xr + last[i] * es, es);
      }
    }
    return absl::OkStatus();
  }

 private:
  int64_t opset_ = 0;
  PadMode mode_ = PadMode::kConstant;
  std::vector<int64_t> attr_pads_;
  double attr_value_ = 0;
};

}  // namespace

void RegisterPadOps(OpRegistry& registry) {
  RegisterCpu(registry, "Pad", {2, 11, 13, 18, 19, 21}, &PadKernel::Create);
}

}  // namespace onyx::tensor
