// The emulated device arena's allocator (emu_runtime.h has the access rules).
#pragma once

#include <cstddef>

namespace onyx_emu {

// A fresh device allocation (never a reused address); nullptr when the
// reserved range is exhausted.
void* AllocateDevice(size_t bytes);

// Frees an allocation AllocateDevice returned; false for any other pointer.
bool FreeDevice(void* pointer);

// Whether `pointer` lies in the device address range, live or not.
bool InDeviceAddressRange(const void* pointer);

}  // namespace onyx_emu
