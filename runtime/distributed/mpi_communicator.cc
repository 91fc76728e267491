// Communicator on MPI (Open MPI from Debian). Collectives run on MPI_COMM_WORLD;
// errors return a Status naming the operation instead of MPI's default abort.
#include <mpi.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "runtime/distributed/communicator.h"

namespace onyx {
namespace {

absl::Status Check(int code, const char* what) {
  if (code == MPI_SUCCESS) return absl::OkStatus();
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return absl::UnavailableError(absl::StrFormat("MPI %s failed: %s", what, text));
}

// Non-blocking allreduce in chunks of at most 2^30 elements (MPI counts are int).
class MpiPendingReduction final : public PendingReduction {
 public:
  explicit MpiPendingReduction(std::vector<MPI_Request> requests)
      : requests_(std::move(requests)) {}
  // The buffer belongs to the caller: never let it go while MPI still writes it.
  ~MpiPendingReduction() override { (void)Wait(); }
  absl::StatusOr<bool> Test() override {
    int done = 0;
    if (absl::Status s = Check(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(),
                                           &done, MPI_STATUSES_IGNORE),
                               "allreduce (test)");
        !s.ok()) {
      return s;
    }
    return done != 0;
  }
  absl::Status Wait() override {
    if (requests_.empty()) return absl::OkStatus();
    absl::Status s = Check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(),
                                       MPI_STATUSES_IGNORE),
                           "allreduce (wait)");
    requests_.clear();
    return s;
  }

 private:
  std::vector<MPI_Request> requests_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  absl::Status AllReduceSum(absl::Span<float> values) override {
    return Check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                               MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
                 "allreduce");
  }
  absl::Status AllReduceSum(absl::Span<double> values) override {
    return Check(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()),
                               MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                 "allreduce");
  }
  absl::StatusOr<std::unique_ptr<PendingReduction>> StartAllReduceSum(
      absl::Span<float> values) override {
    constexpr size_t kChunk = size_t{1} << 30;
    std::vector<MPI_Request> requests;
    for (size_t offset = 0; offset < values.size(); offset += kChunk) {
      const int count = static_cast<int>(std::min(kChunk, values.size() - offset));
      MPI_Request request;
      absl::Status s = Check(MPI_Iallreduce(MPI_IN_PLACE, values.data() + offset, count,
                                            MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
                             "allreduce (start)");
      if (!s.ok()) {
        MpiPendingReduction started(std::move(requests));  // waits for the chunks in flight
        return s;
      }
      requests.push_back(request);
    }
    return std::make_unique<MpiPendingReduction>(std::move(requests));
  }
  absl::Status BroadcastFromRoot(std::string& bytes) override {
    long long size = static_cast<long long>(bytes.size());
    if (absl::Status s = Check(MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "broadcast");
        !s.ok()) {
      return s;
    }
    bytes.resize(static_cast<size_t>(size));
    // MPI counts are int: send in chunks so models over 2 GiB work too.
    constexpr long long kChunk = 1 << 30;
    for (long long offset = 0; offset < size; offset += kChunk) {
      const int count = static_cast<int>(std::min(kChunk, size - offset));
      if (absl::Status s = Check(MPI_Bcast(bytes.data() + offset, count, MPI_BYTE, 0,
                                           MPI_COMM_WORLD),
                                 "broadcast");
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  [[noreturn]] void Abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::exit(exit_code);
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Communicator>> CreateMpiCommunicator() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized && MPI_Init(nullptr, nullptr) != MPI_SUCCESS) {
    return absl::UnavailableError("MPI_Init failed: is this run under mpirun?");
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::make_unique<MpiCommunicator>();
}

}  // namespace onyx
