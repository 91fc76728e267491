// The conformance data (../shared/onnx-tests) and the list of folders that must
// pass, shared by the CPU and CUDA conformance tests.
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace onyx::conformance {

inline const std::filesystem::path kDataDir = ONYX_ONNX_TESTS_DIR;
inline const std::filesystem::path kListDir =
    std::filesystem::path(ONYX_SOURCE_DIR) / "tests" / "conformance";

// Every folder of the data (node/... and simple/...) holding a model.onnx.
inline std::vector<std::string> AllFolders() {
  std::vector<std::string> folders;
  for (const char* group : {"node", "simple"}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(kDataDir / group, ec)) {
      if (std::filesystem::exists(entry.path() / "model.onnx")) {
        folders.push_back(std::string(group) + "/" + entry.path().filename().string());
      }
    }
  }
  std::sort(folders.begin(), folders.end());
  return folders;
}

// Folders on expected_pass.txt.
inline std::set<std::string> ReadAllowList() {
  std::set<std::string> names;
  std::ifstream in(kListDir / "expected_pass.txt");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') names.insert(line);
  }
  return names;
}

// A gtest name for a folder (node/test_abs -> node_test_abs).
inline std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace onyx::conformance
