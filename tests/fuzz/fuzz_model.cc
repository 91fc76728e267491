// libFuzzer target for the whole load path: bytes -> ParseOnnxModel ->
// Session::Create -> one Run with small pseudo-random inputs (derived from the
// bytes, so every run is reproducible). Any status is fine; crashes, sanitizer
// reports, leaks and hangs are findings.
#include <omp.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/session.h"

namespace {

// Small caps keep each execution fast; hostile sizes still reach every check.
constexpr int64_t kMaxTensorBytes = int64_t{16} << 20;
constexpr int64_t kMaxMemoryBytes = int64_t{64} << 20;
constexpr int64_t kMaxNodes = 512;
constexpr int64_t kMaxFeedElements = 4096;
constexpr int64_t kSymbolicDim = 2;

struct SplitMix {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Mostly values in [-3, 3]; now and then NaN, ±inf, 0 or a huge value.
  double Float() {
    switch (Next() % 32) {
      case 0: return std::numeric_limits<double>::quiet_NaN();
      case 1: return std::numeric_limits<double>::infinity();
      case 2: return -std::numeric_limits<double>::infinity();
      case 3: return 0.0;
      case 4: return 3e38;
      default: return (static_cast<double>(Next() % 6001) - 3000) / 1000;
    }
  }
  // Small integers around 0, so indices land both in and out of range.
  int64_t Int() { return static_cast<int64_t>(Next() % 9) - 4; }
};

template <typename T>
void FillInts(onyx::Tensor& t, SplitMix& rng) {
  for (T& v : t.span<T>()) v = static_cast<T>(rng.Int());
}

// A feed for `info`, or false when the harness cannot make one small enough.
bool MakeFeed(const onyx::ValueInfo& info, SplitMix& rng, onyx::Tensor* out) {
  onyx::Shape shape;
  if (info.has_shape) {
    for (const onyx::Dim& d : info.dims) shape.push_back(d.is_fixed() ? d.value : kSymbolicDim);
  } else {
    shape = {kSymbolicDim};
  }
  auto count = onyx::CheckedNumElements(shape);
  if (!count.ok() || *count > kMaxFeedElements) return false;
  auto tensor = onyx::Tensor::Zeros(info.dtype, shape);
  if (!tensor.ok()) return false;
  using onyx::DataType;
  switch (info.dtype) {
    case DataType::kFloat32:
      for (float& v : tensor->span<float>()) v = static_cast<float>(rng.Float());
      break;
    case DataType::kFloat64:
      for (double& v : tensor->span<double>()) v = rng.Float();
      break;
    case DataType::kInt64: FillInts<int64_t>(*tensor, rng); break;
    case DataType::kInt32: FillInts<int32_t>(*tensor, rng); break;
    case DataType::kInt8: FillInts<int8_t>(*tensor, rng); break;
    case DataType::kUInt8: FillInts<uint8_t>(*tensor, rng); break;
    case DataType::kBool:
      for (bool& v : tensor->span<bool>()) v = rng.Next() & 1;
      break;
    default: break;  // zeros
  }
  *out = *std::move(tensor);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  omp_set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  onyx::LoadOptions load;
  load.max_tensor_bytes = kMaxTensorBytes;
  load.max_nodes = kMaxNodes;
  // No model folder: external data is refused, so no file is ever opened.
  auto graph = onyx::ParseOnnxModel(bytes, "", load);
  if (!graph.ok()) return 0;

  SplitMix rng{size};
  for (size_t i = 0; i < size && i < 64; ++i) rng.state = rng.state * 131 + data[i];
  onyx::NamedTensors feeds;
  for (const onyx::ValueInfo* info : graph->FeedInputs()) {
    onyx::Tensor t;
    if (!MakeFeed(*info, rng, &t)) return 0;
    feeds.emplace_back(info->name, std::move(t));
  }

  onyx::SessionOptions options;
  options.max_tensor_bytes = kMaxTensorBytes;
  options.max_memory_bytes = kMaxMemoryBytes;
  auto session = onyx::Session::Create(*std::move(graph), onyx::DefaultRegistry(), options);
  if (!session.ok()) return 0;
  auto outputs = (*session)->Run(feeds);
  (void)outputs;
  return 0;
}
