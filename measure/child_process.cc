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

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

std::string LastLines(const std::string& text, int max_lines) {
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  if (max_lines <= 0 || end == 0) return "";
  size_t begin = 0, pos = end;
  for (int i = 0; i < max_lines; ++i) {
    const size_t nl = pos == 0 ? std::string::npos : text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      begin = 0;
      break;
    }
    begin = nl + 1;  // the start of the (i+1)-th line from the end
    pos = nl;
  }
  return FirstLines(text.substr(begin, end - begin), max_lines);
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

// ---- ChildStream ----

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// The state letter of a process in /proc/<pid>/stat ('R', 'S', 'D', 'T', 'Z', ...), or 0.
char ProcessState(int pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[512];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* paren = strrchr(buf, ')');  // the command name may hold spaces and ')'
  return paren != nullptr && paren[1] == ' ' ? paren[2] : 0;
}

}  // namespace

Status ChildStreamOptions::Validate() const {
  if (argv.empty() || argv[0].empty()) {
    return InvalidArgumentError("ChildStreamOptions.argv is empty");
  }
  if (max_line_bytes < 1)
    return InvalidArgumentError("ChildStreamOptions.max_line_bytes must be >= 1");
  return OkStatus();
}

ChildStream::~ChildStream() { Kill(); }

Status ChildStream::Start(const ChildStreamOptions& options) {
  SONAR_CHECK(pid_ < 0) << "ChildStream::Start called twice; use a new ChildStream";
  SONAR_RETURN_IF_ERROR(options.Validate());
  options_ = options;
  const std::string program = FindProgram(options_.argv[0]);
  if (program.empty()) return NotFoundError("program not found in PATH: " + options_.argv[0]);
  // Everything the fork child needs is prepared here: it must not allocate.
  std::vector<char*> argv;
  for (const std::string& a : options_.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const char* dir = options_.working_dir.empty() ? nullptr : options_.working_dir.c_str();
  const bool no_core_dumps = options_.no_core_dumps;

  int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};  // in, out, err, exec: {read, write} each
  for (int i = 0; i < 4; ++i) {
    if (pipe2(fds + 2 * i, O_CLOEXEC) != 0) {
      const int err = errno;
      for (int fd : fds) {
        if (fd >= 0) close(fd);
      }
      return InternalError(std::string("pipe: ") + strerror(err));
    }
  }
  const int in_r = fds[0], in_w = fds[1], out_r = fds[2], out_w = fds[3], err_r = fds[4],
            err_w = fds[5], exec_r = fds[6], exec_w = fds[7];

  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    for (int fd : fds) close(fd);
    return InternalError(std::string("fork: ") + strerror(err));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    setpgid(0, 0);
    if (dup2(in_r, 0) < 0) ChildFail(exec_w, "dup2", errno);
    if (dup2(out_w, 1) < 0) ChildFail(exec_w, "dup2", errno);
    if (dup2(err_w, 2) < 0) ChildFail(exec_w, "dup2", errno);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (no_core_dumps) {
      struct rlimit core = {0, 0};
      setrlimit(RLIMIT_CORE, &core);
    }
    if (dir != nullptr && chdir(dir) != 0) ChildFail(exec_w, "chdir", errno);
    execv(program.c_str(), argv.data());
    ChildFail(exec_w, "execv", errno);
  }
  // Parent. Also set the group from here, so that a kill right after Start reaches it.
  setpgid(pid, pid);
  close(in_r);
  close(out_w);
  close(err_w);
  close(exec_w);
  // The exec pipe reaches EOF at a successful exec (close-on-exec), or carries the reason (in
  // several writes) and reaches EOF when the child exits.
  char exec_error[512];
  size_t got = 0;
  while (got < sizeof(exec_error)) {
    const ssize_t n = read(exec_r, exec_error + got, sizeof(exec_error) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(exec_r);
  if (got > 0) {
    for (int fd : {in_w, out_r, err_r}) close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return InvalidArgumentError("cannot run " + program + ": " + std::string(exec_error, got));
  }
  pid_ = pid;
  in_fd_ = in_w;
  out_fd_ = out_r;
  err_fd_ = err_r;
  for (int fd : {in_fd_, out_fd_, err_fd_}) fcntl(fd, F_SETFL, O_NONBLOCK);
  WriteStdin();
  return OkStatus();
}

void ChildStream::WriteStdin() {
  if (in_fd_ < 0) return;
  const std::string& text = options_.stdin_text;
  // A child that closed its stdin must not SIGPIPE us: block SIGPIPE in this thread for the
  // write and discard one that the write raised.
  sigset_t pipe_set, old_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  bool done = false;
  while (stdin_written_ < text.size()) {
    const ssize_t n = write(in_fd_, text.data() + stdin_written_, text.size() - stdin_written_);
    if (n > 0) {
      stdin_written_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      done = true;  // EPIPE: the child closed its stdin; it will not read the rest
      break;
    }
  }
  if (!was_pending) {
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      const struct timespec zero = {0, 0};
      sigtimedwait(&pipe_set, nullptr, &zero);
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (done || stdin_written_ >= text.size()) CloseFd(&in_fd_);
}

void ChildStream::ReadStdout(bool keep) {
  // One read per call, so that ReadLine returns lines as soon as they come.
  char buf[65536];
  const ssize_t n = read(out_fd_, buf, sizeof(buf));
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
    CloseFd(&out_fd_);
    return;
  }
  if (n < 0 || !keep) return;
  const char* p = buf;
  size_t size = static_cast<size_t>(n);
  if (dropping_line_) {
    const char* nl = static_cast<const char*>(memchr(p, '\n', size));
    if (nl == nullptr) return;
    dropping_line_ = false;
    size -= static_cast<size_t>(nl + 1 - p);
    p = nl + 1;
  }
  if (out_pos_ > 0 && out_pos_ >= out_buf_.size() / 2) {
    out_buf_.erase(0, out_pos_);
    out_pos_ = 0;
  }
  out_buf_.append(p, size);
}

void ChildStream::ReadStderr() {
  char buf[65536];
  for (int i = 0; i < 16; ++i) {  // bounded, so that a chatty child cannot starve stdout
    const ssize_t n = read(err_fd_, buf, sizeof(buf));
    if (n > 0) {
      err_buf_.append(buf, static_cast<size_t>(n));
      const size_t cap = options_.stderr_tail_bytes;
      if (err_buf_.size() > 2 * cap + sizeof(buf)) err_buf_.erase(0, err_buf_.size() - cap);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseFd(&err_fd_);
    return;
  }
}

void ChildStream::Pump(int timeout_ms, bool keep_stdout) {
  struct pollfd fds[3];
  int n = 0, in_i = -1, out_i = -1, err_i = -1;
  if (in_fd_ >= 0) {
    in_i = n;
    fds[n++] = {in_fd_, POLLOUT, 0};
  }
  if (out_fd_ >= 0) {
    out_i = n;
    fds[n++] = {out_fd_, POLLIN, 0};
  }
  if (err_fd_ >= 0) {
    err_i = n;
    fds[n++] = {err_fd_, POLLIN, 0};
  }
  if (n == 0) {
    if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return;
  }
  if (poll(fds, n, timeout_ms) <= 0) return;
  if (in_i >= 0 && fds[in_i].revents != 0) WriteStdin();
  if (out_i >= 0 && fds[out_i].revents != 0) ReadStdout(keep_stdout);
  if (err_i >= 0 && fds[err_i].revents != 0) ReadStderr();
}

void ChildStream::CheckExited() {
  if (pid_ <= 0 || reaped_) return;
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  // WNOWAIT leaves the child a zombie, so its process-group id cannot be reused while the
  // stragglers of the group are killed.
  if (waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != pid_) return;
  kill(-pid_, SIGKILL);
  while (waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  paused_ = false;
  reaped_at_s_ = NowSeconds();
  CloseFd(&in_fd_);
}

bool ChildStream::TakeLine(std::string* line) {
  const size_t max = options_.max_line_bytes;
  const size_t nl = out_buf_.find('\n', out_pos_);
  if (nl != std::string::npos && nl - out_pos_ <= max) {
    line->assign(out_buf_, out_pos_, nl - out_pos_);
    out_pos_ = nl + 1;
  } else if (out_buf_.size() - out_pos_ >= max) {
    // A line longer than max: return its start, drop the rest up to its '\n'.
    line->assign(out_buf_, out_pos_, max);
    if (nl != std::string::npos) {
      out_pos_ = nl + 1;
    } else {
      out_buf_.clear();
      out_pos_ = 0;
      dropping_line_ = true;
    }
  } else {
    return false;
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

ChildStream::Read ChildStream::ReadLine(double timeout_s, std::string* line) {
  SONAR_CHECK(started()) << "ChildStream::ReadLine before a successful Start";
  SONAR_CHECK(!paused_) << "ChildStream::ReadLine on a paused child: Resume() it first";
  const double deadline = NowSeconds() + std::max(0.0, timeout_s);
  bool pumped = false;
  while (true) {
    if (TakeLine(line)) return Read::kLine;
    if (out_fd_ < 0) {
      if (out_pos_ < out_buf_.size()) {
        line->assign(out_buf_, out_pos_, std::string::npos);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        out_buf_.clear();
        out_pos_ = 0;
        return Read::kLine;
      }
      return Read::kEof;
    }
    CheckExited();
    const double now = NowSeconds();
    if (reaped_ && now - reaped_at_s_ > 2.0) {
      CloseFd(&out_fd_);
      continue;
    }
    if (pumped && now >= deadline) return Read::kTimeout;
    // Slices of at most 100 ms, so that an exit is noticed even when stdout stays open.
    const int wait_ms = static_cast<int>(std::clamp((deadline - now) * 1000.0 + 0.999, 0.0, 100.0));
    Pump(wait_ms, /*keep_stdout=*/true);
    pumped = true;
  }
}

bool ChildStream::Wait(double timeout_s) {
  SONAR_CHECK(started()) << "ChildStream::Wait before a successful Start";
  const double deadline = NowSeconds() + std::max(0.0, timeout_s);
  while (true) {
    CheckExited();
    if (reaped_) return true;
    const double now = NowSeconds();
    if (now >= deadline) return false;
    const int wait_ms = static_cast<int>(std::clamp((deadline - now) * 1000.0 + 0.999, 1.0, 20.0));
    Pump(wait_ms, /*keep_stdout=*/false);
  }
}

void ChildStream::Pause() {
  if (pid_ <= 0 || reaped_ || paused_) return;
  kill(-pid_, SIGSTOP);
  paused_ = true;
  // kill() only queues the stop: wait until the child has stopped (WNOWAIT keeps its state) or
  // is blocked in the kernel ('D', e.g. a shell in vfork() whose child got the SIGSTOP too),
  // where it stops before it runs its own code again.
  const double deadline = NowSeconds() + 1.0;
  while (NowSeconds() < deadline) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, pid_, &info, WSTOPPED | WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_) {
      return;
    }
    if (ProcessState(pid_) == 'D') return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void ChildStream::Resume() {
  if (!paused_) return;
  paused_ = false;
  if (pid_ > 0 && !reaped_) kill(-pid_, SIGCONT);
}

void ChildStream::Kill() {
  if (pid_ > 0 && !reaped_) {
    kill(-pid_, SIGCONT);
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);  // in case it left its group
    while (waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    killed_ = true;
    reaped_at_s_ = NowSeconds();
  }
  paused_ = false;
  CloseFds();
}

void ChildStream::CloseFds() {
  CloseFd(&in_fd_);
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
}

int ChildStream::exit_code() const {
  return reaped_ && !killed_ && WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : -1;
}

int ChildStream::term_signal() const {
  return reaped_ && !killed_ && WIFSIGNALED(wait_status_) ? WTERMSIG(wait_status_) : 0;
}

std::string ChildStream::stderr_tail() const {
  const size_t cap = options_.stderr_tail_bytes;
  return err_buf_.size() <= cap ? err_buf_ : err_buf_.substr(err_buf_.size() - cap);
}

bool RunGnuplot(const std::string& script) {
  ChildOptions options;
  options.argv = {"gnuplot", script};
  options.timeout_s = 60;
  if (FindProgram("gnuplot").empty()) return false;
  return RunChild(options).ok();
}

}  // namespace sonar
