// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "measure/child_process.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>

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

}  // namespace
}  // namespace sonar
