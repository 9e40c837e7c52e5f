// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Replays the hand-written seed corpus of every fuzz target as a regular test, so the parsers'
// invariants are checked on every build, with or without clang's libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fuzz/fuzz_targets.h"

namespace sonar::fuzz {
namespace {

TEST(FuzzCorpus, EverySeedPassesItsTarget) {
  namespace fs = std::filesystem;
  for (const FuzzTarget& target : AllFuzzTargets()) {
    const fs::path dir = fs::path(SONAR_SOURCE_DIR) / "tests/fuzz/corpus" / target.name;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    int seeds = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string bytes = ss.str();
      SCOPED_TRACE(entry.path().string());
      target.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      // Every prefix too: truncated input is the most common corruption.
      for (size_t cut = 0; cut < bytes.size(); cut += std::max<size_t>(1, bytes.size() / 64)) {
        target.fn(reinterpret_cast<const uint8_t*>(bytes.data()), cut);
      }
      ++seeds;
    }
    EXPECT_GE(seeds, 3) << "corpus for " << target.name << " is too small";
  }
}

}  // namespace
}  // namespace sonar::fuzz
