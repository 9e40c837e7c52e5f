// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/child_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace sonar {
namespace {

using Clock = std::chrono::steady_clock;

// Reads what is available from `fd` into `keep` (up to `cap`); returns false at EOF/error.
bool Drain(int fd, std::string* keep, size_t cap, bool* truncated) {
  char buf[65536];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      const size_t room = keep->size() < cap ? cap - keep->size() : 0;
      const size_t take = std::min(room, static_cast<size_t>(n));
      keep->append(buf, take);
      if (take < static_cast<size_t>(n)) *truncated = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;
  }
}

// Writes "<what>: <strerror>" to fd without allocating (fork child).
void ChildFail(int fd, const char* what, int err) {
  const char* msg = strerror(err);  // not formally async-signal-safe, but allocation-free in glibc
  ssize_t ignored = write(fd, what, strlen(what));
  ignored = write(fd, ": ", 2);
  ignored = write(fd, msg, strlen(msg));
  (void)ignored;
  _exit(127);
}

}  // namespace

Status ChildOptions::Validate() const {
  if (argv.empty() || argv[0].empty()) return InvalidArgumentError("ChildOptions.argv is empty");
  if (timeout_s < 0) return InvalidArgumentError("ChildOptions.timeout_s must be >= 0");
  if (memory_limit_mb < 0) return InvalidArgumentError("ChildOptions.memory_limit_mb must be >= 0");
  if (pin_cpu < -1 || pin_cpu >= CPU_SETSIZE) {
    return InvalidArgumentError("ChildOptions.pin_cpu out of range: " + std::to_string(pin_cpu));
  }
  return OkStatus();
}

std::string FindProgram(const std::string& program) {
  if (program.empty()) return "";
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + program;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return "";
}

std::string FirstLines(const std::string& text, int max_lines) {
  std::string out;
  size_t pos = 0;
  int lines = 0;
  while (pos < text.size() && lines < max_lines) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, std::min<size_t>(end - pos, 300));
    if (!out.empty()) out += '\n';
    out += line;
    ++lines;
    pos = end + 1;
  }
  return out;
}

ChildResult RunChild(const ChildOptions& options) {
  ChildResult result;
  if (Status s = options.Validate(); !s.ok()) {
    result.error = s.message();
    return result;
  }
  const std::string program = FindProgram(options.argv[0]);
  if (program.empty()) {
    result.error = "program not found in PATH: " + options.argv[0];
    return result;
  }
  // Everything the fork child needs is prepared here: it must not allocate.
  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (options.pin_cpu >= 0) CPU_SET(options.pin_cpu, &cpus);
  const char* dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + strerror(errno);
    return result;
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + strerror(errno);
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    return result;
  }
  const int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);

  const auto t0 = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    result.error = std::string("fork: ") + strerror(errno);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], exec_pipe[0], exec_pipe[1],
                   dev_null}) {
      if (fd >= 0) close(fd);
    }
    return result;
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    const int report = exec_pipe[1];
    setpgid(0, 0);
    if (dev_null >= 0) dup2(dev_null, 0);
    if (dup2(out_pipe[1], 1) < 0) ChildFail(report, "dup2", errno);
    if (dup2(err_pipe[1], 2) < 0) ChildFail(report, "dup2", errno);
    // Restore default signal dispositions a parent may have changed.
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (options.no_core_dumps) {
      struct rlimit core = {0, 0};
      setrlimit(RLIMIT_CORE, &core);
    }
    if (options.memory_limit_mb > 0) {
      const rlim_t bytes = static_cast<rlim_t>(options.memory_limit_mb) << 20;
      struct rlimit as = {bytes, bytes};
      if (setrlimit(RLIMIT_AS, &as) != 0) ChildFail(report, "setrlimit(RLIMIT_AS)", errno);
    }
    if (options.pin_cpu >= 0 && sched_setaffinity(0, sizeof(cpus), &cpus) != 0) {
      ChildFail(report, "sched_setaffinity", errno);
    }
    if (dir != nullptr && chdir(dir) != 0) ChildFail(report, "chdir", errno);
    execv(program.c_str(), argv.data());
    ChildFail(report, "execv", errno);
  }
  // Parent. Also set the group from here to win the race with an early kill.
  setpgid(pid, pid);
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(exec_pipe[1]);
  if (dev_null >= 0) close(dev_null);
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);

  bool out_open = true, err_open = true, reaped = false;
  int wait_status = 0;
  bool killed = false;
  const bool has_deadline = options.timeout_s > 0;
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options.timeout_s));
  Clock::time_point reaped_at;
  while (true) {
    if (!reaped) {
      const pid_t w = waitpid(pid, &wait_status, WNOHANG);
      if (w == pid) {
        reaped = true;
        reaped_at = Clock::now();
        // Stragglers of the group (e.g. a compiler's subprocesses) must not outlive it.
        kill(-pid, SIGKILL);
      }
    }
    if (reaped && !out_open && !err_open) break;
    const auto now = Clock::now();
    if (!reaped && has_deadline && now >= deadline && !killed) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      killed = true;
    }
    // After the child is gone, give the pipes a short while to reach EOF.
    if (reaped && now - reaped_at > std::chrono::seconds(2)) break;
    struct pollfd fds[2];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    int wait_ms = 20;
    if (n > 0) {
      poll(fds, n, wait_ms);
      if (out_open) {
        out_open = Drain(out_pipe[0], &result.stdout_text, options.max_output_bytes,
                         &result.stdout_truncated);
      }
      if (err_open) {
        err_open = Drain(err_pipe[0], &result.stderr_text, options.max_output_bytes,
                         &result.stderr_truncated);
      }
    } else if (!reaped) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (!reaped) {  // cannot normally happen; make sure there is no zombie
    kill(-pid, SIGKILL);
    waitpid(pid, &wait_status, 0);
  }
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  close(out_pipe[0]);
  close(err_pipe[0]);

  // An exec failure is reported through the close-on-exec pipe.
  char exec_error[512];
  ssize_t got = 0;
  while (true) {
    got = read(exec_pipe[0], exec_error, sizeof(exec_error) - 1);
    if (got < 0 && errno == EINTR) continue;
    break;
  }
  close(exec_pipe[0]);
  if (got > 0) {
    result.error = std::string(exec_error, got) + " (" + program + ")";
    return result;  // started stays false
  }
  result.started = true;
  if (killed) {
    result.timed_out = true;
  } else if (WIFSIGNALED(wait_status)) {
    result.term_signal = WTERMSIG(wait_status);
  } else if (WIFEXITED(wait_status)) {
    result.exit_code = WEXITSTATUS(wait_status);
  }
  return result;
}

}  // namespace sonar
