// The NCCL entry points Onyx opens (runtime/cuda/nccl_api.h), emulated on the
// host and built as libnccl.so.<major> beside the emulated runtime. Ranks meet
// in a POSIX shared-memory segment named by the unique id, so they may be
// threads of one process or processes under mpirun. An all-reduce copies each
// rank's chunk into the segment, waits for every rank, then sums the chunks in
// rank order: every rank gets the same bits.
#include <fcntl.h>
#include <nccl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "tests/cuda_emu/emu_runtime.h"

namespace {

constexpr size_t kChunkFloats = size_t{1} << 18;  // 1 MiB per rank per round
constexpr auto kTimeout = std::chrono::seconds(120);

// The start of the shared segment; each rank's chunk follows.
struct Header {
  std::atomic<unsigned> arrived;
  std::atomic<unsigned> generation;
};
static_assert(std::atomic<unsigned>::is_always_lock_free, "the barrier spans processes");

}  // namespace

struct ncclComm {
  Header* header = nullptr;
  float* chunks = nullptr;  // nranks x kChunkFloats
  size_t bytes = 0;
  int nranks = 0;
  int rank = 0;
};

namespace {

size_t SegmentBytes(int nranks) { return sizeof(Header) + nranks * kChunkFloats * sizeof(float); }

// Waits until every rank has arrived; false after kTimeout (a rank died).
bool Barrier(ncclComm& comm) {
  Header& h = *comm.header;
  const unsigned generation = h.generation.load(std::memory_order_acquire);
  if (h.arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<unsigned>(comm.nranks)) {
    h.arrived.store(0, std::memory_order_relaxed);
    h.generation.fetch_add(1, std::memory_order_release);
    return true;
  }
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (h.generation.load(std::memory_order_acquire) == generation) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    sched_yield();
  }
  return true;
}

}  // namespace

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (id == nullptr) return ncclInvalidArgument;
  std::memset(id->internal, 0, sizeof(id->internal));
  std::snprintf(
      id->internal, sizeof(id->internal), "/onyx-nccl-emu-%d-%llx", getpid(),
      static_cast<unsigned long long>(std::random_device{}()) << 32 | std::random_device{}());
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* out, int nranks, ncclUniqueId id, int rank) {
  if (out == nullptr || nranks < 1 || rank < 0 || rank >= nranks ||
      std::strncmp(id.internal, "/onyx-nccl-emu-", 15) != 0) {
    return ncclInvalidArgument;
  }
  auto* comm = new ncclComm;
  comm->nranks = nranks;
  comm->rank = rank;
  comm->bytes = SegmentBytes(nranks);
  const int fd = shm_open(id.internal, O_CREAT | O_RDWR, 0600);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(comm->bytes)) != 0) {
    if (fd >= 0) close(fd);
    delete comm;
    return ncclSystemError;
  }
  void* memory = mmap(nullptr, comm->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (memory == MAP_FAILED) {
    delete comm;
    return ncclSystemError;
  }
  comm->header = static_cast<Header*>(memory);
  comm->chunks = reinterpret_cast<float*>(static_cast<char*>(memory) + sizeof(Header));
  const bool joined = Barrier(*comm);
  shm_unlink(id.internal);  // every rank has it mapped (or one never came)
  if (!joined) {
    munmap(memory, comm->bytes);
    delete comm;
    return ncclSystemError;
  }
  *out = comm;
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (comm == nullptr) return ncclInvalidArgument;
  munmap(comm->header, comm->bytes);
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* send, void* receive, size_t count, ncclDataType_t type,
                           ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  if (comm == nullptr || type != ncclFloat || op != ncclSum) return ncclInvalidArgument;
  if (!onyx_emu::IsValidStream(stream)) return ncclInvalidArgument;
  if (count == 0) return ncclSuccess;
  if (!onyx_emu::IsDeviceRange(send, count * sizeof(float)) ||
      !onyx_emu::IsDeviceRange(receive, count * sizeof(float))) {
    std::fprintf(stderr, "onyx CUDA emulator: ncclAllReduce: a buffer is not device memory\n");
    std::abort();
  }
  onyx_emu::DeviceAccess access;
  const float* in = static_cast<const float*>(send);
  float* out = static_cast<float*>(receive);
  float* mine = comm->chunks + comm->rank * kChunkFloats;
  for (size_t begin = 0; begin < count; begin += kChunkFloats) {
    const size_t n = std::min(kChunkFloats, count - begin);
    std::memcpy(mine, in + begin, n * sizeof(float));
    if (!Barrier(*comm)) return ncclSystemError;
    for (size_t i = 0; i < n; ++i) {
      float sum = 0.f;
      for (int r = 0; r < comm->nranks; ++r) sum += comm->chunks[r * kChunkFloats + i];
      out[begin + i] = sum;
    }
    if (!Barrier(*comm)) return ncclSystemError;  // no rank overwrites a chunk still being read
  }
  return ncclSuccess;
}

// Calls complete when made, so a group has nothing to defer.
ncclResult_t ncclGroupStart() { return ncclSuccess; }
ncclResult_t ncclGroupEnd() { return ncclSuccess; }

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclSystemError: return "unhandled system error (emulated NCCL: a rank did not come)";
    case ncclInvalidArgument: return "invalid argument";
    default: return "unknown NCCL result";
  }
}
