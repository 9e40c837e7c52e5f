// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "measure/child_process.h"
#include "measure/training/trainer.h"

#include "tests/testing/test_records.h"

namespace sonar {
namespace {

constexpr char kArchJson[] =
    R"({"blocks": [{"op": "conv2d", "channels": 8, "kernel": 3, "stride": 1, "pool": 2}],)"
    R"( "hidden": [32]})";

// Writes `body` as a /bin/sh script in `dir` and returns options that run it with `args`.
ExternalTrainerOptions ShScript(const testing::ScratchDir& dir, const std::string& body,
                                std::vector<std::string> args = {}) {
  static int n = 0;
  const std::string path = dir.File("trainer" + std::to_string(n++) + ".sh");
  testing::WriteFile(path, body);
  ExternalTrainerOptions o;
  o.argv = {"/bin/sh", path};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.epoch_timeout_s = 20;
  o.first_epoch_timeout_s = 20;
  return o;
}

std::unique_ptr<TrainingRun> Start(const ExternalTrainerOptions& o) {
  StatusOr<std::unique_ptr<TrainingRun>> run = StartExternalTraining(kArchJson, o);
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  return run.ok() ? std::move(run).value() : nullptr;
}

// The error of the first epoch of a script that prints `lines`.
Status FirstEpochError(const std::string& lines) {
  testing::ScratchDir dir;
  auto run = Start(ShScript(dir, "cat > /dev/null\n" + lines));
  if (run == nullptr) return InternalError("did not start");
  StatusOr<EpochResult> r = run->NextEpoch();
  if (r.ok()) return OkStatus();
  // A failed run stays failed, with the same message.
  StatusOr<EpochResult> again = run->NextEpoch();
  EXPECT_FALSE(again.ok());
  if (!again.ok()) EXPECT_EQ(again.status().message(), r.status().message());
  return r.status();
}

bool Contains(const Status& s, const std::string& part) {
  return s.message().find(part) != std::string::npos;
}

TEST(ExternalTrainerOptions, DefaultsAreValidOnceArgvIsSet) {
  ExternalTrainerOptions o;
  EXPECT_FALSE(o.Validate().ok());
  o.argv = {"python3", "train.py"};
  EXPECT_TRUE(o.Validate().ok());
  o.epoch_timeout_s = 0;
  EXPECT_FALSE(o.Validate().ok());
  o.epoch_timeout_s = 1;
  o.first_epoch_timeout_s = std::nan("");
  EXPECT_FALSE(o.Validate().ok());
}

TEST(ExternalTrainer, ReadsOneResultPerEpochAndIgnoresLogLines) {
  testing::ScratchDir dir;
  const std::string stdin_copy = dir.File("stdin.json");
  auto run =
      Start(ShScript(dir,
                     "cat > \"$1\"\n"
                     "echo 'loading data...'\n"
                     "echo '{\"epoch\": 1, \"accuracy\": 0.5, \"loss\": 1.25}'\n"
                     "echo 'a log line on stderr' >&2\n"
                     "echo '[warn] not an epoch line'\n"
                     "echo '{\"epoch\": 2, \"accuracy\": 0.75, \"seconds\": 0.25, \"x\": [1]}'\n"
                     "echo '  {\"epoch\": 3.0, \"accuracy\": 1, \"loss\": NaN}'\n",
                     {stdin_copy}));
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->epochs_done(), 0);
  StatusOr<EpochResult> e1 = run->NextEpoch();
  ASSERT_TRUE(e1.ok()) << e1.status().ToString();
  EXPECT_EQ(e1->epoch, 1);
  EXPECT_DOUBLE_EQ(e1->validation_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(e1->train_loss, 1.25);
  EXPECT_GE(e1->seconds, 0);  // the wait, as no "seconds" was given
  // The child received the architecture on stdin.
  EXPECT_EQ(testing::ReadFile(stdin_copy), kArchJson);

  StatusOr<EpochResult> e2 = run->NextEpoch();
  ASSERT_TRUE(e2.ok()) << e2.status().ToString();
  EXPECT_EQ(e2->epoch, 2);
  EXPECT_DOUBLE_EQ(e2->validation_accuracy, 0.75);
  EXPECT_TRUE(std::isnan(e2->train_loss));
  EXPECT_DOUBLE_EQ(e2->seconds, 0.25);

  StatusOr<EpochResult> e3 = run->NextEpoch();
  ASSERT_TRUE(e3.ok()) << e3.status().ToString();
  EXPECT_EQ(e3->epoch, 3);
  EXPECT_DOUBLE_EQ(e3->validation_accuracy, 1.0);
  EXPECT_TRUE(std::isnan(e3->train_loss));
  EXPECT_EQ(run->epochs_done(), 3);

  // The script ends after 3 epochs: a 4th is an error that says so.
  StatusOr<EpochResult> e4 = run->NextEpoch();
  ASSERT_FALSE(e4.ok());
  EXPECT_TRUE(Contains(e4.status(), "exited with code 0 before printing epoch 4"))
      << e4.status().message();
  EXPECT_TRUE(Contains(e4.status(), "a log line on stderr")) << e4.status().message();
  EXPECT_EQ(run->epochs_done(), 3);
}

TEST(ExternalTrainer, ACrashNamesTheSignalAndQuotesStderr) {
  testing::ScratchDir dir;
  auto run = Start(ShScript(dir,
                            "echo '{\"epoch\": 1, \"accuracy\": 0.5}'\n"
                            "echo 'about to crash' >&2\n"
                            "kill -SEGV $$\n"));
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->NextEpoch().ok());
  StatusOr<EpochResult> r = run->NextEpoch();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "SIGSEGV")) << r.status().message();
  EXPECT_TRUE(Contains(r.status(), "about to crash")) << r.status().message();
  EXPECT_TRUE(Contains(r.status(), "epoch 2")) << r.status().message();
}

TEST(ExternalTrainer, AnExitBeforeTheNextLineSaysTheExitCode) {
  const Status s = FirstEpochError("echo 'Traceback: ImportError: no module torch' >&2\nexit 3\n");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(s, "exited with code 3 before printing epoch 1")) << s.message();
  EXPECT_TRUE(Contains(s, "no module torch")) << s.message();
}

TEST(ExternalTrainer, AHangTimesOutAndKillsTheChild) {
  testing::ScratchDir dir;
  const std::string pid_file = dir.File("pid");
  ExternalTrainerOptions o = ShScript(dir,
                                      "echo $$ > \"$1\"\n"
                                      "echo '{\"epoch\": 1, \"accuracy\": 0.5}'\n"
                                      "sleep 30\n",
                                      {pid_file});
  o.epoch_timeout_s = 1;
  auto run = Start(o);
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->NextEpoch().ok());
  const auto t0 = std::chrono::steady_clock::now();
  StatusOr<EpochResult> r = run->NextEpoch();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(Contains(r.status(), "epoch_timeout_s")) << r.status().message();
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 10);
  // Killed and reaped at the timeout, before the run is destroyed.
  EXPECT_EQ(kill(std::stoi(testing::ReadFile(pid_file)), 0), -1);
}

TEST(ExternalTrainer, TheFirstEpochHasItsOwnTimeout) {
  testing::ScratchDir dir;
  ExternalTrainerOptions o = ShScript(dir, "sleep 30\n");
  o.first_epoch_timeout_s = 0.5;
  auto run = Start(o);
  ASSERT_NE(run, nullptr);
  StatusOr<EpochResult> r = run->NextEpoch();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "first_epoch_timeout_s")) << r.status().message();
}

TEST(ExternalTrainer, TimeWhilePausedDoesNotCountTowardsTheTimeout) {
  testing::ScratchDir dir;
  // `sleep` keeps wall time while stopped, so the child needs ~no running time for epoch 2.
  ExternalTrainerOptions o = ShScript(dir,
                                      "echo '{\"epoch\": 1, \"accuracy\": 0.5}'\n"
                                      "sleep 0.5\n"
                                      "echo '{\"epoch\": 2, \"accuracy\": 0.6}'\n");
  o.epoch_timeout_s = 1;
  auto run = Start(o);
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->NextEpoch().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // longer than the timeout
  StatusOr<EpochResult> r = run->NextEpoch();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(ExternalTrainer, BadLinesFailWithAClearMessage) {
  Status s = FirstEpochError("echo '{not json'\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "not a JSON object")) << s.message();
  EXPECT_TRUE(Contains(s, "{not json")) << s.message();

  s = FirstEpochError("echo '{\"epoch\": 1, \"accuracy\": 1.5}'\n");
  EXPECT_TRUE(Contains(s, "\"accuracy\" must be a finite fraction in [0, 1], got 1.5"))
      << s.message();

  s = FirstEpochError("echo '{\"epoch\": 1, \"accuracy\": NaN}'\n");
  EXPECT_TRUE(Contains(s, "\"accuracy\" must be a finite fraction in [0, 1], got \"NaN\""))
      << s.message();

  s = FirstEpochError("echo '{\"epoch\": 1, \"accuracy\": -0.1}'\n");
  EXPECT_TRUE(Contains(s, "accuracy")) << s.message();

  s = FirstEpochError("echo '{\"epoch\": 2, \"accuracy\": 0.5}'\n");
  EXPECT_TRUE(Contains(s, "epoch out of order: expected 1, got 2")) << s.message();

  s = FirstEpochError("echo '{\"epoch\": 1}'\n");
  EXPECT_TRUE(Contains(s, "no \"accuracy\"")) << s.message();

  s = FirstEpochError("echo '{\"accuracy\": 0.5}'\n");
  EXPECT_TRUE(Contains(s, "no \"epoch\"")) << s.message();

  s = FirstEpochError("echo '{\"epoch\": \"1\", \"accuracy\": 0.5}'\n");
  EXPECT_TRUE(Contains(s, "\"epoch\" is not an integer")) << s.message();

  s = FirstEpochError("echo '{\"epoch\": 1, \"accuracy\": 0.5, \"seconds\": -1}'\n");
  EXPECT_TRUE(Contains(s, "\"seconds\" must be a number >= 0")) << s.message();

  s = FirstEpochError("echo '[1, 2]'\necho '{\"epoch\": 1, \"accuracy\": 0.5}'\n");
  EXPECT_TRUE(s.ok()) << s.ToString();  // a line that does not start with '{' is logging
}

TEST(ExternalTrainer, AMissingProgramFailsToStart) {
  ExternalTrainerOptions o;
  o.argv = {"no-such-trainer-xyz", "--flag"};
  StatusOr<std::unique_ptr<TrainingRun>> r = StartExternalTraining(kArchJson, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(r.status(), "no-such-trainer-xyz")) << r.status().message();

  o.argv = {"/nonexistent/trainer"};
  r = StartExternalTraining(kArchJson, o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "/nonexistent/trainer")) << r.status().message();

  o.argv = {};
  EXPECT_EQ(StartExternalTraining(kArchJson, o).status().code(), StatusCode::kInvalidArgument);
}

uintmax_t SizeOf(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

TEST(ExternalTrainer, TheChildIsPausedBetweenEpochs) {
  testing::ScratchDir dir;
  const std::string counter = dir.File("counter");
  // Busy: append to `counter` forever; print epoch 1 after 200 appends and epoch 2 after 2000.
  auto run = Start(ShScript(dir,
                            "i=0\n"
                            "while :; do\n"
                            "  i=$((i+1)); echo $i >> \"$1\"\n"
                            "  [ $i -eq 200 ] && echo '{\"epoch\": 1, \"accuracy\": 0.5}'\n"
                            "  [ $i -eq 2000 ] && echo '{\"epoch\": 2, \"accuracy\": 0.6}'\n"
                            "done\n",
                            {counter}));
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->NextEpoch().ok());
  const uintmax_t paused_size = SizeOf(counter);
  EXPECT_GT(paused_size, 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(SizeOf(counter), paused_size);
  StatusOr<EpochResult> e2 = run->NextEpoch();  // resumes it
  ASSERT_TRUE(e2.ok()) << e2.status().ToString();
  EXPECT_GE(SizeOf(counter), paused_size);
}

TEST(ExternalTrainer, DestroyingTheRunKillsTheChild) {
  testing::ScratchDir dir;
  const std::string pid_file = dir.File("pid");
  auto run = Start(ShScript(dir,
                            "echo $$ > \"$1\"\n"
                            "echo '{\"epoch\": 1, \"accuracy\": 0.5}'\n"
                            "sleep 30\n",
                            {pid_file}));
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->NextEpoch().ok());  // now paused
  const int pid = std::stoi(testing::ReadFile(pid_file));
  EXPECT_EQ(kill(pid, 0), 0);
  run.reset();
  EXPECT_EQ(kill(pid, 0), -1);  // killed and reaped: not even a zombie
}

// examples/train_command/train_digits_sklearn.py, with Debian's python3-sklearn.
TEST(ExternalTrainer, TheSklearnExampleTrainsTheDigits) {
  const std::string python = "/usr/bin/python3";
  ChildOptions probe;
  probe.argv = {python, "-c", "import sklearn"};
  probe.timeout_s = 60;
  if (!std::filesystem::exists(python) || !RunChild(probe).ok()) {
    GTEST_SKIP() << "needs /usr/bin/python3 with scikit-learn (python3-sklearn)";
  }
  ExternalTrainerOptions o;
  o.argv = {python,
            std::string(SONAR_SOURCE_DIR) + "/examples/train_command/train_digits_sklearn.py"};
  o.first_epoch_timeout_s = 120;
  o.epoch_timeout_s = 60;
  auto run = Start(o);
  ASSERT_NE(run, nullptr);
  double last = 0;
  for (int e = 1; e <= 3; ++e) {
    StatusOr<EpochResult> r = run->NextEpoch();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->epoch, e);
    EXPECT_GT(r->seconds, 0);
    EXPECT_FALSE(std::isnan(r->train_loss));
    last = r->validation_accuracy;
  }
  EXPECT_GT(last, 0.5);  // ten classes: chance is 0.1
}

}  // namespace
}  // namespace sonar
