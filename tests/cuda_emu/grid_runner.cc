// Runs emulated grids: blocks one after another, each block's threads as
// ucontext fibers that switch only at barriers (__syncthreads, warp shuffles).
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "tests/cuda_emu/emu_runtime.h"

namespace onyx_emu {
namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kWarp = 32;

enum class Wait { kNone, kBlockBarrier, kWarpBarrier, kExited };

struct Fiber {
  ucontext_t context;
  Wait wait = Wait::kNone;
  ThreadState state;
  unsigned exchanges = 0;  // warp exchanges joined so far
  std::array<unsigned char, 8> slot{};
};

struct Block {
  std::vector<Fiber> fibers;
  ucontext_t scheduler;
  Fiber* current = nullptr;
  void (*kernel)(const void*) = nullptr;
  const void* body = nullptr;
};

// One block runs at a time in the whole process: the kernels' __shared__
// arrays are function statics.
std::mutex grid_mutex;
Block* running = nullptr;

[[noreturn]] void Fail(const char* format, ...) {
  std::fprintf(stderr, "onyx CUDA emulator: ");
  if (running != nullptr && running->current != nullptr) {
    const ThreadState& s = running->current->state;
    std::fprintf(stderr, "block (%u,%u,%u) thread (%u,%u,%u): ", s.block.x, s.block.y, s.block.z,
                 s.thread.x, s.thread.y, s.thread.z);
  }
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::abort();
}

// Fiber stacks, each above a PROT_NONE guard page; reused by every block.
char* Stack(unsigned index) {
  static std::vector<char*> stacks;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  while (stacks.size() <= index) {
    void* memory = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) Fail("cannot map a fiber stack");
    mprotect(memory, page, PROT_NONE);
    stacks.push_back(static_cast<char*>(memory) + page);
  }
  return stacks[index];
}

void FiberMain() {
  running->kernel(running->body);
  running->current->wait = Wait::kExited;  // uc_link resumes the scheduler
}

void Yield(Wait wait) {
  Fiber* fiber = running->current;
  fiber->wait = wait;
  swapcontext(&fiber->context, &running->scheduler);
}

// Releases the barrier every live thread waits at; false when none can go on.
bool ReleaseBarriers(Block& block) {
  size_t live = 0;
  size_t at_block_barrier = 0;
  for (const Fiber& f : block.fibers) {
    live += f.wait != Wait::kExited;
    at_block_barrier += f.wait == Wait::kBlockBarrier;
  }
  if (live > 0 && at_block_barrier == live) {
    for (Fiber& f : block.fibers) {
      if (f.wait == Wait::kBlockBarrier) f.wait = Wait::kNone;
    }
    return true;
  }
  bool released = false;
  for (size_t base = 0; base < block.fibers.size(); base += kWarp) {
    const size_t end = std::min(block.fibers.size(), base + kWarp);
    size_t warp_live = 0;
    size_t waiting = 0;
    for (size_t i = base; i < end; ++i) {
      warp_live += block.fibers[i].wait != Wait::kExited;
      waiting += block.fibers[i].wait == Wait::kWarpBarrier;
    }
    if (warp_live == 0 || waiting != warp_live) continue;
    for (size_t i = base; i < end; ++i) {
      if (block.fibers[i].wait == Wait::kWarpBarrier) block.fibers[i].wait = Wait::kNone;
    }
    released = true;
  }
  return released;
}

void RunBlock(Block& block, uint3 block_index, dim3 grid, dim3 dims) {
  const unsigned threads = dims.x * dims.y * dims.z;
  block.fibers.assign(threads, Fiber{});
  for (unsigned t = 0; t < threads; ++t) {
    Fiber& f = block.fibers[t];
    f.state.thread = uint3{t % dims.x, (t / dims.x) % dims.y, t / (dims.x * dims.y)};
    f.state.block = block_index;
    f.state.block_dim = dims;
    f.state.grid_dim = grid;
    f.state.lane = t % kWarp;
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = Stack(t);
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &block.scheduler;
    makecontext(&f.context, FiberMain, 0);
  }
  // Threads run to their next barrier in turn; the turn order flips every
  // sweep (and starts flipped in odd blocks), so a thread that reads shared
  // memory another thread writes without a barrier between sees stale data
  // whichever of the two comes first.
  bool forward = (block_index.x + block_index.y + block_index.z) % 2 == 0;
  for (;; forward = !forward) {
    for (unsigned i = 0; i < threads; ++i) {
      Fiber& f = block.fibers[forward ? i : threads - 1 - i];
      if (f.wait != Wait::kNone) continue;
      block.current = &f;
      swapcontext(&block.scheduler, &f.context);
    }
    block.current = nullptr;
    bool all_exited = true;
    for (const Fiber& f : block.fibers) all_exited = all_exited && f.wait == Wait::kExited;
    if (all_exited) return;
    if (!ReleaseBarriers(block)) {
      Fail(
          "deadlock in block (%u,%u,%u): threads wait at different barriers "
          "(__syncthreads in divergent code, or a shuffle a lane skipped)",
          block_index.x, block_index.y, block_index.z);
    }
  }
}

bool ValidConfiguration(dim3 grid, dim3 block, size_t shared_bytes) {
  const unsigned long long threads = static_cast<unsigned long long>(block.x) * block.y * block.z;
  return threads >= 1 && threads <= kMaxThreadsPerBlock && block.x <= 1024 && block.y <= 1024 &&
         block.z <= 64 && grid.x >= 1 && grid.x <= 0x7fffffffu && grid.y >= 1 && grid.y <= 65535 &&
         grid.z >= 1 && grid.z <= 65535 && shared_bytes <= 48 * 1024;
}

}  // namespace

const ThreadState& Current() {
  if (running == nullptr || running->current == nullptr) Fail("thread index read outside a kernel");
  return running->current->state;
}

void SyncThreads() {
  if (running == nullptr || running->current == nullptr) Fail("__syncthreads outside a kernel");
  Yield(Wait::kBlockBarrier);
}

void WarpExchange(unsigned mask, const void* value, void* result, size_t bytes, int source) {
  if (running == nullptr || running->current == nullptr) Fail("warp shuffle outside a kernel");
  Fiber* self = running->current;
  const unsigned lane = self->state.lane;
  Fiber* warp = self - lane;
  const size_t lanes =
      std::min<size_t>(kWarp, running->fibers.data() + running->fibers.size() - warp);
  if ((mask >> lane & 1u) == 0)
    Fail("lane %u shuffles with mask 0x%08x, which leaves it out", lane, mask);
  if ((mask >> source & 1u) == 0)
    Fail("lane %u reads lane %d, outside mask 0x%08x", lane, source, mask);
  std::memcpy(self->slot.data(), value, bytes);
  const unsigned exchange = ++self->exchanges;
  Yield(Wait::kWarpBarrier);
  for (unsigned l = 0; l < kWarp; ++l) {
    if ((mask >> l & 1u) == 0) continue;
    if (l >= lanes)
      Fail("shuffle mask 0x%08x names lane %u, beyond the block's last thread", mask, l);
    if (warp[l].exchanges != exchange) {
      Fail("shuffle mask 0x%08x names lane %u, which %s", mask, l,
           warp[l].wait == Wait::kExited ? "has exited" : "is not at this shuffle");
    }
  }
  std::memcpy(result, warp[source].slot.data(), bytes);
  Yield(Wait::kWarpBarrier);  // no lane overwrites its slot before every lane has read
}

void FailHostPointerArgument(const char* kernel, int index) {
  Fail("kernel %s: argument %d is a host pointer (a GPU faults on it)", kernel, index);
}

void RunGrid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
             void (*kernel)(const void*), const void* body) {
  if (!ValidConfiguration(grid, block, shared_bytes)) {
    SetLastError(cudaErrorInvalidConfiguration);
    return;
  }
  if (!IsValidStream(stream)) {
    SetLastError(cudaErrorInvalidResourceHandle);
    return;
  }
  std::lock_guard<std::mutex> lock(grid_mutex);
  if (running != nullptr) Fail("a kernel launched from inside a kernel");
  DeviceAccess access;
  Block state;
  state.kernel = kernel;
  state.body = body;
  running = &state;
  for (unsigned z = 0; z < grid.z; ++z) {
    for (unsigned y = 0; y < grid.y; ++y) {
      for (unsigned x = 0; x < grid.x; ++x) RunBlock(state, uint3{x, y, z}, grid, block);
    }
  }
  running = nullptr;
}

}  // namespace onyx_emu
