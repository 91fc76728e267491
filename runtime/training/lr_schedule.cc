// Closed-form learning-rate schedules and the CLI spec parser.
#include "runtime/training/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace onyx {

double LearningRateAt(const LrSchedule& s, double base_lr, int64_t t) {
  t = std::max<int64_t>(t, 0);
  double lr = base_lr;
  if (s.kind == "step") {
    lr = base_lr * std::pow(s.gamma, static_cast<double>(t / s.step_size));
  } else if (s.kind == "cosine") {
    // Same operation order as torch: cos(pi * t / T_max).
    lr = s.min_lr + (base_lr - s.min_lr) *
                        (1 + std::cos(std::numbers::pi * static_cast<double>(t) /
                                      static_cast<double>(s.total_steps))) /
                        2;
  }
  if (s.warmup_steps > 0) {
    const double start = s.warmup_start_factor;
    const double factor = start + (1.0 - start) *
                                      static_cast<double>(std::min(s.warmup_steps, t)) /
                                      static_cast<double>(s.warmup_steps);
    lr *= factor;
  }
  return lr;
}

namespace {

absl::Status Bad(const std::string& spec, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "learning-rate schedule \"%s\": %s (expected e.g. constant, step:10:0.5, "
      "cosine:100[:min_lr], warmup:5[:start_factor],cosine:100)",
      spec, why));
}

}  // namespace

absl::StatusOr<LrSchedule> ParseSchedule(const std::string& spec) {
  LrSchedule s;
  bool have_main = false, have_warmup = false;
  if (spec.empty()) return Bad(spec, "empty");
  for (absl::string_view part : absl::StrSplit(spec, ',')) {
    std::vector<std::string> f = absl::StrSplit(part, ':');
    const std::string& name = f[0];
    const size_t nargs = f.size() - 1;
    if (name == "warmup") {
      if (have_warmup) return Bad(spec, "more than one warmup part");
      have_warmup = true;
      if (nargs < 1 || nargs > 2) return Bad(spec, "warmup takes STEPS[:START_FACTOR]");
      if (!absl::SimpleAtoi(f[1], &s.warmup_steps) || s.warmup_steps < 0) {
        return Bad(spec, "warmup steps must be an integer >= 0");
      }
      if (nargs == 2 && (!absl::SimpleAtod(f[2], &s.warmup_start_factor) ||
                         !(s.warmup_start_factor > 0 && s.warmup_start_factor <= 1))) {
        return Bad(spec, "warmup start factor must be in (0, 1]");
      }
      continue;
    }
    if (have_main) return Bad(spec, "more than one main schedule");
    have_main = true;
    s.kind = name;
    if (name == "constant") {
      if (nargs != 0) return Bad(spec, "constant takes no arguments");
    } else if (name == "step") {
      if (nargs != 2) return Bad(spec, "step takes STEP_SIZE:GAMMA");
      if (!absl::SimpleAtoi(f[1], &s.step_size) || s.step_size < 1) {
        return Bad(spec, "step size must be an integer >= 1");
      }
      if (!absl::SimpleAtod(f[2], &s.gamma) || !(s.gamma >= 0) || std::isinf(s.gamma)) {
        return Bad(spec, "gamma must be a finite number >= 0");
      }
    } else if (name == "cosine") {
      if (nargs < 1 || nargs > 2) return Bad(spec, "cosine takes TOTAL_STEPS[:MIN_LR]");
      if (!absl::SimpleAtoi(f[1], &s.total_steps) || s.total_steps < 1) {
        return Bad(spec, "cosine total steps must be an integer >= 1");
      }
      if (nargs == 2 && (!absl::SimpleAtod(f[2], &s.min_lr) || !(s.min_lr >= 0) ||
                         std::isinf(s.min_lr))) {
        return Bad(spec, "cosine min_lr must be a finite number >= 0");
      }
    } else {
      return Bad(spec, absl::StrFormat("unknown part \"%s\"", name));
    }
  }
  return s;
}

}  // namespace onyx
