// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
// libFuzzer target: FuzzHarnessOutput (see fuzz_targets.h). Seed corpus:
// tests/fuzz/corpus/harness_output/.
#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sonar::fuzz::FuzzHarnessOutput(data, size);
  return 0;
}
