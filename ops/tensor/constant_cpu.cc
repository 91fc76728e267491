// Ops that produce data rather than move it: Constant, ConstantOfShape, Range,
// and inference-mode Dropout (identity plus an all-true mask).
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Constant-1, 9, 11 (sparse_value), 12 (value_float(s)/value_int(s)/
// value_string(s)), 13, 19, 21. The tensor is built once at prepare time and
// handed out (shared, never written) on every run.
class ConstantKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<ConstantKernel>();
    int found = 0;
    for (const Attribute& attr : node.attributes) {
      const std::string& name = attr.name;
      if (name == "sparse_value" || name == "value_string" || name == "value_strings") {
        return absl::UnimplementedError(
            absl::StrFormat("%s: attribute %s is not supported", node.Describe(), name));
      }
      absl::StatusOr<Tensor> t = absl::InvalidArgumentError("unset");
      if (name == "value") {
        if (attr.type != AttrType::kTensor) {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: attribute value must be a tensor", node.Describe()));
        }
        t = attr.t;
      } else if (name == "value_float") {
        ONYX_ASSIGN_OR_RETURN(float v, node.GetFloat(name, 0.f));
        t = Tensor::FromVector<float>({}, {v});
      } else if (name == "value_floats") {
        ONYX_ASSIGN_OR_RETURN(std::vector<float> v, node.GetFloats(name, {}));
        t = Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v);
      } else if (name == "value_int") {
        ONYX_ASSIGN_OR_RETURN(int64_t v, node.GetInt(name, 0));
        t = Tensor::FromVector<int64_t>({}, {v});
      } else if (name == "value_ints") {
        ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> v, node.GetInts(name, {}));
        t = Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
      } else {
        continue;
      }
      ONYX_RETURN_IF_ERROR(t.status());
      k->value_ = *std::move(t);
      ++found;
    }
    if (found != 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: exactly one value attribute must be given, found %d", node.Describe(), found));
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ctx.SetOutput(0, value_);
    return absl::OkStatus();
  }

 private:
  Tensor value_;
};

// ConstantOfShape-9, 20, 21: a tensor of the given shape filled with the
// one-element `value` attribute (default float32 0).
class ConstantOfShapeKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<ConstantOfShapeKernel>();
    const Attribute* attr = node.FindAttribute("value");
    if (attr == nullptr) {
      ONYX_ASSIGN_OR_RETURN(k->value_, Tensor::Zeros(DataType::kFloat32, {1}));
    } else if (attr->type != AttrType::kTensor || attr->t.num_elements() != 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: attribute value must be a one-element tensor", node.Describe()));
    } else {
      k->value_ = attr->t;
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* shape_in, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                          ReadInts(ctx.node(), *shape_in, "input shape"));
    for (int64_t d : shape) {
      if (d < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: shape %s has a negative dim", ctx.node().Describe(), ShapeToString(shape)));
      }
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, value_.dtype(), shape));
    FillElements(DataTypeSize(value_.dtype()), value_.raw_data(), y->num_elements(), y->raw_data());
    return absl::OkStatus();
  }

 private:
  Tensor value_;
};

// Range-11: y[i] = start + i * delta for i < max(ceil((limit - start) / delta), 0).
class RangeKernel : public Kernel {
 public:
  static KernelOr Create(const Node&, int64_t) { return std::make_unique<RangeKernel>(); }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* start, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* limit, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* delta, ctx.RequiredInput(2));
    for (const Tensor* t : {start, limit, delta}) {
      if (t->num_elements() != 1 || t->dtype() != start->dtype()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: start, limit and delta must be scalars of one dtype; got %s, %s, %s",
            node.Describe(), start->DebugString(), limit->DebugString(), delta->DebugString()));
      }
    }
    switch (start->dtype()) {
      case DataType::kFloat32:
        return Run<float>(ctx, *start, *limit, *delta);
      case DataType::kFloat64:
        return Run<double>(ctx, *start, *limit, *delta);
      case DataType::kInt16:
        return Run<int16_t>(ctx, *start, *limit, *delta);
      case DataType::kInt32:
        return Run<int32_t>(ctx, *start, *limit, *delta);
      case DataType::kInt64:
        return Run<int64_t>(ctx, *start, *limit, *delta);
      default:
        return absl::UnimplementedError(absl::StrFormat(
            "%s: dtype %s is not supported", node.Describe(), DataTypeName(start->dtype())));
    }
  }

 private:
  template <typename T>
  absl::Status Run(KernelContext& ctx, const Tensor& start_t, const Tensor& limit_t,
                   const Tensor& delta_t) {
    const T start = start_t.data<T>()[0], limit = limit_t.data<T>()[0],
            delta = delta_t.data<T>()[0];
    if (delta == T(0)) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: delta is 0", ctx.node().Describe()));
    }
    int64_t n = 0;
    if constexpr (std::is_floating_point_v<T>) {
      const double count = std::ceil((static_cast<double>(limit) - start) / delta);
      if (!(count < 4.6e18)) {  // also rejects NaN
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: range of %g to %g by %g is not finite", ctx.node().Describe(),
                            double(start), double(limit), double(delta)));
      }
      n = count > 0 ? static_cast<int64_t>(count) : 0;
    } else {
      // 128-bit arithmetic: limit - start cannot overflow.
      const __int128 diff = static_cast<__int128>(limit) - start;
      const __int128 d = delta;
      if ((d > 0 && diff > 0) || (d < 0 && diff < 0)) {
        const __int128 ad = d > 0 ? d : -d, adiff = diff > 0 ? diff : -diff;
        n = static_cast<int64_t>((adiff + ad - 1) / ad);
      }
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataTypeOf<T>::value, {n}));
    T* yp = y->data<T>();
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        yp[i] = static_cast<T>(static_cast<double>(start) + static_cast<double>(i) * delta);
      } else {
        yp[i] = static_cast<T>(static_cast<__int128>(start) + static_cast<__int128>(i) * delta);
      }
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<double> ReadFloatScalar(const Node& node, const Tensor& t, const char* what) {
  if (t.num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s must hold one value, got %s",
                                                      node.Describe(), what, t.DebugString()));
  }
  switch (t.dtype()) {
    case DataType::kFloat32:
      return t.data<float>()[0];
    case DataType::kFloat64:
      return t.data<double>()[0];
    case DataType::kFloat16:
      return HalfToFloat(t.data<uint16_t>()[0]);
    case DataType::kBFloat16:
      return BFloat16ToFloat(t.data<uint16_t>()[0]);
    default:
      return absl::InvalidArgumentError(absl::StrFormat("%s: %s must be a float, got %s",
                                                        node.Describe(), what, t.DebugString()));
  }
}

// Dropout-1, 6, 7, 10 (bool mask), 12 (ratio and training_mode inputs), 13, 22.
// Inference: y = x and mask = all true. Training mode with ratio 0 is the
// same; with a non-zero ratio it needs random masks, which are not supported.
class DropoutKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<DropoutKernel>();
    k->opset_ = opset;
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (opset_ >= 12 && ctx.input(2) != nullptr) {
      const Tensor& mode = *ctx.input(2);
      if (mode.dtype() != DataType::kBool || mode.num_elements() != 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: training_mode must be a bool scalar, got %s", node.Describe(),
                            mode.DebugString()));
      }
      if (mode.data<bool>()[0]) {
        double ratio = 0.5;
        if (ctx.input(1) != nullptr) {
          ONYX_ASSIGN_OR_RETURN(ratio, ReadFloatScalar(node, *ctx.input(1), "ratio"));
        }
        if (ratio != 0) {
          return absl::UnimplementedError(absl::StrFormat(
              "%s: training-mode Dropout with ratio %g (random masks) is not supported",
              node.Describe(), ratio));
        }
      }
    }
    ctx.SetOutput(0, *x);
    if (ctx.wants_output(1)) {
      const DataType mask_type = opset_ >= 10 ? DataType::kBool : x->dtype();
      ONYX_ASSIGN_OR_RETURN(Tensor * mask, ctx.AllocateOutput(1, mask_type, x->shape()));
      std::vector<char> one(DataTypeSize(mask_type));
      StoreScalar(mask_type, 1.0, one.data());
      FillElements(one.size(), one.data(), mask->num_elements(), mask->raw_data());
    }
    return absl::OkStatus();
  }

 private:
  int64_t opset_ = 0;
};

}  // namespace

void RegisterConstantOps(OpRegistry& registry) {
  RegisterCpu(registry, "Constant", {1, 9, 11, 12, 13, 19, 21}, &ConstantKernel::Create);
  RegisterCpu(registry, "ConstantOfShape", {9, 20, 21}, &ConstantOfShapeKernel::Create);
  RegisterCpu(registry, "Range", {11}, &RangeKernel::Create);
  RegisterCpu(registry, "Dropout", {1, 6, 7, 10, 12, 13, 22}, &DropoutKernel::Create);
}

}  // namespace onyx::tensor
