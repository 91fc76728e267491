// DeviceBackend: what a session needs from a non-CPU device (memory, copies at
// the graph boundary, ordering), kept free of any vendor header so the core
// builds without CUDA. runtime/cuda/ implements it.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/tensor.h"

namespace onyx {

enum class Device;

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  virtual Device device() const = 0;
  // Uninitialized device tensor (Tensor::on_device() is true).
  virtual absl::StatusOr<Tensor> Allocate(DataType dtype, Shape shape, int64_t max_bytes) = 0;
  // Host -> device and device -> host copies. ToHost waits for the copy (and so
  // for every kernel queued before it).
  virtual absl::StatusOr<Tensor> ToDevice(const Tensor& host) = 0;
  virtual absl::StatusOr<Tensor> ToHost(const Tensor& device) = 0;
  // Waits for all queued work; reports asynchronous kernel failures.
  virtual absl::Status Synchronize() = 0;
};

}  // namespace onyx
