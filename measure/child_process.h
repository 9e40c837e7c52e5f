// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: RunChild, which runs one program from an argument vector (never
// through a shell) in its own process group, optionally pinned to one CPU and under an
// address-space limit, with a wall-clock timeout that SIGKILLs the whole group, and captures
// its stdout and stderr (both drained concurrently, so a child writing megabytes cannot
// deadlock; at most max_output_bytes of each are kept). POSIX only. The compiler and every
// measured kernel binary run through it.
//
// Example:
//   ChildOptions o;
//   o.argv = {"c++", "-O3", "-o", "/tmp/k", "/tmp/k.cc"};
//   o.timeout_s = 60;
//   ChildResult r = RunChild(o);
//   if (r.timed_out) { ... } else if (r.term_signal != 0) { ... } else if (r.exit_code != 0) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace sonar {

// How to run a child. argv[0] names the program: a path when it holds a '/', else it is looked
// up in $PATH (as execvp does, but resolved before fork()).
// Thread safety: value type.
struct ChildOptions {
  // The program and its arguments, passed verbatim: spaces, quotes and ';' are data.
  std::vector<std::string> argv;
  // Working directory of the child; "" = the caller's.
  std::string working_dir;
  // Wall-clock limit, seconds; on expiry the child's process group gets SIGKILL. 0 = none.
  double timeout_s = 0;
  // RLIMIT_AS of the child, MiB; 0 = unlimited (inherited).
  int64_t memory_limit_mb = 0;
  // CPU to pin the child to with sched_setaffinity before exec; -1 = not pinned.
  int pin_cpu = -1;
  // Bytes of stdout and of stderr kept (the rest is read and dropped). Range >= 0.
  size_t max_output_bytes = 1 << 20;
  // Disable core dumps in the child (RLIMIT_CORE = 0): crashes are expected data here.
  bool no_core_dumps = true;
  Status Validate() const;
};

// What happened. Exactly one of: !started; timed_out; term_signal != 0; exited (exit_code).
// Thread safety: value type.
struct ChildResult {
  bool started = false;     // false: fork/exec failed; `error` says why
  bool timed_out = false;   // killed after timeout_s
  int exit_code = -1;       // when it exited normally
  int term_signal = 0;      // the signal that ended it (not counting our timeout kill)
  std::string stdout_text;  // first max_output_bytes bytes
  std::string stderr_text;  // first max_output_bytes bytes
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  double wall_seconds = 0;
  std::string error;  // why it did not start (e.g. "execv c++: No such file or directory")
  bool ok() const { return started && !timed_out && term_signal == 0 && exit_code == 0; }
};

// Runs the child to completion (or timeout) and returns what happened. Never throws, never
// kills the caller: every failure is in the result. Safe to call from several threads at once
// (the fork child calls only async-signal-safe functions; every descriptor is close-on-exec).
ChildResult RunChild(const ChildOptions& options);

// The absolute path execv would run for `program` ($PATH search when it has no '/'), or "".
std::string FindProgram(const std::string& program);

// The first `max_lines` lines of `text` (each cut to 300 bytes), joined by '\n'.
std::string FirstLines(const std::string& text, int max_lines);

}  // namespace sonar
