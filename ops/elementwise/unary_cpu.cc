// Unary elementwise ops (Sqrt Exp Log Neg Abs Erf Reciprocal Sign Floor Ceil
// Round Sin Cos Softsign) and their backward ops <Op>Grad (com.onyx). float32
// Sqrt and Abs run on oneDNN eltwise (exact); everything else is a functor loop
// from unary_math.h, because oneDNN 2.6 gets the rest wrong on this machine
// (tests/unit/elementwise checks ±0, ±inf, NaN): exp(NaN) = inf, log is off by
// ~10 ulp (2.9e-6 at log(10)), linear(-1) turns -x of +0 into +0, not -0.
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/elementwise/elementwise_util.h"
#include "ops/elementwise/unary_math.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

constexpr int64_t kParallelMinElements = int64_t{1} << 15;

struct DnnlAlg {
  dnnl::algorithm alg;
  float alpha = 0.f;
  float beta = 0.f;
};

template <typename Fn>
std::optional<DnnlAlg> DnnlFor() {
  using dnnl::algorithm;
  if constexpr (std::is_same_v<Fn, SqrtFn>) return DnnlAlg{algorithm::eltwise_sqrt};
  if constexpr (std::is_same_v<Fn, AbsFn>) return DnnlAlg{algorithm::eltwise_abs};
  return std::nullopt;
}

template <typename Fn, typename T>
void ForwardEach(const T* x, T* y, int64_t n) {
  const Fn fn;
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) y[i] = fn.template Forward<T>(x[i]);
}

template <typename Fn>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(int64_t opset) : opset_(opset) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const bool ok_type = x->dtype() == DataType::kFloat32 || x->dtype() == DataType::kFloat64 ||
                         (Fn::kInts && x->dtype() != DataType::kBool);
    if (!ok_type) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s (opset %d): no CPU kernel for input dtype %s", node.Describe(), opset_,
          DataTypeName(x->dtype())));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    const int64_t n = x->num_elements();
    if (n == 0) return absl::OkStatus();
    if (x->dtype() == DataType::kFloat32 && kDnnl.has_value()) return RunDnnl(node, *x, *y);
    return DispatchNumeric(node, x->dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      if constexpr (Fn::kInts || std::is_floating_point_v<T>) {
        ForwardEach<Fn, T>(x->data<T>(), y->data<T>(), n);
      }
      return absl::OkStatus();
    });
  }

 private:
  static inline const std::optional<DnnlAlg> kDnnl = DnnlFor<Fn>();

  // Any rank is one flat 1-D buffer to eltwise; the primitive is cached per size.
  absl::Status RunDnnl(const Node& node, const Tensor& x, Tensor& y) {
    const int64_t n = x.num_elements();
    try {
      if (n != cached_n_) {
        desc_ = dnnl::memory::desc({n}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::a);
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, kDnnl->alg, desc_,
                                      kDnnl->alpha, kDnnl->beta);
        prim_ = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, CpuEngine()));
        cached_n_ = n;
      }
      dnnl::memory src(desc_, CpuEngine(), const_cast<void*>(x.raw_data()));
      dnnl::memory dst(desc_, CpuEngine(), y.raw_data());
      prim_.execute(CpuStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      cached_n_ = -1;
      return DnnlError(absl::StrFormat("%s eltwise forward", node.Describe()), e);
    }
    return absl::OkStatus();
  }

  int64_t opset_;
  int64_t cached_n_ = -1;
  dnnl::memory::desc desc_;
  dnnl::eltwise_forward prim_;
};

// <Op>Grad(dY, S) -> dX with S = X or Y as Fn::kSaved says; float32/float64.
template <typename Fn>
class UnaryGradKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
    if (dy->dtype() != s->dtype() || dy->shape() != s->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s and %s %s must have the same dtype and shape", node.Describe(),
          dy->DebugString(), Fn::kSaved == Saved::kOutput ? "Y" : "X", s->DebugString()));
    }
    return DispatchFloat(node, dy->dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      ONYX_ASSIGN_OR_RETURN(Tensor * dx,
                            ctx.AllocateOutputMaybeInPlace(0, 0, dy->dtype(), dy->shape()));
      const T* dyp = dy->data<T>();
      const T* sp = s->data<T>();
      T* dxp = dx->data<T>();
      const int64_t n = dy->num_elements();
      const Fn fn;
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
      for (int64_t i = 0; i < n; ++i) dxp[i] = fn.template Backward<T>(dyp[i], sp[i]);
      return absl::OkStatus();
    });
  }
};

template <typename Fn>
KernelFactory Forward() {
  return [](const Node&, int64_t opset) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<UnaryKernel<Fn>>(opset);
  };
}

template <typename Fn>
KernelFactory Backward() {
  return [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<UnaryGradKernel<Fn>>();
  };
}

}  // namespace

void RegisterUnaryOps(OpRegistry& registry) {
  RegisterCpu(registry, "Sqrt", {6, 13}, Forward<SqrtFn>());
  RegisterCpu(registry, "Exp", {6, 13}, Forward<ExpFn>());
  RegisterCpu(registry, "Log", {6, 13}, Forward<LogFn>());
  RegisterCpu(registry, "Neg", {6, 13}, Forward<NegFn>());
  RegisterCpu(registry, "Abs", {6, 13}, Forward<AbsFn>());
  RegisterCpu(registry, "Erf", {9, 13}, Forward<ErfFn>());
  RegisterCpu(registry, "Reciprocal", {6, 13}, Forward<ReciprocalFn>());
  RegisterCpu(registry, "Sign", {9, 13}, Forward<SignFn>());
  RegisterCpu(registry, "Floor", {6, 13}, Forward<FloorFn>());
  RegisterCpu(registry, "Ceil", {6, 13}, Forward<CeilFn>());
  RegisterCpu(registry, "Round", {11, 22}, Forward<RoundFn>());
  RegisterCpu(registry, "Sin", {7, 22}, Forward<SinFn>());
  RegisterCpu(registry, "Cos", {7, 22}, Forward<CosFn>());
  RegisterCpu(registry, "Softsign", {1, 22}, Forward<SoftsignFn>());
}

void RegisterUnaryGradOps(OpRegistry& registry) {
  auto reg = [&](const char* op, KernelFactory f) {
    registry.Register(kOnyxDomain, op, 1, Device::kCpu, std::move(f));
  };
  reg("SqrtGrad", Backward<SqrtFn>());
  reg("ExpGrad", Backward<ExpFn>());
  reg("LogGrad", Backward<LogFn>());
  reg("AbsGrad", Backward<AbsFn>());
  reg("ErfGrad", Backward<ErfFn>());
  reg("ReciprocalGrad", Backward<ReciprocalFn>());
  reg("SignGrad", Backward<SignFn>());
  reg("FloorGrad", Backward<FloorFn>());
  reg("CeilGrad", Backward<CeilFn>());
  reg("RoundGrad", Backward<RoundFn>());
  reg("SinGrad", Backward<SinFn>());
  reg("CosGrad", Backward<CosFn>());
  reg("SoftsignGrad", Backward<SoftsignFn>());
}

}  // namespace onyx::elementwise
