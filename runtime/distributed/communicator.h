// Data-parallel training across processes: the collective operations the
// trainer needs, implemented on MPI (mpi_communicator.cc) when Onyx is built
// with ONYX_MPI. A single process needs no communicator at all.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace onyx {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sum over all ranks, in place; every rank gets the result.
  virtual absl::Status AllReduceSum(absl::Span<float> values) = 0;
  virtual absl::Status AllReduceSum(absl::Span<double> values) = 0;
  // Rank 0's `bytes` replace every other rank's.
  virtual absl::Status BroadcastFromRoot(std::string& bytes) = 0;
  // Ends every rank of the job (a rank that fails must not leave others waiting).
  [[noreturn]] virtual void Abort(int exit_code) = 0;
};

// True when this process was started by an MPI launcher (mpirun sets its
// environment), so `onyx train` goes distributed without being told.
bool LaunchedByMpi();

// Joins the MPI job (MPI_Init on first use). FailedPrecondition naming the
// build option when this onyx was built without MPI.
absl::StatusOr<std::unique_ptr<Communicator>> CreateMpiCommunicator();

}  // namespace onyx
