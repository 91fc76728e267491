// The process-wide table of device training kernels.
#include "runtime/training/device_kernels.h"

#include <map>
#include <mutex>

#include "absl/strings/str_format.h"

namespace onyx {
namespace {

struct Table {
  std::mutex mu;
  std::map<Device, DeviceTrainingKernelsFactory> factories;
};

Table& TheTable() {
  static Table* const table = new Table();  // never destroyed: no exit-order hazard
  return *table;
}

}  // namespace

void RegisterDeviceTrainingKernels(Device device, DeviceTrainingKernelsFactory factory) {
  Table& table = TheTable();
  std::lock_guard<std::mutex> lock(table.mu);
  table.factories[device] = std::move(factory);
}

absl::StatusOr<std::unique_ptr<DeviceTrainingKernels>> MakeDeviceTrainingKernels(
    std::shared_ptr<DeviceBackend> backend) {
  if (backend == nullptr) return absl::InvalidArgumentError("no device backend given");
  const Device device = backend->device();
  DeviceTrainingKernelsFactory factory;
  {
    Table& table = TheTable();
    std::lock_guard<std::mutex> lock(table.mu);
    auto it = table.factories.find(device);
    if (it != table.factories.end()) factory = it->second;
  }
  if (!factory) {
    return absl::NotFoundError(absl::StrFormat(
        "no optimizer kernels are registered for device %s", DeviceName(device)));
  }
  return factory(std::move(backend));
}

}  // namespace onyx
