// TensorProto <-> Tensor: raw_data or typed fields in, raw_data out. Little-endian hosts
// only (the ONNX raw_data byte order), checked at compile time.
#include "importers/onnx/tensor_proto.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx::onnx_internal {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; big-endian hosts need byte swapping");

std::string TensorLabel(const onnx::TensorProto& proto) {
  return absl::StrFormat("tensor \"%s\"", proto.name());
}

// Number of values in the typed field that ONNX uses for `dtype`.
int TypedFieldSize(const onnx::TensorProto& proto, DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32: return proto.float_data_size();
    case DataType::kFloat64: return proto.double_data_size();
    case DataType::kInt64: return proto.int64_data_size();
    case DataType::kUInt32:
    case DataType::kUInt64: return proto.uint64_data_size();
    default: return proto.int32_data_size();  // int32/16/8, uint8/16, bool, (b)float16
  }
}

template <typename Dst, typename Field>
void CastCopy(const Field& src, Tensor* tensor) {
  Dst* dst = tensor->data<Dst>();
  for (int i = 0; i < src.size(); ++i) dst[i] = static_cast<Dst>(src.Get(i));
}

void CopyTypedField(const onnx::TensorProto& proto, Tensor* tensor) {
  switch (tensor->dtype()) {
    case DataType::kFloat32: CastCopy<float>(proto.float_data(), tensor); break;
    case DataType::kFloat64: CastCopy<double>(proto.double_data(), tensor); break;
    case DataType::kInt64: CastCopy<int64_t>(proto.int64_data(), tensor); break;
    case DataType::kUInt32: CastCopy<uint32_t>(proto.uint64_data(), tensor); break;
    case DataType::kUInt64: CastCopy<uint64_t>(proto.uint64_data(), tensor); break;
    case DataType::kInt32: CastCopy<int32_t>(proto.int32_data(), tensor); break;
    case DataType::kInt16: CastCopy<int16_t>(proto.int32_data(), tensor); break;
    case DataType::kInt8: CastCopy<int8_t>(proto.int32_data(), tensor); break;
    case DataType::kUInt8: CastCopy<uint8_t>(proto.int32_data(), tensor); break;
    // float16/bfloat16 values travel as their 16-bit patterns in int32_data.
    case DataType::kUInt16:
    case DataType::kFloat16:
    case DataType::kBFloat16: CastCopy<uint16_t>(proto.int32_data(), tensor); break;
    case DataType::kBool: {
      uint8_t* dst = tensor->data<uint8_t>();
      for (int i = 0; i < proto.int32_data_size(); ++i) dst[i] = proto.int32_data(i) != 0;
      break;
    }
    default: break;
  }
}

// Kernels assume bools are stored as 0/1.
void NormalizeBools(Tensor* tensor) {
  if (tensor->dtype() != DataType::kBool) return;
  uint8_t* data = tensor->data<uint8_t>();
  for (int64_t i = 0; i < tensor->num_elements(); ++i) data[i] = data[i] != 0;
}

}  // namespace

absl::StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& proto,
                                       const TensorReadOptions& options) {
  const DataType dtype = static_cast<DataType>(proto.data_type());
  if (proto.data_type() == onnx::TensorProto::STRING) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s has dtype string, which Onyx does not support", TensorLabel(proto)));
  }
  if (proto.data_type() == onnx::TensorProto::UNDEFINED) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s has no data_type", TensorLabel(proto)));
  }
  if (!IsStorableType(dtype)) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s has ONNX data_type %d, which Onyx does not support", TensorLabel(proto),
        proto.data_type()));
  }
  if (proto.has_segment()) {
    return absl::UnimplementedError(
        absl::StrFormat("%s is segmented, which Onyx does not support", TensorLabel(proto)));
  }
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s has a negative dimension in shape %s", TensorLabel(proto), ShapeToString(shape)));
    }
  }
  auto count_or = CheckedNumElements(shape);
  if (!count_or.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: shape %s: %s", TensorLabel(proto), ShapeToString(shape),
        std::string(count_or.status().message())));
  }
  const int64_t count = *count_or;
  const int64_t elem_size = static_cast<int64_t>(DataTypeSize(dtype));
  int64_t bytes = 0;
  if (__builtin_mul_overflow(count, elem_size, &bytes) || bytes > options.max_tensor_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s of %s%s is larger than the %d-byte limit", TensorLabel(proto),
        DataTypeName(dtype), ShapeToString(shape), options.max_tensor_bytes));
  }

  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    ONYX_ASSIGN_OR_RETURN(Tensor tensor,
                          ReadExternalTensor(proto, dtype, shape, bytes, options));
    NormalizeBools(&tensor);
    return tensor;
  }
  if (proto.has_raw_data()) {
    const int64_t actual = static_cast<int64_t>(proto.raw_data().size());
    if (actual != bytes) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: raw_data holds %d bytes but %s%s needs %d bytes", TensorLabel(proto), actual,
          DataTypeName(dtype), ShapeToString(shape), bytes));
    }
    ONYX_ASSIGN_OR_RETURN(
        Tensor tensor, Tensor::Uninitialized(dtype, std::move(shape), options.max_tensor_bytes));
    if (bytes > 0) std::memcpy(tensor.raw_data(), proto.raw_data().data(), bytes);
    NormalizeBools(&tensor);
    return tensor;
  }
  const int64_t values = TypedFieldSize(proto, dtype);
  if (values != count) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: holds %d values (%d bytes) but %s%s needs %d values (%d bytes)",
        TensorLabel(proto), values, values * elem_size, DataTypeName(dtype),
        ShapeToString(shape), count, bytes));
  }
  ONYX_ASSIGN_OR_RETURN(
      Tensor tensor, Tensor::Uninitialized(dtype, std::move(shape), options.max_tensor_bytes));
  CopyTypedField(proto, &tensor);
  return tensor;
}

absl::Status TensorToProto(const Tensor& tensor, const std::string& name,
                           onnx::TensorProto* proto) {
  if (tensor.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor \"%s\" is empty and cannot be exported", name));
  }
  proto->Clear();
  proto->set_name(name);
  proto->set_data_type(static_cast<int>(tensor.dtype()));
  for (int64_t d : tensor.shape()) proto->add_dims(d);
  proto->set_raw_data(tensor.raw_data(), tensor.byte_size());
  return absl::OkStatus();
}

}  // namespace onyx::onnx_internal
