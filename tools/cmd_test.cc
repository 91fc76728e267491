// `onyx test DIR...`: runs ONNX backend test folders, PASS/FAIL per folder and a
// closing "N passed, N failed" line.
#include <cstdio>

#include "ops/register_all.h"
#include "tools/backend_test.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace onyx {

int TestCommand(const TestArgs& args) {
  auto options = SessionOptionsForDevice(args.device);
  if (!options.ok()) return ReportError(options.status());
  options->opt_level = args.opt_level;
  options->max_memory_bytes = args.max_memory;
  int passed = 0, failed = 0;
  for (const std::string& dir : args.dirs) {
    const BackendTestResult result =
        RunBackendTest(dir, DefaultRegistry(), args.rtol, args.atol, *options);
    std::printf("%s %s: %s\n", result.passed ? "PASS" : "FAIL", dir.c_str(),
                result.detail.c_str());
    (result.passed ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace onyx
