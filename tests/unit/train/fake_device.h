// A stand-in device for testing device-resident training without a GPU: its
// "device memory" is host memory holding every byte XOR 0x5A (so host code
// that reads it without a copy gets garbage and the test fails), and optimizer
// kernels for it over update_math.h.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "runtime/device_backend.h"
#include "runtime/op_registry.h"
#include "runtime/training/device_kernels.h"
#include "runtime/training/update_math.h"

namespace onyx::train_test {

inline constexpr unsigned char kScramble = 0x5A;

inline void CopyScrambled(void* dst, const void* src, size_t bytes) {
  const auto* s = static_cast<const unsigned char*>(src);
  auto* d = static_cast<unsigned char*>(dst);
  for (size_t i = 0; i < bytes; ++i) d[i] = s[i] ^ kScramble;
}

class FakeDevice final : public DeviceBackend {
 public:
  Device device() const override { return Device::kCuda; }
  absl::StatusOr<Tensor> Allocate(DataType dtype, Shape shape, int64_t max_bytes) override {
    const size_t bytes = static_cast<size_t>(NumElements(shape)) * DataTypeSize(dtype);
    if (static_cast<int64_t>(bytes) > max_bytes) return absl::ResourceExhaustedError("too big");
    std::shared_ptr<std::byte> buffer(new std::byte[std::max<size_t>(bytes, 8)],
                                      std::default_delete<std::byte[]>());
    return Tensor::FromBuffer(dtype, std::move(shape), std::move(buffer), /*on_device=*/true);
  }
  absl::StatusOr<Tensor> ToDevice(const Tensor& host) override {
    if (host.on_device()) return absl::InternalError("ToDevice of a device tensor");
    auto t = Allocate(host.dtype(), host.shape(), kDefaultMaxTensorBytes);
    if (!t.ok()) return t.status();
    CopyScrambled(t->raw_data(), host.raw_data(), host.byte_size());
    ++to_device;
    return t;
  }
  absl::StatusOr<Tensor> ToHost(const Tensor& device) override {
    if (!device.on_device()) return absl::InternalError("ToHost of a host tensor");
    auto t = Tensor::Uninitialized(device.dtype(), device.shape());
    if (!t.ok()) return t.status();
    CopyScrambled(t->raw_data(), device.raw_data(), device.byte_size());
    ++to_host;
    return t;
  }
  absl::Status Synchronize() override { return absl::OkStatus(); }

  int64_t to_device = 0, to_host = 0;
};

// The DeviceTrainingKernels of FakeDevice: unscramble, the same update_math.h
// functor the CPU optimizer calls, scramble back.
class FakeKernels final : public DeviceTrainingKernels {
 public:
  // `join`: what ConnectProcesses answers (OK: the stand-in collective below;
  // Unimplemented: a device without collectives; anything else: a failure).
  explicit FakeKernels(std::shared_ptr<DeviceBackend> device,
                       absl::Status join = absl::OkStatus())
      : device_(std::move(device)), join_(std::move(join)) {}
  DeviceBackend& backend() override { return *device_; }

  absl::Status Sgd(const update_math::MomentumCoeffs<float>& c, bool momentum, bool nesterov,
                   float* x, const float* g, float* v, int64_t n) override {
    auto X = Load(x, n), G = Load(g, n), V = Load(v, n);
    for (int64_t i = 0; i < n; ++i) {
      float unused = 0;
      if (!momentum) {
        update_math::MomentumUpdate<false, false>(c, X[i], G[i], unused);
      } else if (nesterov) {
        update_math::MomentumUpdate<true, true>(c, X[i], G[i], V[i]);
      } else {
        update_math::MomentumUpdate<true, false>(c, X[i], G[i], V[i]);
      }
    }
    Store(x, X);
    Store(v, V);
    return absl::OkStatus();
  }
  absl::Status Adam(const update_math::AdamCoeffs<float>& c, bool amsgrad, float* x,
                    const float* g, float* m, float* v, float* vmax, int64_t n) override {
    auto X = Load(x, n), G = Load(g, n), M = Load(m, n), V = Load(v, n), Vmax = Load(vmax, n);
    for (int64_t i = 0; i < n; ++i) {
      float unused = 0;
      if (amsgrad) {
        update_math::AdamUpdate<true>(c, X[i], G[i], M[i], V[i], Vmax[i]);
      } else {
        update_math::AdamUpdate<false>(c, X[i], G[i], M[i], V[i], unused);
      }
    }
    Store(x, X);
    Store(m, M);
    Store(v, V);
    Store(vmax, Vmax);
    return absl::OkStatus();
  }
  absl::Status Rmsprop(const update_math::RmspropCoeffs<float>& c, bool centered, bool momentum,
                       float* x, const float* g, float* sq, float* ga, float* buf,
                       int64_t n) override {
    auto X = Load(x, n), G = Load(g, n), Sq = Load(sq, n), Ga = Load(ga, n), B = Load(buf, n);
    for (int64_t i = 0; i < n; ++i) {
      float u1 = 0, u2 = 0;
      if (centered && momentum) {
        update_math::RmspropUpdate<true, true>(c, X[i], G[i], Sq[i], Ga[i], B[i]);
      } else if (centered) {
        update_math::RmspropUpdate<true, false>(c, X[i], G[i], Sq[i], Ga[i], u2);
      } else if (momentum) {
        update_math::RmspropUpdate<false, true>(c, X[i], G[i], Sq[i], u1, B[i]);
      } else {
        update_math::RmspropUpdate<false, false>(c, X[i], G[i], Sq[i], u1, u2);
      }
    }
    Store(x, X);
    Store(sq, Sq);
    Store(ga, Ga);
    Store(buf, B);
    return absl::OkStatus();
  }
  absl::Status Adagrad(const update_math::AdagradCoeffs<float>& c, float* x, const float* g,
                       float* h, int64_t n) override {
    auto X = Load(x, n), G = Load(g, n), H = Load(h, n);
    for (int64_t i = 0; i < n; ++i) update_math::AdagradUpdate(c, X[i], G[i], H[i]);
    Store(x, X);
    Store(h, H);
    return absl::OkStatus();
  }
  absl::Status Scale(float* y, const float* x, float alpha, int64_t n) override {
    auto X = Load(x, n);
    for (float& v : X) v = alpha * v;
    Store(y, X);
    return absl::OkStatus();
  }
  absl::Status AddScaled(float* acc, const float* x, float alpha, int64_t n) override {
    auto A = Load(acc, n), X = Load(x, n);
    for (int64_t i = 0; i < n; ++i) A[i] = A[i] + alpha * X[i];
    Store(acc, A);
    return absl::OkStatus();
  }
  absl::Status Zero(float* x, int64_t n) override {
    Store(x, std::vector<float>(n, 0.f));
    return absl::OkStatus();
  }
  // The "device collective" of the stand-in: the host communicator itself.
  absl::Status ConnectProcesses(Communicator& comm) override {
    if (!join_.ok()) return join_;
    comm_ = &comm;
    return absl::OkStatus();
  }
  absl::Status AllReduceSum(absl::Span<const std::pair<float*, int64_t>> buffers) override {
    if (comm_ == nullptr) return absl::FailedPreconditionError("not connected");
    for (const auto& [p, n] : buffers) {
      auto v = Load(p, n);
      if (absl::Status s = comm_->AllReduceSum(absl::MakeSpan(v)); !s.ok()) return s;
      Store(p, v);
    }
    ++reductions;
    return absl::OkStatus();
  }
  absl::StatusOr<double> SumSquares(absl::Span<const Tensor* const> xs) override {
    double sum = 0;
    for (const Tensor* t : xs) {
      if (!t->on_device()) return absl::InternalError("SumSquares of a host tensor");
      double s = 0;
      for (float v : Load(t->data<float>(), t->num_elements())) s += static_cast<double>(v) * v;
      sum += s;
    }
    return sum;
  }

  int64_t reductions = 0;

 private:
  static std::vector<float> Load(const float* p, int64_t n) {
    std::vector<float> v(p != nullptr ? n : 0);
    if (p != nullptr) CopyScrambled(v.data(), p, n * sizeof(float));
    return v;
  }
  static void Store(float* p, const std::vector<float>& v) {
    if (p != nullptr) CopyScrambled(p, v.data(), v.size() * sizeof(float));
  }

  std::shared_ptr<DeviceBackend> device_;
  absl::Status join_;
  Communicator* comm_ = nullptr;
};

// Registers FakeKernels as the kCuda training kernels of this process (the
// test binaries that use it never build CUDA sessions).
inline void UseFakeKernels(absl::Status join = absl::OkStatus()) {
  RegisterDeviceTrainingKernels(
      Device::kCuda, [join](std::shared_ptr<DeviceBackend> backend)
                         -> absl::StatusOr<std::unique_ptr<DeviceTrainingKernels>> {
        return std::unique_ptr<DeviceTrainingKernels>(
            new FakeKernels(std::move(backend), join));
      });
}

}  // namespace onyx::train_test
