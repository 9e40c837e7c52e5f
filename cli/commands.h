// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the registration functions of the `sonar` command groups. Each adds
// its subcommands to the app; when one of them is parsed, its CLI11 callback runs it and stores
// the exit code (0 success, 1 failure, 2 bad usage) in *exit_code.
//
// Example:
//   CLI::App app;
//   int exit_code = 0;
//   RegisterRecordCommands(app, &exit_code);
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>

#include <string>
#include <vector>

#include "common/status.h"
#include "measure/record.h"

namespace sonar::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "sonar: error: ..." on stderr and returns kExitFailure.
inline int Fail(const Status& s) {
  std::fprintf(stderr, "sonar: error: %s\n", s.ToString().c_str());
  return kExitFailure;
}

// Every record of every file (record logs or history files, format detected), in order.
StatusOr<std::vector<Record>> LoadRecordFiles(const std::vector<std::string>& paths);

void RegisterRecordCommands(CLI::App& app, int* exit_code);   // import, export, records
void RegisterHwCommands(CLI::App& app, int* exit_code);       // hw describe
void RegisterLatencyCommands(CLI::App& app, int* exit_code);  // latency train|adapt|predict|eval
void RegisterMeasureCommands(CLI::App& app, int* exit_code);  // measure
void RegisterTuneCommands(CLI::App& app, int* exit_code);     // tune, compare
void RegisterSearchCommands(CLI::App& app, int* exit_code);   // search

}  // namespace sonar::cli
