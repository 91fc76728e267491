// Add, Sub, Mul, Div (opset 7, 13, 14) with bidirectional NumPy broadcasting:
// oneDNN binary for float32 when one operand broadcasts into the other's shape,
// a strided OpenMP loop (ops/math/broadcast.h) for everything else. Opset 1
// and 6 (attributes broadcast/axis) map onto the same kernel.
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ops/math/arith.h"
#include "ops/math/broadcast.h"
#include "ops/math/math_kernels.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

// y[i] = a[i*sa] op b[i*sb]; the common stride patterns get loops the compiler
// vectorizes. `y` may alias `a` or `b` at the same offsets (in-place).
template <BinaryOp kOp, typename T>
void BinaryRow(T* y, const T* a, int64_t sa, const T* b, int64_t sb, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) y[i] = Apply<kOp>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) y[i] = Apply<kOp>(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) y[i] = Apply<kOp>(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = Apply<kOp>(a[i * sa], b[i * sb]);
  }
}

template <BinaryOp kOp, typename T>
absl::Status BinaryLoop(const Node& node, const Tensor& a, const Tensor& b, Tensor& y) {
  if constexpr (kOp == BinaryOp::kDiv && std::is_integral_v<T>) {
    // Integer division by zero is undefined (SIGFPE on x86): refuse it up
    // front.
    const T* bp = b.data<T>();
    for (int64_t i = 0; i < b.num_elements(); ++i) {
      if (bp[i] == T(0)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: integer division by zero (input B has 0 at flat index %d)", node.Describe(), i));
      }
    }
  }
  const Shape& out = y.shape();
  const BroadcastLoop loop(out, {BroadcastStrides(out, out), BroadcastStrides(a.shape(), out),
                                 BroadcastStrides(b.shape(), out)});
  const T* ap = a.data<T>();
  const T* bp = b.data<T>();
  T* yp = y.data<T>();
  const int64_t sa = loop.inner_stride(1), sb = loop.inner_stride(2);
  ForEachBlock(loop, /*parallel=*/true, [&](const int64_t* off, int64_t n) {
    BinaryRow<kOp, T>(yp + off[0], ap + off[1], sa, bp + off[2], sb, n);
  });
  return absl::OkStatus();
}

template <BinaryOp kOp>
absl::Status BinaryLoopAnyType(const Node& node, int64_t opset, const Tensor& a, const Tensor& b,
                               Tensor& y) {
  switch (a.dtype()) {
    case DataType::kFloat32:
      return BinaryLoop<kOp, float>(node, a, b, y);
    case DataType::kFloat64:
      return BinaryLoop<kOp, double>(node, a, b, y);
    case DataType::kInt8:
      return BinaryLoop<kOp, int8_t>(node, a, b, y);
    case DataType::kInt16:
      return BinaryLoop<kOp, int16_t>(node, a, b, y);
    case DataType::kInt32:
      return BinaryLoop<kOp, int32_t>(node, a, b, y);
    case DataType::kInt64:
      return BinaryLoop<kOp, int64_t>(node, a, b, y);
    case DataType::kUInt8:
      return BinaryLoop<kOp, uint8_t>(node, a, b, y);
    case DataType::kUInt16:
      return BinaryLoop<kOp, uint16_t>(node, a, b, y);
    case DataType::kUInt32:
      return BinaryLoop<kOp, uint32_t>(node, a, b, y);
    case DataType::kUInt64:
      return BinaryLoop<kOp, uint64_t>(node, a, b, y);
    default:
      return absl::UnimplementedError(
          absl::StrFormat("%s: dtype %s is not supported on cpu (opset %d)", node.Describe(),
                          DataTypeName(a.dtype()), opset));
  }
}

dnnl::algorithm DnnlAlgorithm(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return dnnl::algorithm::binary_add;
    case BinaryOp::kSub:
      return dnnl::algorithm::binary_sub;
    case BinaryOp::kMul:
      return dnnl::algorithm::binary_mul;
    case BinaryOp::kDiv:
      return dnnl::algorithm::binary_div;
  }
  return dnnl::algorithm::binary_add;
}

// Below this many elements a same-shape float32 op runs serially (a residual
// Add of a [128, 256] activation: ~5 us).
constexpr int64_t kSerialMaxElements = int64_t{1} << 16;

template <BinaryOp kOp>
class BinaryKernel : public Kernel {
 public:
  explicit BinaryKernel(int64_t opset) : opset_(opset) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Shape out, SameDtypeBroadcastShape(node.Describe(), *a, *b));
    // oneDNN computes dst = src0 op src1 with src1 broadcast into src0's shape;
    // Add and Mul may swap their operands to get there.
    constexpr bool kCommutes = kOp == BinaryOp::kAdd || kOp == BinaryOp::kMul;
    int src0 = -1;
    if (a->dtype() == DataType::kFloat32 && NumElements(out) > 0 && out.size() <= DNNL_MAX_NDIMS) {
      if (a->shape() == out && BroadcastsInto(b->shape(), out)) {
        src0 = 0;
      } else if (kCommutes && b->shape() == out && BroadcastsInto(a->shape(), out)) {
        src0 = 1;
      }
    }
    const int in_place_from = src0 >= 0 ? src0 : (a->shape() == out ? 0 : 1);
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, in_place_from, a->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    if (src0 >= 0 && a->shape() == b->shape() && y->num_elements() < kSerialMaxElements) {
      // Same shapes, small: one plain loop on this thread. A oneDNN binary
      // opens a parallel region, and waking a sleeping worker (OMP_WAIT_POLICY
      // PASSIVE) costs more than the few microseconds this loop takes.
      BinaryRow<kOp, float>(y->data<float>(), a->data<float>(), 1, b->data<float>(), 1,
                            y->num_elements());
      return absl::OkStatus();
    }
    if (src0 >= 0) {
      const Tensor& s0 = src0 == 0 ? *a : *b;
      const Tensor& s1 = src0 == 0 ? *b : *a;
      ONYX_ASSIGN_OR_RETURN(const DnnlEntry* entry, GetDnnl(s0.shape(), s1.shape()));
      if (entry != nullptr) {
        try {
          entry->prim.execute(CpuStream(), {{DNNL_ARG_SRC_0, AsDnnlMemory(entry->src0, s0)},
                                            {DNNL_ARG_SRC_1, AsDnnlMemory(entry->src1, s1)},
                                            {DNNL_ARG_DST, AsDnnlMemory(entry->src0, *y)}});
          CpuStream().wait();
        } catch (const dnnl::error& e) {
          return DnnlError(node.Describe(), e);
        }
        return absl::OkStatus();
      }
    }
    return BinaryLoopAnyType<kOp>(node, opset_, *a, *b, *y);
  }

 private:
  struct DnnlEntry {
    dnnl::binary prim;
    dnnl::memory::desc src0, src1;
  };

  // The cached primitive for (src0, src1) shapes, or null when oneDNN would
  // only offer its slow reference implementation (the loop is faster then).
  absl::StatusOr<const DnnlEntry*> GetDnnl(const Shape& s0, const Shape& s1) {
    auto key = std::make_pair(s0, s1);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      std::unique_ptr<DnnlEntry> entry;
      try {
        Shape padded(s0.size() - s1.size(), 1);
        padded.insert(padded.end(), s1.begin(), s1.end());
        auto src0 = PlainDesc(s0), src1 = PlainDesc(padded);
        dnnl::binary::primitive_desc pd(dnnl::binary::desc(DnnlAlgorithm(kOp), src0, src1, src0),
                                        CpuEngine());
        if (!absl::StartsWith(pd.impl_info_str(), "ref")) {
          entry.reset(new DnnlEntry{dnnl::binary(pd), src0, src1});
        }
      } catch (const dnnl::error& e) {
        if (e.status != dnnl_unimplemented) return DnnlError("binary primitive creation", e);
      }
      it = cache_.emplace(std::move(key), std::move(entry)).first;
    }
    return it->second.get();
  }

  int64_t opset_;
  std::map<std::pair<Shape, Shape>, std::unique_ptr<DnnlEntry>> cache_;
};

// Opset 1 and 6: B broadcasts into A only with attribute broadcast = 1, its
// dims aligned with A's starting at `axis` (default: trailing), e.g. A
// [2,3,4,5] and B [3,4] with axis 1. B viewed with trailing 1s ([3,4,1]) then
// broadcasts the NumPy way, so the modern kernel does the work.
template <BinaryOp kOp>
class LegacyBinaryKernel : public Kernel {
 public:
  LegacyBinaryKernel(bool broadcast, std::optional<int64_t> axis)
      : broadcast_(broadcast), axis_(axis), modern_(6) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    Tensor b_view = *b;
    if (!broadcast_) {
      if (a->shape() != b->shape()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: A %s and B %s must have the same shape when broadcast = 0", node.Describe(),
            ShapeToString(a->shape()), ShapeToString(b->shape())));
      }
    } else {
      const int64_t ra = a->rank(), rb = b->rank();
      int64_t start = axis_.has_value() ? (*axis_ < 0 ? *axis_ + ra : *axis_) : ra - rb;
      bool fits = rb <= ra && start >= 0 && start + rb <= ra;
      for (int64_t i = 0; fits && i < rb; ++i) {
        fits = b->dim(i) == 1 || b->dim(i) == a->dim(start + i);
      }
      if (!fits && b->num_elements() != 1) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: B %s does not broadcast into A %s at axis %d", node.Describe(),
            ShapeToString(b->shape()), ShapeToString(a->shape()), start));
      }
      if (fits) {
        Shape view = b->shape();
        view.resize(ra - start, 1);
        ONYX_ASSIGN_OR_RETURN(b_view, b->Reshaped(view));
      }
    }
    const Tensor* inputs[2] = {a, &b_view};
    const bool dies[2] = {false, false};
    Tensor outputs[1];
    KernelContext inner(node, inputs, dies, outputs, ctx.max_tensor_bytes());
    ONYX_RETURN_IF_ERROR(modern_.Compute(inner));
    ctx.SetOutput(0, std::move(outputs[0]));
    return absl::OkStatus();
  }

 private:
  bool broadcast_;
  std::optional<int64_t> axis_;
  BinaryKernel<kOp> modern_;
};

template <BinaryOp kOp>
KernelFactory BinaryFactory() {
  return [](const Node& node, int64_t opset) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<BinaryKernel<kOp>>(opset);
  };
}

}  // namespace

template <BinaryOp kOp>
KernelFactory LegacyBinaryFactory() {
  return [](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    ONYX_ASSIGN_OR_RETURN(int64_t broadcast, node.GetInt("broadcast", 0));
    std::optional<int64_t> axis;
    if (node.FindAttribute("axis") != nullptr) {
      ONYX_ASSIGN_OR_RETURN(axis, node.GetInt("axis", 0));
    }
    return std::make_unique<LegacyBinaryKernel<kOp>>(broadcast != 0, axis);
  };
}

void RegisterBinaryOps(OpRegistry& registry) {
  for (int since : {1, 6}) {
    registry.Register(kOnnxDomain, "Add", since, Device::kCpu,
                      LegacyBinaryFactory<BinaryOp::kAdd>());
    registry.Register(kOnnxDomain, "Sub", since, Device::kCpu,
                      LegacyBinaryFactory<BinaryOp::kSub>());
    registry.Register(kOnnxDomain, "Mul", since, Device::kCpu,
                      LegacyBinaryFactory<BinaryOp::kMul>());
    registry.Register(kOnnxDomain, "Div", since, Device::kCpu,
                      LegacyBinaryFactory<BinaryOp::kDiv>());
  }
  for (int since : {7, 13, 14}) {
    registry.Register(kOnnxDomain, "Add", since, Device::kCpu, BinaryFactory<BinaryOp::kAdd>());
    registry.Register(kOnnxDomain, "Sub", since, Device::kCpu, BinaryFactory<BinaryOp::kSub>());
    registry.Register(kOnnxDomain, "Mul", since, Device::kCpu, BinaryFactory<BinaryOp::kMul>());
    registry.Register(kOnnxDomain, "Div", since, Device::kCpu, BinaryFactory<BinaryOp::kDiv>());
  }
}

}  // namespace onyx::math
