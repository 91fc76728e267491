// Table-driven CPU kernel for elementwise activations: each op maps to a chain of
// oneDNN eltwise primitives (float32), or to a functor loop (fast_loops.h: per-ISA,
// streaming stores) where that measured faster (Relu, LeakyRelu, Sigmoid, Tanh,
// Softplus, HardSwish with fast_functors.h's exp/log bodies, and the exp family of
// fast_exp_loops.h: Elu, Selu, Celu, Gelu-tanh, Mish, Swish, one pass instead of
// oneDNN's 1-3; an erfc-based Gelu loop measured 1.3x slower than oneDNN's gelu_erf)
// or where oneDNN 2.6 has no algorithm or gets NaN/precision wrong; float64 always
// loops.
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/activation/activation_cpu.h"
#include "ops/activation/activation_math.h"
#include "ops/activation/activation_table.h"
#include "ops/activation/fast_exp_loops.h"
#include "ops/activation/fast_functors.h"
#include "ops/activation/fast_loops.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

using dnnl::algorithm;

using fast::kParallelMinElements;

template <typename Fn, typename T>
void ForwardEach(const Fn& fn, const T* x, T* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) y[i] = fn.template Forward<T>(x[i]);
}

template <typename Fn, typename T>
void BackwardEach(const Fn& fn, const T* dy, const T* saved, T* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) dx[i] = fn.template Backward<T>(dy[i], saved[i]);
}

// `float_fn` computes the float32 forward (fast_loops.h: vectorized, streaming
// stores); `fn` everything else.
template <typename Fn, typename FloatFn>
EltwiseSpec Spec(Fn fn, FloatFn float_fn, std::vector<DnnlStep> steps,
                 std::optional<DnnlStep> backward = std::nullopt) {
  EltwiseSpec spec;
  spec.steps = std::move(steps);
  spec.float_loop = [float_fn](const float* x, float* y, int64_t n) {
    fast::ForwardFloat(float_fn, x, y, n);
  };
  spec.double_loop = [fn](const double* x, double* y, int64_t n) { ForwardEach(fn, x, y, n); };
  spec.saves_output = Fn::kSaved == Saved::kOutput;
  spec.backward_step = backward;
  spec.float_backward = [fn](const float* dy, const float* saved, float* dx, int64_t n) {
    BackwardEach(fn, dy, saved, dx, n);
  };
  spec.double_backward = [fn](const double* dy, const double* saved, double* dx, int64_t n) {
    BackwardEach(fn, dy, saved, dx, n);
  };
  return spec;
}

template <typename Fn>
EltwiseSpec Spec(Fn fn, std::vector<DnnlStep> steps,
                 std::optional<DnnlStep> backward = std::nullopt) {
  return Spec(fn, fn, std::move(steps), backward);
}

using SpecMaker = absl::StatusOr<EltwiseSpec> (*)(const Node& node);

struct EltwiseEntry {
  const char* op_type;
  SpecMaker make;
};

// One row per op: attributes (ONNX defaults) -> oneDNN steps and functor.
// oneDNN 2.6 findings behind the loop rows: relu with alpha == 0 and clip map
// NaN to 0; soft_relu is off by up to 4e-6 absolute (negative results) for
// x < -15. Eltwise post-ops on an eltwise primitive fall back to the slow
// ref:any implementation (and write nothing for 1-D tensors), so compositions
// chain primitives in place instead.
const EltwiseEntry kEltwiseTable[] = {
    {"Relu",
     [](const Node&) -> absl::StatusOr<EltwiseSpec> {
       return Spec(ReluFn{}, {}, DnnlStep{algorithm::eltwise_relu_use_dst_for_bwd});
     }},
    {"LeakyRelu",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 0.01f));
       return Spec(LeakyReluFn{alpha}, {},
                   DnnlStep{algorithm::eltwise_relu, alpha, 0.f});
     }},
    {"Sigmoid",
     [](const Node&) -> absl::StatusOr<EltwiseSpec> {
       return Spec(SigmoidFn{}, fast::FastSigmoidFn{}, {},
                   DnnlStep{algorithm::eltwise_logistic_use_dst_for_bwd});
     }},
    {"Tanh",
     [](const Node&) -> absl::StatusOr<EltwiseSpec> {
       // The loop only where its AVX-512 body runs: GCC leaves the scalar form
       // unvectorized (no -fno-trapping-math), and oneDNN's AVX2 tanh is faster.
       const DnnlStep backward{algorithm::eltwise_tanh_use_dst_for_bwd};
       if (fast::BestIsa() == fast::Isa::kAvx512) {
         return Spec(TanhFn{}, fast::FastTanhFn{}, {}, backward);
       }
       return Spec(TanhFn{}, {{algorithm::eltwise_tanh}}, backward);
     }},
    {"Softplus",
     [](const Node&) -> absl::StatusOr<EltwiseSpec> {
       return Spec(SoftplusFn{}, fast::FastSoftplusFn{}, {});
     }},
    {"Elu",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
       return Spec(EluFn{alpha}, fast::FastEluFn{1.f, alpha, 1.f}, {},
                   DnnlStep{algorithm::eltwise_elu, alpha, 0.f});
     }},
    {"Selu",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       SeluFn fn;
       ONYX_ASSIGN_OR_RETURN(fn.alpha, node.GetFloat("alpha", fn.alpha));
       ONYX_ASSIGN_OR_RETURN(fn.gamma, node.GetFloat("gamma", fn.gamma));
       return Spec(fn, fast::FastEluFn{fn.gamma, fn.gamma * fn.alpha, 1.f}, {});
     }},
    {"Celu",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
       if (!(alpha != 0.f) || !std::isfinite(alpha)) {
         return absl::InvalidArgumentError(absl::StrFormat(
             "%s: attribute alpha must be finite and non-zero, got %g", node.Describe(),
             alpha));
       }
       return Spec(CeluFn{alpha}, fast::FastEluFn{1.f, alpha, 1.f / alpha}, {});
     }},
    {"Gelu",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       const absl::StatusOr<std::string> attr = node.GetString("approximate", "none");
       if (!attr.ok()) return attr.status();
       const std::string& approximate = *attr;
       if (approximate == "none") {
         return Spec(GeluFn{}, {{algorithm::eltwise_gelu_erf}},
                     DnnlStep{algorithm::eltwise_gelu_erf});
       }
       if (approximate == "tanh") {
         return Spec(GeluTanhFn{}, fast::FastGeluTanhFn{}, {},
                     DnnlStep{algorithm::eltwise_gelu_tanh});
       }
       return absl::InvalidArgumentError(
           absl::StrFormat("%s: attribute approximate must be \"none\" or \"tanh\", got \"%s\"",
                           node.Describe(), approximate));
     }},
    {"Mish",
     [](const Node&) -> absl::StatusOr<EltwiseSpec> {
       return Spec(MishFn{}, fast::FastMishFn{}, {}, DnnlStep{algorithm::eltwise_mish});
     }},
    {"HardSigmoid",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       HardSigmoidFn fn;
       ONYX_ASSIGN_OR_RETURN(fn.alpha, node.GetFloat("alpha", fn.alpha));
       ONYX_ASSIGN_OR_RETURN(fn.beta, node.GetFloat("beta", fn.beta));
       return Spec(fn, {});
     }},
    {"HardSwish",
     [](const Node&) -> absl::StatusOr<EltwiseSpec> {
       return Spec(HardSwishFn{}, fast::FastHardSwishFn{}, {},
                   DnnlStep{algorithm::eltwise_hardswish});
     }},
    {"Swish",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
       return Spec(SwishFn{alpha}, fast::FastSwishFn{alpha}, {},
                   DnnlStep{algorithm::eltwise_swish, alpha, 0.f});
     }},
    {"ThresholdedRelu",
     [](const Node& node) -> absl::StatusOr<EltwiseSpec> {
       ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
       return Spec(ThresholdedReluFn{alpha}, {});
     }},
};

class EltwiseKernel final : public Kernel {
 public:
  EltwiseKernel(int64_t opset, EltwiseSpec spec) : opset_(opset), spec_(std::move(spec)) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t n = x->num_elements();
    switch (x->dtype()) {
      case DataType::kFloat32: {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(
                                              0, 0, DataType::kFloat32, x->shape()));
        if (n == 0) return absl::OkStatus();
        if (spec_.steps.empty()) {
          spec_.float_loop(x->data<float>(), y->data<float>(), n);
          return absl::OkStatus();
        }
        return RunDnnl(ctx.node(), *x, *y);
      }
      case DataType::kFloat64: {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(
                                              0, 0, DataType::kFloat64, x->shape()));
        if (n > 0) spec_.double_loop(x->data<double>(), y->data<double>(), n);
        return absl::OkStatus();
      }
      default:
        return absl::UnimplementedError(
            absl::StrFormat("%s (opset %d): no CPU kernel for input dtype %s",
                            ctx.node().Describe(), opset_, DataTypeName(x->dtype())));
    }
  }

 private:
  // Any rank is one flat 1-D buffer to eltwise; primitives, memory objects and
  // argument maps are cached per size, so a call only swaps data pointers.
  absl::Status RunDnnl(const Node& node, const Tensor& x, Tensor& y) {
    const int64_t n = x.num_elements();
    try {
      if (n != cached_n_) {
        primitives_.clear();
        cached_n_ = -1;
        desc_ = dnnl::memory::desc({n}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::a);
        for (const DnnlStep& step : spec_.steps) {
          dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, step.alg, desc_,
                                        step.alpha, step.beta);
          primitives_.emplace_back(dnnl::eltwise_forward::primitive_desc(d, CpuEngine()));
        }
        src_ = dnnl::memory(desc_, CpuEngine(), DNNL_MEMORY_NONE);
        dst_ = dnnl::memory(desc_, CpuEngine(), DNNL_MEMORY_NONE);
        first_args_ = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}};
        chain_args_ = {{DNNL_ARG_SRC, dst_}, {DNNL_ARG_DST, dst_}};
        cached_n_ = n;
      }
      src_.set_data_handle(const_cast<void*>(x.raw_data()));
      dst_.set_data_handle(y.raw_data());
      dnnl::stream& stream = CpuStream();
      primitives_[0].execute(stream, first_args_);
      for (size_t i = 1; i < primitives_.size(); ++i) primitives_[i].execute(stream, chain_args_);
      stream.wait();
    } catch (const dnnl::error& e) {
      return DnnlError(absl::StrFormat("%s eltwise forward", node.Describe()), e);
    }
    return absl::OkStatus();
  }

  int64_t opset_;
  EltwiseSpec spec_;
  int64_t cached_n_ = -1;
  dnnl::memory::desc desc_;
  std::vector<dnnl::eltwise_forward> primitives_;
  dnnl::memory src_, dst_;
  std::unordered_map<int, dnnl::memory> first_args_, chain_args_;
};

}  // namespace

absl::StatusOr<EltwiseSpec> MakeEltwiseSpec(const Node& node, const std::string& op_type) {
  for (const EltwiseEntry& entry : kEltwiseTable) {
    if (op_type == entry.op_type) return entry.make(node);
  }
  return absl::NotFoundError(
      absl::StrFormat("%s: \"%s\" is not an elementwise activation", node.Describe(), op_type));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateEltwiseKernel(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(EltwiseSpec spec, MakeEltwiseSpec(node, node.op_type));
  return std::unique_ptr<Kernel>(new EltwiseKernel(opset, std::move(spec)));
}

}  // namespace onyx
