// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: RunSonar, which runs the built `sonar` executable with an argument
// vector (posix_spawn, no shell) and captures its exit code, stdout and stderr; and
// RunSonarUntilFileGrows, which starts one and kills it with SIGKILL once a file grows past a
// size (the kill -9 tests of resumable commands).
//
// Example:
//   ScratchDir dir;
//   CliResult r = RunSonar({"records", "stats", path, "--json"}, dir);
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pty.h>
#include <unistd.h>
#include <csignal>
#include <filesystem>

#include <string>
#include <vector>

#include "tests/testing/test_records.h"

extern char** environ;

namespace sonar::testing {

struct CliResult {
  int exit_code = -1;  // 128 + signal when killed by one
  std::string out;
  std::string err;
};

// Runs SONAR_CLI_PATH with `args`; stdout/stderr go through files in `dir`.
inline CliResult RunSonar(const std::vector<std::string>& args, const ScratchDir& dir) {
  const std::string out_path = dir.File("stdout.txt"), err_path = dir.File("stderr.txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> argv_s = {SONAR_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  CliResult r;
  pid_t pid;
  const int spawned = posix_spawn(&pid, SONAR_CLI_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

// Starts `sonar args...` (stdout and stderr into files killed_stdout.txt and killed_stderr.txt
// in `dir`) and sends it `signal` (SIGKILL unless given) once `path` holds more than `bytes`
// bytes (polled every 200 us), then waits for it. Returns true when the signal was sent (for
// SIGKILL: and killed it); false when it ended first (or did not start). *exit_code, when given,
// gets its exit status (128 + the signal when a signal ended it).
inline bool RunSonarUntilFileGrows(const std::vector<std::string>& args, const ScratchDir& dir,
                                   const std::string& path, int64_t bytes, int signal = SIGKILL,
                                   int* exit_code = nullptr) {
  std::vector<std::string> argv_s = {SONAR_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = dir.File("killed_stdout.txt"), err = dir.File("killed_stderr.txt");
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  const int spawned = posix_spawn(&pid, SONAR_CLI_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return false;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    std::error_code ec;
    if (static_cast<int64_t>(std::filesystem::file_size(path, ec)) > bytes && !ec) {
      kill(pid, signal);
      waitpid(pid, &status, 0);
      if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return signal != SIGKILL || WIFSIGNALED(status);
    }
    usleep(200);
  }
  return false;
}

// Runs `sonar args...` with its stdin, stdout and stderr on a pseudo-terminal (as a user's
// shell would) and returns everything written to it, and the exit code in *exit_code.
inline std::string RunSonarOnATerminal(const std::vector<std::string>& args, int* exit_code) {
  std::vector<std::string> argv_s = {SONAR_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) return "";
  if (pid == 0) {
    execv(SONAR_CLI_PATH, argv.data());
    _exit(127);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child closed the terminal
    out.append(buf, static_cast<size_t>(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

}  // namespace sonar::testing
