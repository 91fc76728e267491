// Ops that replicate data by broadcasting: Expand (8, 13), Tile (6, 13) and
// Where (9, 16), for every dtype. Expand and Tile are strided copies with zero
// strides; Where picks bytes per element.
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Strides of a row-major `shape` read as `out` (right-aligned, 0 where the
// operand has size 1 or no dim); `shape` must broadcast into `out`.
std::vector<int64_t> StridesInto(const Shape& shape, const Shape& out) {
  const std::vector<int64_t> own = ContiguousStrides(shape);
  std::vector<int64_t> strides(out.size(), 0);
  const size_t lead = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    strides[lead + i] = (shape[i] == 1 && out[lead + i] != 1) ? 0 : own[i];
  }
  return strides;
}

// Expand-8, 13: y = x broadcast (NumPy, bidirectionally) with `shape`.
class ExpandKernel : public Kernel {
 public:
  static KernelOr Create(const Node&, int64_t) { return std::make_unique<ExpandKernel>(); }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* shape_in, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ReadInts(node, *shape_in, "input shape"));
    for (int64_t d : shape) {
      if (d < 0) {
        return absl::InvalidArgumentError(absl::StrFormat("%s: shape %s has a negative dim",
                                                          node.Describe(), ShapeToString(shape)));
      }
    }
    auto out = BroadcastShapes(x->shape(), shape);
    if (!out.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: cannot expand input of shape %s to shape %s", node.Describe(),
                          ShapeToString(x->shape()), ShapeToString(shape)));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), *out));
    if (y->num_elements() == 0) return absl::OkStatus();
    StridedCopy(DataTypeSize(x->dtype()), *out, x->raw_data(), StridesInto(x->shape(), *out),
                y->raw_data(), ContiguousStrides(*out));
    return absl::OkStatus();
  }
};

// Tile-6, 13: y dim i = x dim i * repeats[i]. Output axis i is read as the
// pair (repeat r, position k) with source strides (0, stride_i).
class TileKernel : public Kernel {
 public:
  static KernelOr Create(const Node&, int64_t) { return std::make_unique<TileKernel>(); }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* rep_in, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> repeats, ReadInts(node, *rep_in, "input repeats"));
    const int rank = x->rank();
    if (static_cast<int>(repeats.size()) != rank) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: repeats [%s] must have one entry per dim of input %s",
                          node.Describe(), absl::StrJoin(repeats, ","), x->DebugString()));
    }
    const std::vector<int64_t> in_strides = ContiguousStrides(x->shape());
    Shape out(rank), pair_dims, pair_src;
    for (int i = 0; i < rank; ++i) {
      if (repeats[i] < 0 || __builtin_mul_overflow(x->dim(i), repeats[i], &out[i])) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: invalid repeats [%s] for input %s", node.Describe(),
                            absl::StrJoin(repeats, ","), x->DebugString()));
      }
      pair_dims.insert(pair_dims.end(), {repeats[i], x->dim(i)});
      pair_src.insert(pair_src.end(), {0, in_strides[i]});
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    StridedCopy(DataTypeSize(x->dtype()), pair_dims, x->raw_data(), pair_src, y->raw_data(),
                ContiguousStrides(pair_dims));
    return absl::OkStatus();
  }
};

template <typename U>
void WhereRows(const Shape& out, const bool* c, const std::vector<int64_t>& sc, const U* a,
               const std::vector<int64_t>& sa, const U* b, const std::vector<int64_t>& sb, U* y) {
  const int rank = static_cast<int>(out.size());
  const int64_t inner = rank == 0 ? 1 : out.back();
  const int64_t ic = rank == 0 ? 0 : sc.back(), ia = rank == 0 ? 0 : sa.back(),
                ib = rank == 0 ? 0 : sb.back();
  const int64_t rows = inner == 0 ? 0 : NumElements(out) / inner;
  std::vector<int64_t> index(rank > 0 ? rank - 1 : 0, 0);
  int64_t oc = 0, oa = 0, ob = 0;
  for (int64_t row = 0; row < rows; ++row) {
    U* yr = y + row * inner;
    for (int64_t i = 0; i < inner; ++i) {
      yr[i] = c[oc + i * ic] ? a[oa + i * ia] : b[ob + i * ib];
    }
    for (int d = rank - 2; d >= 0; --d) {
      oc += sc[d];
      oa += sa[d];
      ob += sb[d];
      if (++index[d] < out[d]) break;
      oc -= sc[d] * out[d];
      oa -= sa[d] * out[d];
      ob -= sb[d] * out[d];
      index[d] = 0;
    }
  }
}

// Where-9, 16: y = condition ? X : Y with three-way NumPy broadcasting.
class WhereKernel : public Kernel {
 public:
  static KernelOr Create(const Node&, int64_t) { return std::make_unique<WhereKernel>(); }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* cond, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(2));
    if (cond->dtype() != DataType::kBool || a->dtype() != b->dtype()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: expects a bool condition and X, Y of one dtype; got %s, %s, %s", node.Describe(),
          cond->DebugString(), a->DebugString(), b->DebugString()));
    }
    auto ab = BroadcastShapes(a->shape(), b->shape());
    absl::StatusOr<Shape> out = ab.ok() ? BroadcastShapes(cond->shape(), *ab) : ab;
    if (!out.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: shapes %s, %s and %s do not broadcast", node.Describe(),
          ShapeToString(cond->shape()), ShapeToString(a->shape()), ShapeToString(b->shape())));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, a->dtype(), *out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const auto sc = StridesInto(cond->shape(), *out);
    const auto sa = StridesInto(a->shape(), *out);
    const auto sb = StridesInto(b->shape(), *out);
    const bool* c = cond->data<bool>();
    switch (DataTypeSize(a->dtype())) {
      case 1:
        WhereRows(*out, c, sc, a->data<uint8_t>(), sa, b->data<uint8_t>(), sb, y->data<uint8_t>());
        break;
      case 2:
        WhereRows(*out, c, sc, a->data<uint16_t>(), sa, b->data<uint16_t>(), sb,
                  y->data<uint16_t>());
        break;
      case 4:
        WhereRows(*out, c, sc, a->data<uint32_t>(), sa, b->data<uint32_t>(), sb,
                  y->data<uint32_t>());
        break;
      case 8:
        WhereRows(*out, c, sc, a->data<uint64_t>(), sa, b->data<uint64_t>(), sb,
                  y->data<uint64_t>());
        break;
      default:
        return absl::UnimplementedError(absl::StrFormat("%s: dtype %s is not supported",
                                                        node.Describe(), DataTypeName(a->dtype())));
    }
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterBroadcastOps(OpRegistry& registry) {
  RegisterCpu(registry, "Expand", {8, 13}, &ExpandKernel::Create);
  RegisterCpu(registry, "Tile", {6, 13}, &TileKernel::Create);
  RegisterCpu(registry, "Where", {9, 16}, &WhereKernel::Create);
}

}  // namespace onyx::tensor
