// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/child_process.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/testing/test_records.h"

namespace sonar {
namespace {

TEST(ChildProcess, PassesArgumentsVerbatimWithoutAShell) {
  ChildOptions o;
  const std::string tricky = "a b \"quoted\" 'single'; echo pwned $(id) `x` > /tmp/nope *";
  o.argv = {"printf", "%s|%s", tricky, "-DNAME=two words"};
  o.timeout_s = 10;
  ChildResult r = RunChild(o);
  ASSERT_TRUE(r.ok()) << r.error << r.stderr_text;
  EXPECT_EQ(r.stdout_text, tricky + "|-DNAME=two words");
}

TEST(ChildProcess, ReportsExitCodeAndStderr) {
  ChildOptions o;
  o.argv = {"sh", "-c", "echo oops >&2; exit 7"};
  ChildResult r = RunChild(o);
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.stderr_text, "oops\n");
  EXPECT_FALSE(r.ok());
}

TEST(ChildProcess, KillsTheProcessGroupAtTheTimeout) {
  ChildOptions o;
  // The grandchild `sleep` keeps the pipe open; only a group kill ends it.
  o.argv = {"sh", "-c", "sleep 30 & sleep 30"};
  o.timeout_s = 0.3;
  ChildResult r = RunChild(o);
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.wall_seconds, 10.0);
}

TEST(ChildProcess, ReportsTheSignalOfACrash) {
  ChildOptions o;
  o.argv = {"sh", "-c", "kill -SEGV $$"};
  ChildResult r = RunChild(o);
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.term_signal, SIGSEGV);
}

TEST(ChildProcess, DrainsLargeOutputAndKeepsOnlyTheCap) {
  ChildOptions o;
  o.argv = {"sh", "-c", "head -c 5000000 /dev/zero; head -c 3000000 /dev/zero >&2"};
  o.max_output_bytes = 1000;
  o.timeout_s = 20;
  ChildResult r = RunChild(o);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.stdout_text.size(), 1000u);
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_EQ(r.stderr_text.size(), 1000u);
}

TEST(ChildProcess, MissingProgramIsAResultNotACrash) {
  ChildOptions o;
  o.argv = {"/nonexistent/program-xyz", "x"};
  ChildResult r = RunChild(o);
  EXPECT_FALSE(r.started);
  EXPECT_FALSE(r.error.empty());
}

TEST(ChildProcess, AppliesTheMemoryLimit) {
  ChildOptions o;
  o.argv = {"sh", "-c", "ulimit -v"};
  o.memory_limit_mb = 256;
  ChildResult r = RunChild(o);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.stdout_text, "262144\n");
}

TEST(ChildOptions, DefaultsNeedOnlyArgv) {
  ChildOptions o;
  EXPECT_FALSE(o.Validate().ok());
  o.argv = {"true"};
  EXPECT_TRUE(o.Validate().ok());
}

TEST(ChildProcess, FirstLinesCutsLinesAndCount) {
  EXPECT_EQ(FirstLines("a\nb\nc\n", 2), "a\nb");
  EXPECT_EQ(FirstLines("", 3), "");
}

TEST(ChildProcess, LastLinesKeepsTheEnd) {
  EXPECT_EQ(LastLines("a\nb\nc\n", 2), "b\nc");
  EXPECT_EQ(LastLines("a\nb\nc", 5), "a\nb\nc");
  EXPECT_EQ(LastLines("a\n\nb\n", 1), "b");
  EXPECT_EQ(LastLines("", 3), "");
  EXPECT_EQ(LastLines("a\n", 0), "");
}

ChildStreamOptions StreamOf(std::vector<std::string> argv, std::string stdin_text = "") {
  ChildStreamOptions o;
  o.argv = std::move(argv);
  o.stdin_text = std::move(stdin_text);
  return o;
}

TEST(ChildStream, FeedsStdinAndReadsLinesUntilEof) {
  ChildStream c;
  ASSERT_TRUE(
      c.Start(StreamOf({"sh", "-c", "read -r x; echo got:$x; printf 'two\\r\\n'; printf end"},
                       "hello world\n"))
          .ok());
  std::string line;
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, "got:hello world");
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, "two");
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, "end");
  EXPECT_EQ(c.ReadLine(10, &line), ChildStream::Read::kEof);
  EXPECT_TRUE(c.Wait(10));
  EXPECT_EQ(c.exit_code(), 0);
  EXPECT_EQ(c.term_signal(), 0);
  EXPECT_FALSE(c.killed());
}

TEST(ChildStream, ReportsTheExitCodeTheSignalAndTheEndOfStderr) {
  ChildStream a;
  ASSERT_TRUE(a.Start(StreamOf({"sh", "-c", "echo first >&2; echo last >&2; exit 3"})).ok());
  std::string line;
  EXPECT_EQ(a.ReadLine(10, &line), ChildStream::Read::kEof);
  ASSERT_TRUE(a.Wait(10));
  EXPECT_EQ(a.exit_code(), 3);
  EXPECT_EQ(a.stderr_tail(), "first\nlast\n");

  ChildStream b;
  ASSERT_TRUE(b.Start(StreamOf({"sh", "-c", "kill -SEGV $$"})).ok());
  EXPECT_EQ(b.ReadLine(10, &line), ChildStream::Read::kEof);
  ASSERT_TRUE(b.Wait(10));
  EXPECT_EQ(b.term_signal(), SIGSEGV);
  EXPECT_EQ(b.exit_code(), -1);
}

TEST(ChildStream, DrainsMegabytesOfStderrAndKeepsItsEnd) {
  ChildStreamOptions o = StreamOf(
      {"sh", "-c", "head -c 4000000 /dev/zero | tr '\\000' x >&2; echo END >&2; echo done"});
  o.stderr_tail_bytes = 100;
  ChildStream c;
  ASSERT_TRUE(c.Start(o).ok());
  std::string line;
  ASSERT_EQ(c.ReadLine(30, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, "done");
  EXPECT_EQ(c.ReadLine(30, &line), ChildStream::Read::kEof);
  ASSERT_TRUE(c.Wait(10));
  const std::string tail = c.stderr_tail();
  EXPECT_EQ(tail.size(), 100u);
  EXPECT_EQ(tail.substr(tail.size() - 4), "END\n");
}

TEST(ChildStream, AChildThatNeverReadsStdinBlocksNothing) {
  ChildStream c;
  ASSERT_TRUE(c.Start(StreamOf({"sh", "-c", "echo hi"}, std::string(4 << 20, 'x'))).ok());
  std::string line;
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, "hi");
  EXPECT_EQ(c.ReadLine(10, &line), ChildStream::Read::kEof);
}

TEST(ChildStream, CutsOverlongLines) {
  ChildStreamOptions o =
      StreamOf({"sh", "-c", "head -c 300000 /dev/zero | tr '\\000' a; echo; echo next"});
  o.max_line_bytes = 1000;
  ChildStream c;
  ASSERT_TRUE(c.Start(o).ok());
  std::string line;
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, std::string(1000, 'a'));
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(line, "next");
}

TEST(ChildStream, TimesOutThenKillsTheWholeGroup) {
  testing::ScratchDir dir;
  const std::string pid_file = dir.File("grandchild.pid");
  ChildStream c;
  ASSERT_TRUE(
      c.Start(StreamOf({"sh", "-c", "sleep 30 & echo $! > \"$0\"; echo started; wait", pid_file}))
          .ok());
  std::string line;
  ASSERT_EQ(c.ReadLine(10, &line), ChildStream::Read::kLine);
  EXPECT_EQ(c.ReadLine(0.2, &line), ChildStream::Read::kTimeout);
  const int pid = c.pid();
  const int grandchild = std::stoi(testing::ReadFile(pid_file));
  c.Kill();
  EXPECT_TRUE(c.killed());
  EXPECT_TRUE(c.exited());
  EXPECT_EQ(kill(pid, 0), -1);  // reaped: no zombie
  // The grandchild was killed too (it may linger briefly as init's zombie).
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    const std::string stat = testing::ReadFile("/proc/" + std::to_string(grandchild) + "/stat");
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
}

// The size of a file the child appends to in a busy loop.
uintmax_t SizeOf(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

bool GrowsWithin(const std::string& path, double seconds) {
  const uintmax_t before = SizeOf(path);
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (SizeOf(path) > before) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

TEST(ChildStream, APausedChildDoesNotRunUntilResumed) {
  testing::ScratchDir dir;
  const std::string counter = dir.File("counter");
  ChildStream c;
  ASSERT_TRUE(c.Start(StreamOf({"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >> \"$0\"; done",
                                counter}))
                  .ok());
  ASSERT_TRUE(GrowsWithin(counter, 10));
  c.Pause();
  EXPECT_TRUE(c.paused());
  const uintmax_t paused_size = SizeOf(counter);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(SizeOf(counter), paused_size);
  c.Resume();
  EXPECT_TRUE(GrowsWithin(counter, 10));
  c.Pause();  // the destructor kills a paused child too
}

TEST(ChildStream, MissingProgramIsAnError) {
  ChildStream a;
  EXPECT_EQ(a.Start(StreamOf({"no-such-program-xyz"})).code(), StatusCode::kNotFound);
  ChildStream b;
  Status s = b.Start(StreamOf({"/nonexistent/program-xyz"}));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
  EXPECT_FALSE(b.started());
}

}  // namespace
}  // namespace sonar
