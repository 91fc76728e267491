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
  absl::StatusOr<const NcclApi*> api = LoadNccl();
  // Every rank learns whether any rank failed before anyone waits inside NCCL.
  double failures[1] = {api.ok() ? 0.0 : 1.0};
  ONYX_RETURN_IF_ERROR(host.AllReduceSum(absl::MakeSpan(failures)));
  if (!api.ok()) return api.status();
  if (failures[0] > 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%d of %d processes cannot load NCCL", static_cast<int>(failures[0]), host.size()));
  }
  std::string id_bytes;
  ncclUniqueId id;
  if (host.rank() == 0) {
    ONYX_RETURN_IF_ERROR(NcclStatus((*api)->get_unique_id(&id), "ncclGetUniqueId"));
    id_bytes.assign(reinterpret_cast<const char*>(&id), sizeof(id));
  }
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
  ONYX_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(backend.device_ordinal()), "cudaSetDevice"));
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
