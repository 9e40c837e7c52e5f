// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: RunChild, which runs one program from an argument vector (never
// through a shell) in its own process group, optionally pinned to one CPU and under an
// address-space limit, with a wall-clock timeout that SIGKILLs the whole group, and captures
// its stdout and stderr (both drained concurrently, so a child writing megabytes cannot
// deadlock; at most max_output_bytes of each are kept). POSIX only. The compiler and every
// measured kernel binary run through it. Also ChildStream, a long-lived child that is fed a text
// on stdin and read line by line from stdout, with timeouts, pause (SIGSTOP) and resume; the
// external trainer runs through it.
//
// Example:
//   ChildOptions o;
//   o.argv = {"c++", "-O3", "-o", "/tmp/k", "/tmp/k.cc"};
//   o.timeout_s = 60;
//   ChildResult r = RunChild(o);
//   if (r.timed_out) { ... } else if (r.term_signal != 0) { ... } else if (r.exit_code != 0) ...
//
//   ChildStream child;
//   SONAR_RETURN_IF_ERROR(child.Start({.argv = {"python3", "train.py"}, .stdin_text = json}));
//   std::string line;
//   while (child.ReadLine(/*timeout_s=*/60, &line) == ChildStream::Read::kLine) { ... }
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

// Runs `gnuplot script` (no shell) and waits; false when gnuplot is missing or fails (plots
// are optional: callers write their data files either way).
bool RunGnuplot(const std::string& script);

// The absolute path execv would run for `program` ($PATH search when it has no '/'), or "".
std::string FindProgram(const std::string& program);

// The first `max_lines` lines of `text` (each cut to 300 bytes), joined by '\n'.
std::string FirstLines(const std::string& text, int max_lines);

// The last `max_lines` lines of `text` (each cut to 300 bytes), joined by '\n'; a final '\n'
// does not start an empty line.
std::string LastLines(const std::string& text, int max_lines);

// ---- a streaming child ----

// How to start a ChildStream. argv[0] is resolved as for ChildOptions.
// Thread safety: value type.
struct ChildStreamOptions {
  // The program and its arguments, passed verbatim (no shell).
  std::vector<std::string> argv;
  // Working directory of the child; "" = the caller's.
  std::string working_dir;
  // Written to the child's stdin, which is then closed ("" = stdin closed at once). It is
  // written while ReadLine and Wait wait, so a child that never reads its stdin blocks nothing.
  std::string stdin_text;
  // Bytes kept of the end of the child's stderr (all of it is read, the rest is dropped). >= 0.
  size_t stderr_tail_bytes = 8192;
  // Longest stdout line returned, bytes; a longer line is cut there and the rest of it is
  // dropped. >= 1.
  size_t max_line_bytes = 1 << 20;
  // Disable core dumps in the child (RLIMIT_CORE = 0).
  bool no_core_dumps = true;
  Status Validate() const;
};

// WHAT THIS OBJECT REPRESENTS: one child process, in its own process group, that runs while
// the caller reads its stdout one line at a time. Its stderr is drained whenever the caller
// waits (a child writing megabytes to it does not block), and its last bytes are kept for error
// messages. The child can be paused (SIGSTOP to its group) and resumed (SIGCONT). When the
// child exits, whatever else is left in its process group is killed; the destructor kills the
// group (SIGKILL) and reaps the child, so no zombie and no stray process outlives the object.
// The descriptors are close-on-exec and the fork child calls only async-signal-safe functions,
// so streams and RunChild may be started from several threads at once.
// Thread safety: thread-compatible (one thread drives one ChildStream).
class ChildStream {
 public:
  enum class Read {
    kLine,     // a line was returned
    kEof,      // stdout is closed and every line was returned (the child has exited, usually)
    kTimeout,  // no complete line within the timeout; the child still runs
  };

  ChildStream() = default;
  ~ChildStream();
  ChildStream(const ChildStream&) = delete;
  ChildStream& operator=(const ChildStream&) = delete;

  // Starts the child. NotFound when argv[0] is not found; InvalidArgument for bad options or
  // when exec fails (the message says why, e.g. "Permission denied"); Internal when pipes or
  // fork fail. requires: Start was not called before.
  Status Start(const ChildStreamOptions& options);

  // Waits up to timeout_s seconds (>= 0; 0 = only what is already there) for the next stdout
  // line and stores it in *line without its '\n' (nor a '\r' before it). A last line without a
  // '\n' is returned at EOF. Once the child has exited, stdout is given 2 s to reach EOF (a
  // descendant outside its process group may hold it open), then kEof is returned anyway.
  // requires: started() and not paused().
  Read ReadLine(double timeout_s, std::string* line);

  // Waits up to timeout_s seconds for the child to exit, reading and dropping its stdout (read
  // every line with ReadLine first). Returns exited(); on false the child still runs.
  // requires: started().
  bool Wait(double timeout_s);

  // Stops the child's process group (SIGSTOP) and returns once the child is stopped (or has
  // exited; at most about 1 s). No-op when paused or no longer running.
  void Pause();
  // Continues a paused group (SIGCONT). No-op when not paused.
  void Resume();
  // Kills the process group (SIGCONT, then SIGKILL) and reaps the child. Idempotent; no-op
  // before Start.
  void Kill();

  bool started() const { return pid_ > 0; }
  bool paused() const { return paused_; }
  // The child was reaped: by ReadLine / Wait when it exited, or by Kill.
  bool exited() const { return reaped_; }
  // The child was ended by Kill (then exit_code() and term_signal() say nothing).
  bool killed() const { return killed_; }
  // When exited() and not killed(): the exit status (-1 if ended by a signal) ...
  int exit_code() const;
  // ... or the signal that ended it (0 if it exited normally).
  int term_signal() const;
  // The process id of the child (and the id of its process group); -1 before Start.
  int pid() const { return pid_; }
  // The last stderr_tail_bytes bytes the child wrote to stderr (so far).
  std::string stderr_tail() const;

 private:
  void Pump(int timeout_ms, bool keep_stdout);
  void WriteStdin();
  void ReadStdout(bool keep);
  void ReadStderr();
  void CheckExited();
  bool TakeLine(std::string* line);
  void CloseFds();

  ChildStreamOptions options_;
  int pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
  size_t stdin_written_ = 0;
  std::string out_buf_;  // stdout read but not yet returned, from out_pos_
  size_t out_pos_ = 0;
  bool dropping_line_ = false;  // the rest of a cut line is being dropped
  std::string err_buf_;         // the end of stderr (up to twice stderr_tail_bytes)
  bool paused_ = false, reaped_ = false, killed_ = false;
  int wait_status_ = 0;
  double reaped_at_s_ = 0;  // steady clock, seconds
};

}  // namespace sonar
