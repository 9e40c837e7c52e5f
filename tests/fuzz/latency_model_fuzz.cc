// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
// libFuzzer target: FuzzLatencyModel (see fuzz_targets.h). Seed corpus:
// tests/fuzz/corpus/latency_model/.
#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sonar::fuzz::FuzzLatencyModel(data, size);
  return 0;
}
