// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The README's CLI tour runs from any directory and writes into it, not into the checkout
// (issue 17): every sonar call goes through $R/build/sonar, every file of the checkout through
// $R/..., and every shared data set through $SHARED.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "tests/testing/test_records.h"

namespace sonar {
namespace {

TEST(ReadmeTour, RunsFromAnyDirectory) {
  const std::string readme = testing::ReadFile(std::string(SONAR_SOURCE_DIR) + "/README.md");
  const size_t start = readme.find("## CLI tour");
  ASSERT_NE(start, std::string::npos);
  const size_t open = readme.find("```\n", start);
  const size_t close = readme.find("```\n", open + 4);
  ASSERT_NE(close, std::string::npos);
  std::istringstream block(readme.substr(open + 4, close - open - 4));
  // A path relative to the checkout or to where the command runs: build/, ../, datasets/,
  // examples/ at the start of a word (not after $R/ or $SHARED/).
  const std::regex relative(R"((^|[\s=])(build/|\.\./|datasets/|examples/))");
  int sonar_calls = 0;
  for (std::string line; std::getline(block, line);) {
    if (line.rfind("#", 0) == 0) continue;
    const std::string code = line.substr(0, line.find("  #"));
    EXPECT_FALSE(std::regex_search(code, relative)) << "relative path in the tour: " << line;
    sonar_calls += code.find("$R/build/sonar ") != std::string::npos;
  }
  EXPECT_GE(sonar_calls, 10);
  EXPECT_NE(readme.find("R=$PWD"), std::string::npos);
  EXPECT_NE(readme.find("cd /tmp/sonar-tour"), std::string::npos);
}

}  // namespace
}  // namespace sonar
