// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: one fuzz entry point per parser. Each feeds arbitrary bytes to a
// parser and aborts when an invariant breaks (a crash or sanitizer report is a bug too). The
// libFuzzer targets in this folder call them, and tests/fuzz/fuzz_replay.cc replays the seed
// corpus through them as a regular test.
//
// Example:
//   sonar::fuzz::FuzzAutoTvm(data, size);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sonar::fuzz {

void FuzzAutoTvm(const uint8_t* data, size_t size);
void FuzzAnsor(const uint8_t* data, size_t size);
void FuzzKernelTuner(const uint8_t* data, size_t size);
void FuzzJsonLines(const uint8_t* data, size_t size);
void FuzzRecordLog(const uint8_t* data, size_t size);
void FuzzRecordPayload(const uint8_t* data, size_t size);
void FuzzHarnessOutput(const uint8_t* data, size_t size);
void FuzzSpaceJson(const uint8_t* data, size_t size);
void FuzzHardwareJson(const uint8_t* data, size_t size);
void FuzzLatencyModel(const uint8_t* data, size_t size);

struct FuzzTarget {
  const char* name;  // also the corpus folder: tests/fuzz/corpus/<name>/
  void (*fn)(const uint8_t*, size_t);
};
const std::vector<FuzzTarget>& AllFuzzTargets();

}  // namespace sonar::fuzz
