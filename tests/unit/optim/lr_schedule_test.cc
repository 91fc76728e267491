// Learning-rate schedules against torch.optim.lr_scheduler, and the spec parser.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training/lr_schedule.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {

// Reference numbers: /usr/bin/python3 with Debian's python3-torch ran
//
//   import torch
//   from torch.optim import lr_scheduler as S
//   def run(make, n=16):
//       opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
//       sch = make(opt)
//       out = []
//       for t in range(n):
//           out.append(opt.param_groups[0]["lr"])
//           opt.step(); sch.step()
//       return out
//   CASES = [
//       ("step:3:0.5", lambda o: S.StepLR(o, 3, 0.5)),
//       ("cosine:10:0.001", lambda o: S.CosineAnnealingLR(o, 10, 0.001)),
//       ("warmup:5", lambda o: S.LinearLR(o, total_iters=5)),
//       ("warmup:4:0.25,step:3:0.5", lambda o: S.ChainedScheduler([S.LinearLR(o, 0.25, total_iters=4), S.StepLR(o, 3, 0.5)])),
//       ("warmup:5,cosine:20", lambda o: S.ChainedScheduler([S.LinearLR(o, total_iters=5), S.CosineAnnealingLR(o, 20)])),
//   ]
//   for spec, make in CASES:
//       print('  {"%s", {%s}},' % (spec, ", ".join("%.17g" % x for x in run(make))))
//
// (the lr the optimizer holds before each of 16 steps, base lr 0.1).
struct Case {
  const char* spec;
  std::vector<double> lrs;
};

const Case kCases[] = {
  {"step:3:0.5", {0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.050000000000000003, 0.050000000000000003, 0.050000000000000003, 0.025000000000000001, 0.025000000000000001, 0.025000000000000001, 0.012500000000000001, 0.012500000000000001, 0.012500000000000001, 0.0062500000000000003, 0.0062500000000000003, 0.0062500000000000003, 0.0031250000000000002}},
  {"cosine:10:0.001", {0.10000000000000001, 0.097577297556610113, 0.090546341221559898, 0.079595369988477424, 0.065796341221559904, 0.050500000000000003, 0.03520365877844011, 0.021404630011522589, 0.010453658778440109, 0.0034227024433899004, 0.001, 0.0034227024433899004, 0.01045365877844014, 0.021404630011522669, 0.035203658778440255, 0.050500000000000218}},
  {"warmup:5", {0.033333333333333333, 0.046666666666666669, 0.060000000000000005, 0.073333333333333348, 0.086666666666666684, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.10000000000000001}},
  {"warmup:4:0.25,step:3:0.5", {0.025000000000000001, 0.043750000000000004, 0.062500000000000014, 0.040625000000000008, 0.05000000000000001, 0.05000000000000001, 0.025000000000000005, 0.025000000000000005, 0.025000000000000005, 0.012500000000000002, 0.012500000000000002, 0.012500000000000002, 0.0062500000000000012, 0.0062500000000000012, 0.0062500000000000012, 0.0031250000000000006}},
  {"warmup:5,cosine:20", {0.033333333333333333, 0.04637939461388655, 0.058531695488854618, 0.06933690588690683, 0.078390736422914414, 0.085355339059327393, 0.079389262614623674, 0.072699524986977349, 0.065450849718747386, 0.057821723252011563, 0.05000000000000001, 0.042178276747988477, 0.03454915028125264, 0.027300475013022667, 0.020610737385376353, 0.014644660940672629}},
};

TEST(LrScheduleTest, MatchesTorchSchedulers) {
  for (const Case& c : kCases) {
    ASSERT_OK_AND_ASSIGN(LrSchedule s, ParseSchedule(c.spec));
    for (size_t t = 0; t < c.lrs.size(); ++t) {
      // torch steps the cosine and warm-up recursively; the closed form agrees
      // to rounding.
      EXPECT_NEAR(LearningRateAt(s, 0.1, static_cast<int64_t>(t)), c.lrs[t], 1e-13)
          << c.spec << " t=" << t;
    }
  }
}

TEST(LrScheduleTest, ConstantAndClosedForms) {
  ASSERT_OK_AND_ASSIGN(LrSchedule constant, ParseSchedule("constant"));
  EXPECT_EQ(constant.kind, "constant");
  EXPECT_EQ(LearningRateAt(constant, 0.25, 0), 0.25);
  EXPECT_EQ(LearningRateAt(constant, 0.25, 1000), 0.25);

  ASSERT_OK_AND_ASSIGN(LrSchedule cosine, ParseSchedule("cosine:100"));
  EXPECT_EQ(cosine.total_steps, 100);
  EXPECT_EQ(cosine.min_lr, 0.0);
  EXPECT_NEAR(LearningRateAt(cosine, 1.0, 50), 0.5, 1e-15);  // cos(pi/2) = 0
  EXPECT_NEAR(LearningRateAt(cosine, 1.0, 100), 0.0, 1e-15);

  ASSERT_OK_AND_ASSIGN(LrSchedule step, ParseSchedule("step:10:0.5"));
  EXPECT_EQ(step.step_size, 10);
  EXPECT_EQ(step.gamma, 0.5);
  EXPECT_EQ(LearningRateAt(step, 1.0, 9), 1.0);
  EXPECT_EQ(LearningRateAt(step, 1.0, 10), 0.5);
  EXPECT_EQ(LearningRateAt(step, 1.0, 35), 0.125);

  ASSERT_OK_AND_ASSIGN(LrSchedule warm, ParseSchedule("warmup:4:0.2,cosine:10:0.1"));
  EXPECT_EQ(warm.kind, "cosine");
  EXPECT_EQ(warm.warmup_steps, 4);
  EXPECT_EQ(warm.warmup_start_factor, 0.2);
  EXPECT_EQ(warm.min_lr, 0.1);
  // t = 2: factor 0.2 + 0.8 * 2 / 4 = 0.6; cosine 0.1 + 0.9 * (1 + cos(0.2 pi)) / 2.
  EXPECT_NEAR(LearningRateAt(warm, 1.0, 2),
              0.6 * (0.1 + 0.9 * (1 + 0.80901699437494745) / 2), 1e-15);
}

TEST(LrScheduleTest, RejectsBadSpecs) {
  for (const char* spec : {"", "linear", "step:10", "step:0:0.5", "step:10:-1", "step:x:0.5",
                           "cosine", "cosine:0", "cosine:10:-1", "cosine:10:1:2",
                           "warmup:-1", "warmup:5:0", "warmup:5:1.5", "constant:3",
                           "step:10:0.5,cosine:10", "warmup:1,warmup:2,constant"}) {
    auto s = ParseSchedule(spec);
    EXPECT_FALSE(s.ok()) << spec;
    if (!s.ok()) {
      EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    }
  }
}

}  // namespace
}  // namespace onyx
