// libFuzzer target: bytes -> ParseNpy. A parsed tensor must be self-consistent
// (shape, element count and bytes agree) and survive a write/read round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "importers/npy/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto tensor = onyx::ParseNpy(bytes);
  if (!tensor.ok()) return 0;
  auto count = onyx::CheckedNumElements(tensor->shape());
  if (!count.ok() || *count != tensor->num_elements()) std::abort();
  auto written = onyx::SerializeNpy(*tensor);
  if (!written.ok()) return 0;  // dtypes without a .npy spelling
  auto again = onyx::ParseNpy(*written);
  if (!again.ok() || again->shape() != tensor->shape() || again->dtype() != tensor->dtype() ||
      std::memcmp(again->raw_data(), tensor->raw_data(), tensor->byte_size()) != 0) {
    std::abort();
  }
  return 0;
}
