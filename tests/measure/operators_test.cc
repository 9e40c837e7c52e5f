// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Tests of the operator templates (measure/operators.h): shape validation, FLOP counts, default
// configs, space sizes of realistic layers, and correctness of generated kernels. Correctness
// compiles each emitted source together with measure/harness/harness_main.cc with the system
// compiler (spawned from an argv, never a shell) and runs it with CHECK=1. No time is asserted.
#include "measure/operators.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/random.h"
#include "tests/testing/test_records.h"

extern char** environ;

namespace sonar {
namespace {

// Runs argv[0] (looked up in PATH) with `argv`, stdout to `stdout_path` ("" = inherit) and
// stderr to `stderr_path`. Returns the exit status, or -1 when it could not run or died of a
// signal.
int Spawn(const std::vector<std::string>& args, const std::string& stdout_path,
          const std::string& stderr_path) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  }
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct KernelRun {
  bool ok = false;
  double max_error = -1;
  std::string error;  // why it failed: compiler or run output
};

// Compiles `source` with the harness main and runs it once with CHECK=1.
KernelRun CompileAndCheck(const std::string& source, const std::string& dir, int id) {
  KernelRun out;
  const std::string stem = dir + "/k" + std::to_string(id);
  testing::WriteFile(stem + ".cc", source);
  const std::string harness = std::string(SONAR_SOURCE_DIR) + "/measure/harness/harness_main.cc";
  const int crc =
      Spawn({"c++", "-O2", "-march=native", stem + ".cc", harness, "-o", stem}, "", stem + ".cerr");
  if (crc != 0) {
    out.error = "compile failed: " + testing::ReadFile(stem + ".cerr").substr(0, 2000);
    return out;
  }
  // WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED
  const int rrc = Spawn({stem, "0", "1", "1", "0", "1", "7"}, stem + ".out", stem + ".rerr");
  const std::string json = testing::ReadFile(stem + ".out");
  if (rrc != 0) {
    out.error =
        "run failed (" + std::to_string(rrc) + "): " + json + testing::ReadFile(stem + ".rerr");
    return out;
  }
  const size_t at = json.rfind("\"max_error\":");
  if (at == std::string::npos) {
    out.error = "no max_error in: " + json;
    return out;
  }
  out.max_error = std::strtod(json.c_str() + at + 12, nullptr);
  out.ok = true;
  return out;
}

struct Case {
  Task task;
  Config config;
};

// Compiles and checks every case, two compiles at a time; expects max_error < 1e-3 for each.
void ExpectAllCorrect(const std::vector<Case>& cases) {
  testing::ScratchDir dir;
  std::vector<KernelRun> runs(cases.size());
  std::vector<std::string> sources(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    StatusOr<std::string> src = EmitKernelSource(cases[i].task, cases[i].config);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    sources[i] = *src;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < cases.size(); i = next++) {
      runs[i] = CompileAndCheck(sources[i], dir.File(""), static_cast<int>(i));
    }
  };
  std::thread other(worker);
  worker();
  other.join();
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string what =
        cases[i].task.name + " " + cases[i].task.space.ToString(cases[i].config);
    EXPECT_TRUE(runs[i].ok) << what << ": " << runs[i].error;
    if (runs[i].ok) {
      EXPECT_GE(runs[i].max_error, 0.0) << what;
      EXPECT_LT(runs[i].max_error, 1e-3) << what;
    }
  }
}

// The default config, the config with the largest blocks the constraints allow along each split
// (the last valid candidate index per knob, found greedily), and `samples` seeded random configs.
std::vector<Case> CasesFor(const Task& task, int samples, uint64_t seed) {
  std::vector<Case> cases;
  cases.push_back({task, DefaultConfig(task)});
  // Edge tiles: every split knob at its last candidate (inner factor = whole extent first) where
  // valid, starting from the default.
  Config edge = DefaultConfig(task);
  for (int k = 0; k < task.space.num_knobs(); ++k) {
    for (int32_t c = static_cast<int32_t>(task.space.knob(k).size()) - 1; c >= 0; --c) {
      Config trial = edge;
      trial.choice[k] = c;
      if (task.space.Satisfies(trial)) {
        edge = trial;
        break;
      }
    }
  }
  cases.push_back({task, edge});
  Rng rng = MakeRng(seed);
  for (int i = 0; i < samples; ++i) {
    StatusOr<Config> c = task.space.Sample(rng);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (c.ok()) cases.push_back({task, *c});
  }
  return cases;
}

Task MustMake(std::string_view op, const std::vector<int64_t>& shape,
              const OperatorOptions& options = {}) {
  StatusOr<Task> task = MakeOperatorTask(op, shape, "", options);
  SONAR_CHECK(task.ok()) << task.status().ToString();
  return *std::move(task);
}

// The number of valid configs: exact when the raw space has at most 2^21 configs, else a lower
// confidence bound (4 sigma) from `samples` uniform raw indices. *exact tells which.
double ValidConfigsLowerBound(const ConfigSpace& space, bool* exact) {
  const uint64_t raw = space.raw_size();
  if (raw <= (uint64_t{1} << 21)) {
    *exact = true;
    uint64_t valid = 0;
    for (uint64_t i = 0; i < raw; ++i) valid += space.Satisfies(space.At(i)) ? 1 : 0;
    return static_cast<double>(valid);
  }
  *exact = false;
  constexpr int kSamples = 20000;
  Rng rng = MakeRng(11);
  int valid = 0;
  for (int i = 0; i < kSamples; ++i) {
    const uint64_t index = static_cast<uint64_t>(UniformInt(rng, 0, static_cast<int64_t>(raw - 1)));
    valid += space.Satisfies(space.At(index)) ? 1 : 0;
  }
  const double p = static_cast<double>(valid) / kSamples;
  const double lower = p - 4.0 * std::sqrt(p * (1 - p) / kSamples);
  return std::max(0.0, lower) * static_cast<double>(raw);
}

// The default config of `task` with the named knobs set to the given values, written as
// ConfigSpace::ToString writes them ("[4,2,8]", "16", "panel", "true"). Fails the test when a
// value is unknown or the result is not valid.
Config WithKnobs(const Task& task, const std::vector<std::pair<std::string, std::string>>& set) {
  Config config = DefaultConfig(task);
  for (const auto& [name, text] : set) {
    const int k = task.space.FindKnob(name);
    EXPECT_GE(k, 0) << name;
    if (k < 0) continue;
    bool found = false;
    for (int32_t c = 0; c < task.space.knob(k).size() && !found; ++c) {
      Config trial = config;
      trial.choice[k] = c;
      const std::string all = " " + task.space.ToString(trial) + " ";
      if (all.find(" " + name + "=" + text + " ") != std::string::npos) {
        config = trial;
        found = true;
      }
    }
    EXPECT_TRUE(found) << name << "=" << text;
  }
  std::string violated;
  EXPECT_TRUE(task.space.Satisfies(config, &violated))
      << task.space.ToString(config) << ": " << violated;
  return config;
}

TEST(OperatorOptions, DefaultsAreValid) {
  EXPECT_TRUE(OperatorOptions{}.Validate().ok());
  OperatorOptions bad;
  bad.max_threads = 0;
  EXPECT_EQ(bad.Validate().code(), StatusCode::kInvalidArgument);
}

TEST(Operators, NamesTheThreeTemplates) {
  EXPECT_EQ(OperatorNames(), (std::vector<std::string>{"dense", "conv2d", "depthwise_conv2d"}));
}

TEST(Operators, MakeOperatorTaskRejectsBadShapesWithClearMessages) {
  auto error_of = [](std::string_view op, const std::vector<int64_t>& shape) {
    StatusOr<Task> task = MakeOperatorTask(op, shape);
    EXPECT_FALSE(task.ok()) << op << " " << ShapeToJson(shape);
    if (task.ok()) return std::string();
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument);
    return task.status().message();
  };
  EXPECT_NE(error_of("matmul", {4, 4, 4}).find("unknown operator"), std::string::npos);
  EXPECT_NE(error_of("dense", {4, 4}).find("{M, N, K}"), std::string::npos);
  EXPECT_NE(error_of("dense", {4, 0, 4}).find(">= 1"), std::string::npos);
  EXPECT_NE(error_of("dense", {1 << 20, 1 << 20, 4}).find("2^31"), std::string::npos);
  EXPECT_NE(error_of("conv2d", {1, 3, 8, 8, 4, 3, 3, 1}).find("stride, pad"), std::string::npos);
  EXPECT_NE(error_of("conv2d", {1, 3, 8, 8, 4, 3, 3, 0, 1}).find(">= 1"), std::string::npos);
  EXPECT_NE(error_of("conv2d", {1, 3, 8, 8, 4, 3, 3, 1, -1}).find("pad"), std::string::npos);
  EXPECT_NE(error_of("conv2d", {1, 3, 2, 2, 4, 5, 5, 1, 1}).find("window"), std::string::npos);
  EXPECT_NE(error_of("depthwise_conv2d", {1, 3, 8, 8, 3, 3, 1, 1, 1}).find("{N, C, H, W, R, S"),
            std::string::npos);
  EXPECT_NE(error_of("depthwise_conv2d", {1, 3, 4, 4, 7, 3, 1, 1}).find("window"),
            std::string::npos);
  OperatorOptions bad;
  bad.max_threads = 1000;
  EXPECT_FALSE(MakeOperatorTask("dense", {4, 4, 4}, "", bad).ok());
}

TEST(Operators, TasksNameTheirShapeAndKeepTheTarget) {
  StatusOr<Task> task = MakeOperatorTask("conv2d", {1, 64, 56, 56, 64, 3, 3, 1, 1}, "cpu-test");
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->name, "conv2d_n1_c64_h56_w56_k64_r3_s3_st1_p1");
  EXPECT_EQ(task->op, "conv2d");
  EXPECT_EQ(task->target, "cpu-test");
  for (const char* knob : {"tile_ic", "tile_oc", "tile_ow", "unroll_kw", "vec", "layout"}) {
    EXPECT_GE(task->space.FindKnob(knob), 0) << knob;
  }
  EXPECT_LT(task->space.FindKnob("threads"), 0);
  Task dense = MustMake("dense", {128, 3072, 768});
  for (const char* knob : {"tile_y", "tile_x", "tile_k", "vec", "pack_b", "unroll_k"}) {
    EXPECT_GE(dense.space.FindKnob(knob), 0) << knob;
  }
}

TEST(Operators, FlopsCountMultiplyAndAddSeparately) {
  EXPECT_DOUBLE_EQ(OperatorFlops(MustMake("dense", {512, 512, 512})), 2.0 * 512 * 512 * 512);
  EXPECT_DOUBLE_EQ(OperatorFlops(MustMake("dense", {1, 3072, 768})), 2.0 * 3072 * 768);
  // ResNet-18 conv: 56x56 output.
  EXPECT_DOUBLE_EQ(OperatorFlops(MustMake("conv2d", {1, 64, 56, 56, 64, 3, 3, 1, 1})),
                   2.0 * 64 * 56 * 56 * 64 * 9);
  // Stride 2, no pad: 7x7 input, 3x3 window -> 3x3 output.
  EXPECT_DOUBLE_EQ(OperatorFlops(MustMake("conv2d", {2, 3, 7, 7, 5, 3, 3, 2, 0})),
                   2.0 * 2 * 5 * 3 * 3 * 3 * 9);
  EXPECT_DOUBLE_EQ(OperatorFlops(MustMake("depthwise_conv2d", {1, 32, 112, 112, 3, 3, 1, 1})),
                   2.0 * 32 * 112 * 112 * 9);
  EXPECT_DOUBLE_EQ(OperatorFlops(MustMake("depthwise_conv2d", {1, 8, 9, 9, 3, 3, 2, 1})),
                   2.0 * 8 * 5 * 5 * 9);
}

TEST(Operators, DefaultConfigIsValidAndPlain) {
  for (const Task& task :
       {MustMake("dense", {128, 3072, 768}), MustMake("conv2d", {1, 64, 56, 56, 64, 3, 3, 1, 1}),
        MustMake("depthwise_conv2d", {1, 32, 112, 112, 3, 3, 1, 1}),
        MustMake("dense", {7, 13, 5}, {.max_threads = 4})}) {
    const Config c = DefaultConfig(task);
    std::string violated;
    EXPECT_TRUE(task.space.Satisfies(c, &violated)) << task.name << ": " << violated;
    const std::string text = task.space.ToString(c);
    EXPECT_NE(text.find("vec=1"), std::string::npos) << text;
    if (task.space.FindKnob("threads") >= 0) EXPECT_NE(text.find("threads=1"), std::string::npos);
  }
  const Task dense = MustMake("dense", {128, 3072, 768});
  EXPECT_EQ(dense.space.ToString(DefaultConfig(dense)),
            "tile_y=[128,1,1] tile_x=[3072,1,1] tile_k=[1,768] vec=1 pack_b=none "
            "reorder_outer=[0,1,2] reorder_inner=[0,1] unroll_k=1");
}

TEST(Operators, RealisticLayersHaveAtLeastTenThousandValidConfigs) {
  struct Layer {
    std::string op;
    std::vector<int64_t> shape;
  };
  for (const Layer& layer : std::vector<Layer>{{"conv2d", {1, 64, 56, 56, 64, 3, 3, 1, 1}},
                                               {"conv2d", {1, 128, 28, 28, 128, 3, 3, 1, 1}},
                                               {"dense", {128, 3072, 768}},
                                               {"dense", {1, 3072, 768}},
                                               {"dense", {512, 512, 512}}}) {
    const Task task = MustMake(layer.op, layer.shape);
    bool exact = false;
    const double valid = ValidConfigsLowerBound(task.space, &exact);
    EXPECT_GE(valid, 1e4) << task.name << " raw " << task.space.raw_size()
                          << (exact ? " exact" : " estimated lower bound");
    RecordProperty(task.name + "_raw", std::to_string(task.space.raw_size()));
    RecordProperty(task.name + (exact ? "_valid" : "_valid_lower_bound"),
                   std::to_string(static_cast<int64_t>(valid)));
  }
}

TEST(Operators, ThreadsKnobAppearsOnlyWhenAsked) {
  const Task one = MustMake("dense", {64, 64, 64});
  EXPECT_LT(one.space.FindKnob("threads"), 0);
  const Task four = MustMake("conv2d", {1, 8, 8, 8, 8, 3, 3, 1, 1}, {.max_threads = 6});
  const int k = four.space.FindKnob("threads");
  ASSERT_GE(k, 0);
  EXPECT_EQ(four.space.knob(k).candidates, (std::vector<std::vector<int64_t>>{{1}, {2}, {4}, {6}}));
}

TEST(Operators, EmitRejectsInvalidConfigsAndWritesConstants) {
  const Task task = MustMake("dense", {64, 48, 32});
  // vec=16 with the panel kernel and NR=1: the vector width does not divide the tile.
  Config bad = DefaultConfig(task);
  bad.choice[task.space.FindKnob("vec")] = 3;
  bad.choice[task.space.FindKnob("pack_b")] = 1;
  StatusOr<std::string> src = EmitKernelSource(task, bad);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(src.status().message().find("vec_divides_tile"), std::string::npos)
      << src.status().message();
  EXPECT_FALSE(EmitKernelSource(task, Config{{0, 1}}).ok());
  Task user = task;
  user.op = "user";
  EXPECT_FALSE(EmitKernelSource(user, DefaultConfig(task)).ok());

  StatusOr<std::string> good = EmitKernelSource(task, DefaultConfig(task));
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  for (const char* needle :
       {"constexpr long M = 64, N = 48, K = 32;", "MR = 1", "constexpr int V = 1;",
        "extern \"C\" void* sonar_init(unsigned long long seed)",
        "extern \"C\" void sonar_run(void* state)",
        "extern \"C\" double sonar_check(void* state)"}) {
    EXPECT_NE(good->find(needle), std::string::npos) << needle;
  }
}

// Odd shapes (primes, stride 2, padding, batch > 1) so that blocks of every size appear. Each
// test compiles about ten kernels, two at a time.
TEST(OperatorsCompiled, DenseConfigsComputeTheRightAnswer) {
  std::vector<Case> cases = CasesFor(MustMake("dense", {24, 40, 36}), 6, 1);
  for (Case& c : CasesFor(MustMake("dense", {7, 13, 17}), 1, 2)) cases.push_back(c);
  // The fast kind of config: a packed panel, 16-wide vectors, a 4 x 32 register block.
  const Task big = MustMake("dense", {32, 64, 48});
  cases.push_back({big, WithKnobs(big, {{"tile_y", "[2,4,4]"},
                                        {"tile_x", "[1,2,32]"},
                                        {"tile_k", "[2,24]"},
                                        {"vec", "16"},
                                        {"pack_b", "panel"},
                                        {"reorder_outer", "[1,2,0]"},
                                        {"unroll_k", "4"}})});
  ExpectAllCorrect(cases);
}

TEST(OperatorsCompiled, Conv2dConfigsComputeTheRightAnswer) {
  std::vector<Case> cases = CasesFor(MustMake("conv2d", {2, 6, 9, 11, 8, 3, 3, 1, 1}), 5, 3);
  for (Case& c : CasesFor(MustMake("conv2d", {1, 4, 10, 9, 16, 3, 2, 2, 0}), 2, 4)) {
    cases.push_back(c);
  }
  const Task t = MustMake("conv2d", {1, 8, 8, 8, 32, 3, 3, 1, 1});
  cases.push_back({t, WithKnobs(t, {{"tile_ic", "[2,4]"},
                                    {"tile_oc", "[1,32]"},
                                    {"tile_ow", "[2,4]"},
                                    {"vec", "16"},
                                    {"layout", "nchwc"},
                                    {"reorder_reduce", "[0,1,2,3]"},
                                    {"unroll_kw", "true"}})});
  ExpectAllCorrect(cases);
}

TEST(OperatorsCompiled, DepthwiseConfigsComputeTheRightAnswer) {
  std::vector<Case> cases =
      CasesFor(MustMake("depthwise_conv2d", {2, 16, 9, 12, 3, 3, 1, 1}), 5, 5);
  for (Case& c : CasesFor(MustMake("depthwise_conv2d", {1, 8, 11, 17, 3, 5, 2, 2}), 2, 6)) {
    cases.push_back(c);
  }
  const Task t = MustMake("depthwise_conv2d", {1, 16, 8, 16, 3, 3, 2, 1});
  cases.push_back({t, WithKnobs(t, {{"tile_ow", "[1,8]"}, {"vec", "8"}, {"layout", "nchw"}})});
  ExpectAllCorrect(cases);
}

// The check every template ends with sees a wrong output: the last and the first element of
// each kernel's output is corrupted just before sonar_check runs.
TEST(OperatorsCompiled, TheCheckCatchesAWrongFirstOrLastOutput) {
  testing::ScratchDir dir;
  int id = 0;
  for (const Task& task :
       {MustMake("dense", {7, 13, 17}), MustMake("conv2d", {2, 6, 9, 11, 8, 3, 3, 1, 1}),
        MustMake("depthwise_conv2d", {1, 8, 10, 10, 3, 3, 1, 1})}) {
    StatusOr<std::string> src = EmitKernelSource(task, DefaultConfig(task));
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    const std::string head = "extern \"C\" double sonar_check(void* state) {\n";
    const size_t at = src->find(head);
    ASSERT_NE(at, std::string::npos) << task.name;
    for (const char* index : {"n - 1", "0"}) {
      std::string wrong = *src;
      wrong.insert(at + head.size(),
                   std::string("  { unsigned long long n = 0; sonar_output(state, &n);\n") +
                       "    static_cast<State*>(state)->y[" + index + "] += 0.5f; }\n");
      wrong.insert(at, "extern \"C\" const float* sonar_output(void*, unsigned long long*);\n");
      const KernelRun run = CompileAndCheck(wrong, dir.File(""), id++);
      ASSERT_TRUE(run.ok) << task.name << ": " << run.error;
      EXPECT_GT(run.max_error, 1e-2) << task.name << " y[" << index << "]";
    }
    const KernelRun right = CompileAndCheck(*src, dir.File(""), id++);
    ASSERT_TRUE(right.ok) << task.name << ": " << right.error;
    EXPECT_LT(right.max_error, 1e-3) << task.name;
  }
}

TEST(OperatorsCompiled, ThreadedConfigsComputeTheRightAnswer) {
  const Task dense = MustMake("dense", {16, 24, 8}, {.max_threads = 3});
  const Task conv = MustMake("conv2d", {1, 4, 6, 6, 8, 3, 3, 1, 1}, {.max_threads = 2});
  ExpectAllCorrect({{dense, WithKnobs(dense, {{"tile_y", "[4,4,1]"}, {"threads", "3"}})},
                    {conv, WithKnobs(conv, {{"threads", "2"}})}});
}

}  // namespace
}  // namespace sonar
