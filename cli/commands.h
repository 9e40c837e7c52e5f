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
#include <cstdlib>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/record.h"
#include "space/task.h"

namespace sonar {
struct CudaOptions;
}  // namespace sonar

namespace sonar::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "sonar: error: MESSAGE" on stderr and returns kExitFailure (the status code, e.g.
// NOT_FOUND, is for programs; the message says it in words).
inline int Fail(const Status& s) {
  std::fprintf(stderr, "sonar: error: %s\n", s.message().c_str());
  return kExitFailure;
}

// A CLI11 check that a flag's number is at least `min`; fails with "must be >= MIN, got V"
// (CLI11 prefixes the flag's name). For ->check(AtLeast(1)).
inline CLI::Validator AtLeast(double min) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", min);
  const std::string bound = text;
  return CLI::Validator(
      [min, bound](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0') return "'" + value + "' is not a number";
        if (!(v >= min)) return "must be >= " + bound + ", got " + value;
        return "";
      },
      ">= " + bound, "AtLeast");
}

// A CLI11 check that a flag's number lies in [min, max]; "must be in [MIN, MAX], got V".
inline CLI::Validator InRange(double min, double max) {
  char text[64];
  std::snprintf(text, sizeof text, "[%g, %g]", min, max);
  const std::string range = text;
  return CLI::Validator(
      [min, max, range](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0') return "'" + value + "' is not a number";
        if (!(v >= min && v <= max)) return "must be in " + range + ", got " + value;
        return "";
      },
      "in " + range, "InRange");
}

// Before any work: a file the command will write whole (`flag` FILE). InvalidArgument naming the
// flag when the path is empty, its directory does not exist, it is a directory, or it exists and
// !force ("pass --force to replace it"); a usage error.
Status CheckOutputFile(std::string_view flag, const std::string& path, bool force);
// Before any work: a directory the command will create or write into (`flag` DIR).
// InvalidArgument naming the flag when the path is empty, names an existing non-directory, or
// its parent does not exist.
Status CheckOutputDirectory(std::string_view flag, const std::string& path);

// Prints "sonar COMMAND: message" on stderr and returns kExitUsage: the command line is wrong
// (a flag, or a flag's value). `message` names the user's flag.
int UsageError(std::string_view command, std::string_view message);

// Every record of every file (record logs or history files, format detected), in order.
StatusOr<std::vector<Record>> LoadRecordFiles(const std::vector<std::string>& paths);

// --shape "512,512,512" -> its integers; InvalidArgument naming --shape otherwise.
StatusOr<std::vector<int64_t>> ParseShape(const std::string& text);

// The task of a built-in operator from --op and --shape (target "" = this machine's);
// InvalidArgument naming the flag that is wrong (an unknown --op, a --shape that does not fit
// it): a usage error.
StatusOr<Task> OperatorTaskFromFlags(const std::string& op, const std::string& shape,
                                     const std::string& target = "");

// The GPU flags of measure, tune and compare (docs/cuda.md): --backend cpu|cuda, --device N
// (implies cuda), --arch sm_XY, --flush-l2.
struct BackendFlags {
  std::string backend;  // "" (not given: cpu unless a GPU flag or a .cu kernel), "cpu", "cuda"
  int device = -1;      // -1: not given (device 0 when the backend is cuda)
  std::string arch;
  bool flush_l2 = false;
};
void AddBackendFlags(CLI::App* command, BackendFlags* flags);
// Whether the run is on the GPU: --backend cuda, --device given, or a user kernel file ending
// in .cu (`kernel`, may be empty). InvalidArgument naming the flag for an unknown --backend,
// --backend cpu with --device/--arch/--flush-l2 or a .cu kernel.
StatusOr<bool> UsesCuda(const BackendFlags& flags, const std::string& kernel);
// The CudaOptions of the flags (device 0 when not given).
CudaOptions CudaOptionsFromFlags(const BackendFlags& flags);
// The GPU template's task from --op and --shape (target as given): a usage error naming the
// flag when wrong.
StatusOr<Task> CudaOperatorTaskFromFlags(const std::string& op, const std::string& shape,
                                         const std::string& target);

void RegisterRecordCommands(CLI::App& app, int* exit_code);   // import, export, records
void RegisterHwCommands(CLI::App& app, int* exit_code);       // hw describe
void RegisterLatencyCommands(CLI::App& app, int* exit_code);  // latency train|adapt|predict|eval
void RegisterMeasureCommands(CLI::App& app, int* exit_code);  // measure
void RegisterTuneCommands(CLI::App& app, int* exit_code);     // tune, compare
void RegisterSearchCommands(CLI::App& app, int* exit_code);   // search
void RegisterEmitCommands(CLI::App& app, int* exit_code);     // emit

}  // namespace sonar::cli
