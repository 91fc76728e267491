// Data-parallel training across processes: the collective operations the
// trainer needs, implemented on MPI (mpi_communicator.cc) when Onyx is built
// with ONYX_MPI. A single process needs no communicator at all.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace onyx {

// A reduction started by Communicator::StartAllReduceSum. Its values must stay
// alive and untouched until Wait returns (or the handle is destroyed, which waits).
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  // Lets the transfer make progress without blocking (MPI moves non-blocking
  // collectives along only inside MPI calls); true once it is complete.
  virtual absl::StatusOr<bool> Test() = 0;
  virtual absl::Status Wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Element-wise sum over all ranks, in place; every rank gets the result.
  virtual absl::Status AllReduceSum(absl::Span<float> values) = 0;
  virtual absl::Status AllReduceSum(absl::Span<double> values) = 0;
  // AllReduceSum of `values` that runs while the caller goes on computing
  // (backward, while earlier gradient buckets are reduced). Every rank must start
  // its reductions in the same order. The default reduces right away.
  virtual absl::StatusOr<std::unique_ptr<PendingReduction>> StartAllReduceSum(
      absl::Span<float> values) {
    class Done final : public PendingReduction {
     public:
      absl::StatusOr<bool> Test() override { return true; }
      absl::Status Wait() override { return absl::OkStatus(); }
    };
    if (absl::Status s = AllReduceSum(values); !s.ok()) return s;
    return std::make_unique<Done>();
  }
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
