// Training checkpoints: parameters, optimizer state, epoch, step and RNG state in
// one file, written to a temporary file, fsynced and renamed, so a crash at any
// moment leaves the previous checkpoint intact. A checksum guards against
// truncation and corruption.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/tensor.h"

namespace onyx {

struct Checkpoint {
  int64_t epoch = 0;           // completed epochs
  int64_t optimizer_step = 0;  // optimizer updates so far
  std::string rng_state;       // std::mt19937_64 state as text
  // Mid-epoch position (--checkpoint-every): micro-batches of epoch+1 already
  // done, their summed loss, and the RNG state that epoch's shuffle started
  // from, so a resume redraws the same order and skips what was done.
  int64_t epoch_micro_batches = 0;
  int64_t epoch_batch_rows = 0;  // rows per micro-batch over all ranks, when saved
  double epoch_loss_sum = 0;
  std::string epoch_rng_state;
  std::vector<std::pair<std::string, Tensor>> tensors;  // "param/NAME", "state/NAME"
};

absl::Status WriteCheckpoint(const Checkpoint& checkpoint, const std::string& path);
// The file's bytes, and back (`path` names the source in errors).
std::string SerializeCheckpoint(const Checkpoint& checkpoint);
absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& bytes, const std::string& path);
// InvalidArgument naming the path for a file that is not a checkpoint, is
// truncated or fails its checksum.
absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path);

// Writes `bytes` to `path` atomically: PATH.tmp, fsync, rename, fsync the folder.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace onyx
