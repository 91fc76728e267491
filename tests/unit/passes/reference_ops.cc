// Naive double-precision kernels for the ops the pass tests need whose
// families are not built in yet. Registered only where the registry has no
// kernel of that name, so once the real family lands the tests run on it.
#include <cmath>
#include <functional>

#include "absl/strings/str_format.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

using Fn = std::function<absl::Status(KernelContext&)>;

class LambdaKernel : public Kernel {
 public:
  explicit LambdaKernel(Fn fn) : fn_(std::move(fn)) {}
  absl::Status Compute(KernelContext& ctx) override { return fn_(ctx); }

 private:
  Fn fn_;
};

void Add(OpRegistry& r, const std::string& op, std::function<Fn(const Node&)> make) {
  if (r.Knows("", op)) return;
  r.Register("", op, 1, Device::kCpu,
             [make](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
               return std::make_unique<LambdaKernel>(make(node));
             });
}

Fn Unary(std::function<double(double)> f) {
  return [f](KernelContext& ctx) -> absl::Status {
    const Tensor* x = ctx.input(0);
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      y->data<float>()[i] = static_cast<float>(f(x->data<float>()[i]));
    }
    return absl::OkStatus();
  };
}

// Mean over the trailing `k` axes with keepdims (the form the LayerNorm pattern uses).
absl::Status TrailingMean(KernelContext& ctx, int k) {
  const Tensor* x = ctx.input(0);
  const int r = x->rank();
  if (k > r) return absl::InvalidArgumentError("reference ReduceMean: bad axes");
  Shape out = x->shape();
  int64_t inner = 1;
  for (int d = r - k; d < r; ++d) {
    inner *= out[d];
    out[d] = 1;
  }
  ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, out));
  for (int64_t o = 0; o < y->num_elements(); ++o) {
    double sum = 0;
    for (int64_t i = 0; i < inner; ++i) sum += x->data<float>()[o * inner + i];
    y->data<float>()[o] = static_cast<float>(sum / inner);
  }
  return absl::OkStatus();
}

int TrailingCount(const std::vector<int64_t>& axes, int rank) {
  std::vector<int64_t> a = axes;
  for (int64_t& v : a) v = v < 0 ? v + rank : v;
  std::sort(a.begin(), a.end());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != rank - static_cast<int64_t>(a.size()) + static_cast<int64_t>(i)) return -1;
  }
  return static_cast<int>(a.size());
}

void AddReferenceOps(OpRegistry& r) {
  Add(r, "Erf", [](const Node&) { return Unary([](double v) { return std::erf(v); }); });
  Add(r, "Sqrt", [](const Node&) { return Unary([](double v) { return std::sqrt(v); }); });
  Add(r, "Pow", [](const Node&) -> Fn {
    return [](KernelContext& ctx) -> absl::Status {
      const Tensor* e = ctx.input(1);
      if (e->num_elements() != 1) return absl::UnimplementedError("reference Pow: scalar only");
      const double p = e->data<float>()[0];
      return Unary([p](double v) { return std::pow(v, p); })(ctx);
    };
  });
  Add(r, "ReduceMean", [](const Node& node) -> Fn {
    return [node](KernelContext& ctx) -> absl::Status {
      std::vector<int64_t> axes = node.GetInts("axes", {}).value();
      if (ctx.input(1) != nullptr) {
        axes.assign(ctx.input(1)->data<int64_t>(),
                    ctx.input(1)->data<int64_t>() + ctx.input(1)->num_elements());
      }
      const int k = TrailingCount(axes, ctx.input(0)->rank());
      if (k <= 0) return absl::UnimplementedError("reference ReduceMean: trailing axes only");
      return TrailingMean(ctx, k);
    };
  });
  Add(r, "Clip", [](const Node&) -> Fn {
    return [](KernelContext& ctx) -> absl::Status {
      const double lo = ctx.input(1) ? ctx.input(1)->data<float>()[0] : -INFINITY;
      const double hi = ctx.input(2) ? ctx.input(2)->data<float>()[0] : INFINITY;
      return Unary([lo, hi](double v) { return std::min(std::max(v, lo), hi); })(ctx);
    };
  });
  // y = (x - mean) / sqrt(var + eps) * scale + bias over axes [axis, rank).
  Add(r, "LayerNormalization", [](const Node& node) -> Fn {
    return [node](KernelContext& ctx) -> absl::Status {
      const Tensor* x = ctx.input(0);
      const Tensor* scale = ctx.input(1);
      const Tensor* bias = ctx.input(2);
      int64_t axis = node.GetInt("axis", -1).value();
      const double eps = node.GetFloat("epsilon", 1e-5f).value();
      if (axis < 0) axis += x->rank();
      const int64_t inner = NumElements(absl::MakeConstSpan(x->shape()).subspan(axis));
      ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, x->shape()));
      for (int64_t o = 0; o < x->num_elements() / inner; ++o) {
        const float* xr = x->data<float>() + o * inner;
        double mean = 0, var = 0;
        for (int64_t i = 0; i < inner; ++i) mean += xr[i];
        mean /= inner;
        for (int64_t i = 0; i < inner; ++i) var += (xr[i] - mean) * (xr[i] - mean);
        var /= inner;
        for (int64_t i = 0; i < inner; ++i) {
          double v = (xr[i] - mean) / std::sqrt(var + eps) * scale->data<float>()[i];
          if (bias != nullptr) v += bias->data<float>()[i];
          y->data<float>()[o * inner + i] = static_cast<float>(v);
        }
      }
      return absl::OkStatus();
    };
  });
  // Inference: y = scale * (x - mean) / sqrt(var + eps) + bias per channel (dim 1).
  Add(r, "BatchNormalization", [](const Node& node) -> Fn {
    return [node](KernelContext& ctx) -> absl::Status {
      const Tensor* x = ctx.input(0);
      const double eps = node.GetFloat("epsilon", 1e-5f).value();
      const int64_t c = x->dim(1);
      const int64_t inner = x->num_elements() / (x->dim(0) * c);
      ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, x->shape()));
      for (int64_t i = 0; i < x->num_elements(); ++i) {
        const int64_t ch = (i / inner) % c;
        auto p = [&](int k) { return double{ctx.input(k)->data<float>()[ch]}; };
        y->data<float>()[i] = static_cast<float>(
            p(1) * (x->data<float>()[i] - p(3)) / std::sqrt(p(4) + eps) + p(2));
      }
      return absl::OkStatus();
    };
  });
  // 2-D NCHW convolution, group 1, no dilation: strides and pads attributes.
  Add(r, "Conv", [](const Node& node) -> Fn {
    return [node](KernelContext& ctx) -> absl::Status {
      const Tensor* x = ctx.input(0);
      const Tensor* w = ctx.input(1);
      const Tensor* b = ctx.input(2);
      const auto strides = node.GetInts("strides", {1, 1}).value();
      const auto pads = node.GetInts("pads", {0, 0, 0, 0}).value();
      const int64_t n = x->dim(0), c = x->dim(1), h = x->dim(2), wd = x->dim(3);
      const int64_t m = w->dim(0), kh = w->dim(2), kw = w->dim(3);
      const int64_t oh = (h + pads[0] + pads[2] - kh) / strides[0] + 1;
      const int64_t ow = (wd + pads[1] + pads[3] - kw) / strides[1] + 1;
      ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, {n, m, oh, ow}));
      const float* xp = x->data<float>();
      const float* wp = w->data<float>();
      for (int64_t in = 0; in < n; ++in)
        for (int64_t om = 0; om < m; ++om)
          for (int64_t oy = 0; oy < oh; ++oy)
            for (int64_t ox = 0; ox < ow; ++ox) {
              double sum = b != nullptr ? b->data<float>()[om] : 0.0;
              for (int64_t ic = 0; ic < c; ++ic)
                for (int64_t ky = 0; ky < kh; ++ky)
                  for (int64_t kx = 0; kx < kw; ++kx) {
                    const int64_t iy = oy * strides[0] - pads[0] + ky;
                    const int64_t ix = ox * strides[1] - pads[1] + kx;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                    sum += double{xp[((in * c + ic) * h + iy) * wd + ix]} *
                           wp[((om * c + ic) * kh + ky) * kw + kx];
                  }
              y->data<float>()[((in * m + om) * oh + oy) * ow + ox] = static_cast<float>(sum);
            }
      return absl::OkStatus();
    };
  });
}

}  // namespace

const OpRegistry& Registry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterAllOps(*r);
    AddReferenceOps(*r);
    return r;
  }();
  return *registry;
}

}  // namespace onyx::pass_test
