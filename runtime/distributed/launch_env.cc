// Launcher detection and the build without MPI.
#include <cstdlib>

#include "runtime/distributed/communicator.h"

namespace onyx {

bool LaunchedByMpi() {
  // Open MPI's and MPICH's (PMI) launchers set these for every rank.
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
}

#ifndef ONYX_HAVE_MPI
absl::StatusOr<std::unique_ptr<Communicator>> CreateMpiCommunicator() {
  return absl::FailedPreconditionError(
      "distributed training needs MPI: this onyx was built without it (configure with "
      "-DONYX_MPI=ON after installing libopenmpi-dev)");
}
#endif

}  // namespace onyx
