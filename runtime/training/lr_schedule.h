// Learning-rate schedules in the closed forms of torch.optim.lr_scheduler:
// StepLR, CosineAnnealingLR and a LinearLR warm-up that multiplies either.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace onyx {

struct LrSchedule {
  std::string kind = "constant";  // "constant" | "step" | "cosine"
  // step: lr = base_lr * gamma^floor(t / step_size)          (torch StepLR)
  int64_t step_size = 1;
  double gamma = 0.1;
  // cosine: lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * t / total_steps)) / 2
  // (torch CosineAnnealingLR closed form, T_max = total_steps, eta_min = min_lr;
  // like torch it is not clamped: past T_max the cosine rises again).
  int64_t total_steps = 1;
  double min_lr = 0;
  // Linear warm-up factor, multiplied into the schedule above (torch LinearLR
  // with end_factor 1, total_iters = warmup_steps):
  //   f(t) = s + (1 - s) * min(t, warmup_steps) / warmup_steps,  s = warmup_start_factor
  // 0 warm-up steps = none. The default s = 1/3 is torch LinearLR's default.
  int64_t warmup_steps = 0;
  double warmup_start_factor = 1.0 / 3;
};

// The learning rate for step (or epoch) `t` >= 0: the lr torch's scheduler
// holds after `t` calls of scheduler.step(). Warm-up composes by product,
// which is what torch's ChainedScheduler([LinearLR, StepLR]) gives, and
// ChainedScheduler([LinearLR, CosineAnnealingLR]) when min_lr is 0.
double LearningRateAt(const LrSchedule& schedule, double base_lr, int64_t t);

// Parses a CLI schedule spec. Grammar (no spaces):
//   spec    := part ("," part)*       at most one warm-up and one main part
//   part    := "constant"
//            | "step:" STEP_SIZE ":" GAMMA          e.g. step:10:0.5
//            | "cosine:" TOTAL_STEPS [":" MIN_LR]   e.g. cosine:100, cosine:100:1e-5
//            | "warmup:" STEPS [":" START_FACTOR]   e.g. warmup:5, warmup:5:0.01
// Examples: "constant", "step:10:0.5", "warmup:5,cosine:100". A lone warm-up
// means warm-up then constant. InvalidArgument (quoting the spec) for unknown
// parts, bad numbers, step_size or total_steps < 1, gamma or min_lr < 0,
// warm-up steps < 0 or a start factor outside (0, 1].
absl::StatusOr<LrSchedule> ParseSchedule(const std::string& spec);

}  // namespace onyx
