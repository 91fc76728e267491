#include "runtime/cuda/nccl_communicator.h"

#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/cuda/nccl_api.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {

absl::StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(
    Communicator& host, CudaBackend& backend) {
  // Every step that can fail on one rank alone runs before the vote, so every
  // rank learns of it before anyone waits inside NCCL.
  ncclUniqueId id;
  absl::StatusOr<const NcclApi*> api = LoadNccl();
  absl::Status local = api.status();
  if (local.ok()) {
    local = CudaStatus(cudaSetDevice(backend.device_ordinal()), "cudaSetDevice");
  }
  if (local.ok() && host.rank() == 0) {
    local = NcclStatus((*api)->get_unique_id(&id), "ncclGetUniqueId");
  }
  double failures[1] = {local.ok() ? 0.0 : 1.0};
  ONYX_RETURN_IF_ERROR(host.AllReduceSum(absl::MakeSpan(failures)));
  if (!local.ok()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("NCCL cannot be set up here: %s", local.message()));
  }
  if (failures[0] > 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%d of %d processes cannot set up NCCL", static_cast<int>(failures[0]), host.size()));
  }
  // From here on a failure is fatal for the job (see ConnectProcesses).
  std::string id_bytes;
  if (host.rank() == 0) id_bytes.assign(reinterpret_cast<const char*>(&id), sizeof(id));
  ONYX_RETURN_IF_ERROR(host.BroadcastFromRoot(id_bytes));
  if (id_bytes.size() != sizeof(id)) {
    return absl::InternalError(absl::StrFormat("NCCL unique id of %d bytes received, expected %d",
                                               id_bytes.size(), sizeof(id)));
  }
  std::memcpy(&id, id_bytes.data(), sizeof(id));
  std::unique_ptr<NcclCommunicator> comm(new NcclCommunicator());
  comm->rank_ = host.rank();
  comm->size_ = host.size();
  comm->stream_ = backend.stream();
  ONYX_RETURN_IF_ERROR(NcclStatus(
      (*api)->comm_init_rank(&comm->comm_, host.size(), id, host.rank()), "ncclCommInitRank"));
  return comm;
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_ != nullptr) (*LoadNccl())->comm_destroy(comm_);
}

absl::Status NcclCommunicator::AllReduceSum(
    absl::Span<const std::pair<float*, int64_t>> buffers) {
  ONYX_ASSIGN_OR_RETURN(const NcclApi* api, LoadNccl());
  ONYX_RETURN_IF_ERROR(NcclStatus(api->group_start(), "ncclGroupStart"));
  absl::Status status;
  for (const auto& [values, count] : buffers) {
    if (count == 0) continue;
    status = NcclStatus(api->all_reduce(values, values, static_cast<size_t>(count), ncclFloat,
                                        ncclSum, comm_, stream_),
                        "ncclAllReduce");
    if (!status.ok()) break;
  }
  // The group is closed whatever happened, so NCCL is left in a usable state.
  const absl::Status ended = NcclStatus(api->group_end(), "ncclGroupEnd");
  return status.ok() ? ended : status;
}

}  // namespace onyx::cuda
