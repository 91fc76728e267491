// GatherElements (11, 13) and its backward GatherElementsGrad (com.onyx), and
// CastLike (15, 19, 21), ops/tensor/cast_like_kernel (the registered Cast kernel
// for the target's dtype: one cast implementation in the code base).
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/register_all.h"
#include "ops/tensor/cast_like_kernel.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

template <typename I>
const I* IndexData(const Tensor& t) {
  return t.data<I>();
}

// Calls fn(row, j, data_offset) for every element of `indices` (row-major,
// j the innermost index), with data_offset the element of data it reads:
// indices' own position with the `axis` coordinate replaced by its value
// (negative values count from the end). InvalidArgument on an index out of range.
template <typename I, typename Fn>
absl::Status ForEachGather(const Node& node, const Shape& data_shape, const Tensor& indices,
                           int axis, bool parallel, Fn&& fn) {
  const int rank = static_cast<int>(data_shape.size());
  std::vector<int64_t> stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) stride[d] = stride[d + 1] * data_shape[d + 1];
  const Shape& ishape = indices.shape();
  const int64_t inner = ishape.back();
  const int64_t rows = inner == 0 ? 0 : indices.num_elements() / inner;
  const int64_t axis_dim = data_shape[axis];
  const I* idx = IndexData<I>(indices);
  int64_t bad = -1;
#pragma omp parallel for schedule(static) if (parallel && indices.num_elements() >= (1 << 15))
  for (int64_t row = 0; row < rows; ++row) {
    int64_t base = 0, rest = row;
    for (int d = rank - 2; d >= 0; --d) {
      const int64_t c = rest % ishape[d];
      rest /= ishape[d];
      if (d != axis) base += c * stride[d];
    }
    for (int64_t j = 0; j < inner; ++j) {
      int64_t v = static_cast<int64_t>(idx[row * inner + j]);
      if (v < 0) v += axis_dim;
      if (v < 0 || v >= axis_dim) {
#pragma omp critical(onyx_gather_elements_bad)
        bad = row * inner + j;
        continue;
      }
      const int64_t off = base + (axis == rank - 1 ? 0 : j * stride[rank - 1]) + v * stride[axis];
      fn(row * inner + j, off);
    }
  }
  if (bad >= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: index %d at flat position %d is out of range for axis %d of size %d",
        node.Describe(), static_cast<int64_t>(idx[bad]), bad, axis, axis_dim));
  }
  return absl::OkStatus();
}

// Checks ranks and dims; returns the normalized axis.
absl::StatusOr<int> CheckGather(const Node& node, int64_t axis_attr, const Shape& data,
                                const Tensor& indices) {
  if (indices.dtype() != DataType::kInt32 && indices.dtype() != DataType::kInt64) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: indices must be int32 or int64, got %s", node.Describe(),
        DataTypeName(indices.dtype())));
  }
  if (data.empty() || indices.rank() != static_cast<int>(data.size())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: data %s and indices %s must have the same rank >= 1", node.Describe(),
        ShapeToString(data), ShapeToString(indices.shape())));
  }
  auto axis = NormalizeAxis(axis_attr, static_cast<int>(data.size()));
  if (!axis.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: axis %d is out of range for rank %d", node.Describe(), axis_attr, data.size()));
  }
  for (size_t d = 0; d < data.size(); ++d) {
    if (static_cast<int>(d) != *axis && indices.dim(d) > data[d]) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: indices %s exceed data %s along axis %d", node.Describe(),
          ShapeToString(indices.shape()), ShapeToString(data), d));
    }
  }
  if (indices.num_elements() > 0 && data[*axis] == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: data axis %d is empty", node.Describe(), *axis));
  }
  return *axis;
}

template <typename Fn>
absl::Status WithIndexType(const Tensor& indices, Fn&& fn) {
  if (indices.dtype() == DataType::kInt32) return fn(int32_t{});
  return fn(int64_t{});
}

class GatherElementsKernel final : public Kernel {
 public:
  explicit GatherElementsKernel(int64_t axis) : axis_(axis) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* indices, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const int axis, CheckGather(node, axis_, data->shape(), *indices));
    const size_t size = DataTypeSize(data->dtype());
    if (size == 0) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: dtype %s is not supported", node.Describe(), DataTypeName(data->dtype())));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, data->dtype(), indices->shape()));
    if (y->num_elements() == 0) return absl::OkStatus();
    const auto* src = static_cast<const char*>(data->raw_data());
    auto* dst = static_cast<char*>(y->raw_data());
    return WithIndexType(*indices, [&](auto tag) {
      using I = decltype(tag);
      return ForEachGather<I>(node, data->shape(), *indices, axis, true,
                              [&](int64_t out, int64_t in) {
                                std::memcpy(dst + out * size, src + in * size, size);
                              });
    });
  }

 private:
  int64_t axis_;
};

// GatherElementsGrad(dY, data, indices) -> dData: zeros of data's shape with
// dY scatter-added at the gathered positions (repeated indices accumulate).
class GatherElementsGradKernel final : public Kernel {
 public:
  explicit GatherElementsGradKernel(int64_t axis) : axis_(axis) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* data, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* indices, ctx.RequiredInput(2));
    ONYX_ASSIGN_OR_RETURN(const int axis, CheckGather(node, axis_, data->shape(), *indices));
    if (dy->shape() != indices->shape() || dy->dtype() != data->dtype()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s must have indices' shape %s and data's dtype %s", node.Describe(),
          dy->DebugString(), ShapeToString(indices->shape()), DataTypeName(data->dtype())));
    }
    return DispatchFloat(node, dy->dtype(), [&](auto ttag) -> absl::Status {
      using T = decltype(ttag);
      ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, dy->dtype(), data->shape()));
      T* dxp = dx->data<T>();
      std::fill(dxp, dxp + dx->num_elements(), T(0));
      const T* dyp = dy->data<T>();
      return WithIndexType(*indices, [&](auto itag) {
        using I = decltype(itag);
        // Serial: two indices may name the same element.
        return ForEachGather<I>(node, data->shape(), *indices, axis, false,
                                [&](int64_t out, int64_t in) { dxp[in] += dyp[out]; });
      });
    });
  }

 private:
  int64_t axis_;
};

}  // namespace

void RegisterGatherCastOps(OpRegistry& registry) {
  RegisterCpu(registry, "GatherElements", {11, 13},
              [](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
                return std::make_unique<GatherElementsKernel>(axis);
              });
  registry.Register(kOnyxDomain, "GatherElementsGrad", 1, Device::kCpu,
                    [](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
                      return std::make_unique<GatherElementsGradKernel>(axis);
                    });
  RegisterCpu(registry, "CastLike", {15, 19, 21},
              [](const Node& node, int64_t opset) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                return std::make_unique<tensor::CastLikeKernel>(node, opset);
              });
}

}  // namespace onyx::elementwise
