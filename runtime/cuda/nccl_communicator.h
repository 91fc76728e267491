// Sums device buffers over the processes of a data-parallel job with NCCL, on
// a CudaBackend's stream (so a reduction queues behind the backward pass that
// wrote its gradients). The host Communicator (MPI) carries the NCCL unique id
// from rank 0 to the others; each process drives one GPU (its local rank's,
// see CudaBackend::Create).
#pragma once

#include <memory>
#include <utility>

#include <nccl.h>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/distributed/communicator.h"

namespace onyx::cuda {

class NcclCommunicator {
 public:
  // Collective over `host`'s processes: every rank must call it. Each rank
  // first loads NCCL, selects its GPU (rank 0 also makes the unique id) and
  // all agree (an allreduce of the failures): when any failed, every rank gets
  // FailedPrecondition. A later failure (the id broadcast, ncclCommInitRank)
  // is another code, and the job must end: other ranks may wait inside NCCL.
  static absl::StatusOr<std::unique_ptr<NcclCommunicator>> Create(Communicator& host,
                                                                  CudaBackend& backend);
  ~NcclCommunicator();

  // In-place element-wise sums of each (device pointer, count), grouped into
  // one NCCL launch on the backend's stream; returns once queued.
  absl::Status AllReduceSum(absl::Span<const std::pair<float*, int64_t>> buffers);

  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  NcclCommunicator() = default;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int rank_ = 0, size_ = 1;
};

}  // namespace onyx::cuda
