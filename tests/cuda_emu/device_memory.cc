// The emulated device memory: one reserved address range, PROT_NONE while host
// code runs. Allocations are page-aligned bump allocations that are never
// reused, so a freed pointer never aliases a newer allocation, and they start
// filled with 0xff bytes.
#include "tests/cuda_emu/device_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "tests/cuda_emu/emu_runtime.h"

namespace onyx_emu {
namespace {

constexpr size_t kReservedBytes = size_t{1} << 40;  // address space only; pages commit on use

struct Arena {
  std::mutex mutex;
  char* base = nullptr;
  size_t used = 0;
  int open = 0;                      // live DeviceAccess scopes
  std::map<uintptr_t, size_t> live;  // allocation start -> bytes
};

Arena& GetArena() {
  static Arena* arena = [] {
    auto* a = new Arena;
    void* memory = mmap(nullptr, kReservedBytes, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (memory == MAP_FAILED) {
      std::fprintf(stderr, "onyx CUDA emulator: cannot reserve the device address range\n");
      std::abort();
    }
    a->base = static_cast<char*>(memory);
    return a;
  }();
  return *arena;
}

size_t PageRound(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

}  // namespace

void* AllocateDevice(size_t bytes) {
  Arena& arena = GetArena();
  std::lock_guard<std::mutex> lock(arena.mutex);
  const size_t rounded = PageRound(bytes == 0 ? 1 : bytes);
  if (rounded > kReservedBytes - arena.used) return nullptr;
  char* pointer = arena.base + arena.used;
  arena.used += rounded;
  // Fresh device memory holds garbage on a GPU; here every byte is 0xff (a NaN
  // in every float, -1 in every integer), so a kernel that reads what nobody
  // wrote shows it instead of reading zeros.
  mprotect(pointer, rounded, PROT_READ | PROT_WRITE);
  std::memset(pointer, 0xff, rounded);
  if (arena.open == 0) mprotect(pointer, rounded, PROT_NONE);
  arena.live[reinterpret_cast<uintptr_t>(pointer)] = bytes;
  return pointer;
}

bool FreeDevice(void* pointer) {
  Arena& arena = GetArena();
  std::lock_guard<std::mutex> lock(arena.mutex);
  auto it = arena.live.find(reinterpret_cast<uintptr_t>(pointer));
  if (it == arena.live.end()) return false;
  const size_t rounded = PageRound(it->second == 0 ? 1 : it->second);
  arena.live.erase(it);
  // The pages go back to the system and stay PROT_NONE: a later use faults.
  mmap(pointer, rounded, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return true;
}

bool InDeviceAddressRange(const void* pointer) {
  Arena& arena = GetArena();
  const char* p = static_cast<const char*>(pointer);
  return p >= arena.base && p < arena.base + kReservedBytes;
}

bool IsDeviceRange(const void* pointer, size_t bytes) {
  Arena& arena = GetArena();
  std::lock_guard<std::mutex> lock(arena.mutex);
  const auto address = reinterpret_cast<uintptr_t>(pointer);
  auto it = arena.live.upper_bound(address);
  if (it == arena.live.begin()) return false;
  --it;
  return address - it->first <= it->second && bytes <= it->second - (address - it->first);
}

DeviceAccess::DeviceAccess() {
  Arena& arena = GetArena();
  std::lock_guard<std::mutex> lock(arena.mutex);
  if (arena.open++ == 0 && arena.used > 0) {
    mprotect(arena.base, arena.used, PROT_READ | PROT_WRITE);
    // Freed ranges were remapped PROT_NONE; opening the arena must not revive them.
    size_t end = 0;
    for (const auto& [start, bytes] : arena.live) {
      const size_t offset = start - reinterpret_cast<uintptr_t>(arena.base);
      if (offset > end) mprotect(arena.base + end, offset - end, PROT_NONE);
      end = offset + PageRound(bytes == 0 ? 1 : bytes);
    }
    if (end < arena.used) mprotect(arena.base + end, arena.used - end, PROT_NONE);
  }
}

DeviceAccess::~DeviceAccess() {
  Arena& arena = GetArena();
  std::lock_guard<std::mutex> lock(arena.mutex);
  if (--arena.open == 0 && arena.used > 0) mprotect(arena.base, arena.used, PROT_NONE);
}

}  // namespace onyx_emu
