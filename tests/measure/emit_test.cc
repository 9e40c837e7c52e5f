// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar emit's library side: kernels measured for real, emitted, compiled into a test program
// with the flags they were measured with, checked against a double-precision reference, and
// timed against the same configs in the measurement harness in the same run.
#include "measure/emit/emit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "common/random.h"
#include "measure/child_process.h"
#include "measure/measurer.h"
#include "measure/operators.h"
#include "measure/record_store.h"
#include "measure/user_kernel.h"
#include "tests/testing/test_records.h"
#include "tuner/tune.h"

namespace sonar {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// The CPU both sides of the speed comparison run on: the first one this process may use. The
// other timed tests pin their children to the last one (the measurer's default), so under
// ctest -j2 this comparison does not share its core with theirs.
int FirstCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) return c;
    }
  }
  return 0;
}

MeasureOptions TimingOptions() {
  MeasureOptions o;
  o.repeat = 5;
  o.min_repeat_ms = 20;
  o.pin_cpu = FirstCpu();
  o.cache_dir = testing::ProcessScratchDir();
  return o;
}

// A valid config of `task` other than the default, with vectors when the template allows.
Config SomeTunedConfig(const Task& task, uint64_t seed) {
  Rng rng = MakeRng(seed, 0);
  Config fallback = DefaultConfig(task);
  for (int i = 0; i < 200; ++i) {
    StatusOr<Config> c = task.space.Sample(rng);
    if (!c.ok()) continue;
    fallback = *c;
    if (task.space.ToString(*c).find("vec=1 ") == std::string::npos) return *c;
  }
  return fallback;
}

// The program that uses the emitted package: for each case, a Layer on deterministic inputs,
// its max relative error against a double-precision reference (y starts as NaN, so an output
// the kernel never writes fails), and, for tuned ones, its median seconds per call over 5
// repeats of at least 20 ms. One JSON line per case.
constexpr const char* kUserProgram = R"(#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <algorithm>
#include "sonar_tuned.h"

using sonar_tuned::Layer;

float* Aligned(std::size_t n, unsigned seed) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, (n * sizeof(float) + 63) / 64 * 64 + 64) != 0) std::abort();
  float* f = static_cast<float*>(p);
  unsigned s = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    f[i] = static_cast<float>((s >> 8) % 2001) / 1000.0f - 1.0f;
  }
  return f;
}

double Reference(const std::string& op, const std::vector<long>& s, const float* x,
                 const float* w, std::size_t i) {
  double acc = 0;
  if (op == "dense") {
    const long n = s[1], k = s[2], row = i / n, col = i % n;
    for (long j = 0; j < k; ++j) acc += double(x[row * k + j]) * w[col * k + j];
    return acc;
  }
  const bool dw = op == "depthwise_conv2d";
  const long C = s[1], H = s[2], W = s[3], K = dw ? C : s[4], R = s[dw ? 4 : 5],
             S = s[dw ? 5 : 6], st = s[dw ? 6 : 7], pad = s[dw ? 7 : 8];
  const long OH = (H + 2 * pad - R) / st + 1, OW = (W + 2 * pad - S) / st + 1;
  const long ow = i % OW, oh = i / OW % OH, k = i / (OW * OH) % K, n = i / (OW * OH * K);
  for (long c = dw ? k : 0; c < (dw ? k + 1 : C); ++c)
    for (long kh = 0; kh < R; ++kh)
      for (long kw = 0; kw < S; ++kw) {
        const long ih = oh * st + kh - pad, iw = ow * st + kw - pad;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        const double wv = dw ? w[(k * R + kh) * S + kw] : w[((k * C + c) * R + kh) * S + kw];
        acc += double(x[((n * C + c) * H + ih) * W + iw]) * wv;
      }
  return acc;
}

int main(int argc, char** argv) {
  // argv: op shape... ; repeated, separated by "--"
  for (int a = 1; a < argc;) {
    const std::string op = argv[a++];
    std::vector<long> shape;
    while (a < argc && std::string(argv[a]) != "--") shape.push_back(std::atol(argv[a++]));
    ++a;
    const std::size_t nx = sonar_tuned::InputFloats(op, shape),
                      nw = sonar_tuned::WeightFloats(op, shape),
                      ny = sonar_tuned::OutputFloats(op, shape);
    float* x = Aligned(nx, 1);
    float* w = Aligned(nw, 2);
    float* y = Aligned(ny, 3);
    for (std::size_t i = 0; i < ny; ++i) y[i] = NAN;
    Layer layer(op, shape, w);
    layer.Run(x, y);
    double err = 0;
    for (std::size_t i = 0; i < ny; ++i) {
      const double ref = Reference(op, shape, x, w, i);
      const double e = std::isfinite(y[i]) ? std::fabs(y[i] - ref) / (std::fabs(ref) + 1) : 1e30;
      err = std::max(err, e);
    }
    double median = 0;
    if (layer.tuned()) {
      using Clock = std::chrono::steady_clock;
      layer.Run(x, y);
      long number = 1;
      for (;;) {
        const auto t0 = Clock::now();
        for (long i = 0; i < number; ++i) layer.Run(x, y);
        if (std::chrono::duration<double>(Clock::now() - t0).count() >= 0.02) break;
        number *= 2;
      }
      std::vector<double> t;
      for (int r = 0; r < 5; ++r) {
        const auto t0 = Clock::now();
        for (long i = 0; i < number; ++i) layer.Run(x, y);
        t.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / number);
      }
      std::sort(t.begin(), t.end());
      median = t[2];
    }
    std::printf("{\"op\": \"%s\", \"kernel\": \"%s\", \"tuned\": %s, \"max_error\": %.3g, "
                "\"seconds\": %.9g}\n",
                op.c_str(), layer.kernel_name(), layer.tuned() ? "true" : "false", err, median);
  }
  return 0;
}
)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compiles the emitted package with `main_source` as the flags it was measured with; returns
// the binary's path ("" and a test failure when it does not build).
std::string BuildProgram(const std::string& dir, const std::string& main_source) {
  std::ofstream(dir + "/main.cc") << main_source;
  ChildOptions c;
  c.argv = {"c++",     "-std=c++17", "-O3", "-march=native", "-pthread", "-Wall", "-Wextra",
            "-Werror", "-I" + dir,   "-o",  dir + "/app"};
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".cc") c.argv.push_back(e.path().string());
  }
  c.timeout_s = 300;
  ChildResult r = RunChild(c);
  EXPECT_TRUE(r.ok()) << r.error << r.stderr_text;
  return r.ok() ? dir + "/app" : "";
}

struct Case {
  std::string op;
  std::vector<int64_t> shape;
};

std::vector<std::string> CaseArgs(const std::vector<Case>& cases) {
  std::vector<std::string> args;
  for (const Case& c : cases) {
    args.push_back(c.op);
    for (int64_t v : c.shape) args.push_back(std::to_string(v));
    args.push_back("--");
  }
  return args;
}

std::vector<Json> RunProgram(const std::string& app, const std::vector<Case>& cases, int cpu) {
  ChildOptions c;
  c.argv = {app};
  for (const std::string& a : CaseArgs(cases)) c.argv.push_back(a);
  c.timeout_s = 120;
  c.pin_cpu = cpu;
  ChildResult r = RunChild(c);
  EXPECT_TRUE(r.ok()) << r.error << r.stderr_text;
  std::vector<Json> out;
  std::istringstream lines(r.stdout_text);
  for (std::string line; std::getline(lines, line);) out.push_back(Json::parse(line));
  return out;
}

TEST(Emit, TunedKernelsComputeTheReferenceRunAsInTheHarnessAndOtherShapesFallBack) {
  testing::ScratchDir dir;
  const std::vector<Case> tuned = {{"dense", {48, 64, 80}},
                                   {"conv2d", {1, 8, 14, 14, 16, 3, 3, 1, 1}},
                                   {"depthwise_conv2d", {1, 16, 14, 14, 3, 3, 2, 1}}};
  MeasureOptions mo = TimingOptions();
  StatusOr<std::unique_ptr<Measurer>> measurer = MakeLocalMeasurer(mo);
  ASSERT_TRUE(measurer.ok()) << measurer.status().ToString();
  std::vector<Task> tasks;
  std::vector<Config> configs;
  const std::string log = dir.File("t.sonar");
  {
    StatusOr<RecordStore> store = RecordStore::Open(log, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (size_t i = 0; i < tuned.size(); ++i) {
      StatusOr<Task> task = MakeOperatorTask(tuned[i].op, tuned[i].shape);
      ASSERT_TRUE(task.ok()) << task.status().ToString();
      // The default config (slow) and a tuned one: the best record is the tuned one.
      const std::vector<Config> cs = {DefaultConfig(*task), SomeTunedConfig(*task, i)};
      std::vector<MeasureResult> results = (*measurer)->Measure(*task, cs);
      for (size_t k = 0; k < cs.size(); ++k) {
        ASSERT_TRUE(results[k].ok()) << results[k].error_msg;
        ASSERT_TRUE(store
                        ->Append(MakeRecord(*task, cs[k], results[k], "test", static_cast<int>(k),
                                            (*measurer)->hardware_id()))
                        .ok());
      }
      tasks.push_back(*task);
      configs.push_back(results[1].cost_seconds() < results[0].cost_seconds() ? cs[1] : cs[0]);
    }
  }
  StatusOr<std::vector<BestConfig>> best = BestConfigs(log);
  ASSERT_TRUE(best.ok()) << best.status().ToString();
  ASSERT_EQ(best->size(), 3u);
  for (size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_EQ((*best)[i].record.task.name, tasks[i].name);
    EXPECT_EQ((*best)[i].record.config.values, tasks[i].space.ToValues(configs[i]));
  }
  const std::string out = dir.File("tuned");
  StatusOr<EmitSummary> summary = EmitTunedKernels(*best, {.out_dir = out, .source_log = log});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->workloads.size(), 3u);
  // Each kernel file holds the measured kernel's code: EmitKernelSource's text between the
  // includes and the harness entry points.
  for (size_t i = 0; i < tasks.size(); ++i) {
    const std::string text = ReadFile(out + "/" + tasks[i].name + ".cc");
    EXPECT_THAT(text, HasSubstr("-std=c++17 -O3 -march=native -pthread"));
    StatusOr<std::string> harness = EmitKernelSource(tasks[i], configs[i]);
    ASSERT_TRUE(harness.ok());
    const size_t from = harness->find("constexpr long");
    const size_t to = harness->find("}  // namespace\n");
    EXPECT_THAT(text, HasSubstr(harness->substr(from, to - from)));
  }
  const std::string app = BuildProgram(out, kUserProgram);
  ASSERT_FALSE(app.empty());

  // Tuned shapes, then shapes nobody tuned (odd sizes, stride, no padding).
  std::vector<Case> all = tuned;
  all.push_back({"dense", {5, 7, 3}});
  all.push_back({"conv2d", {2, 3, 9, 7, 5, 3, 2, 2, 1}});
  all.push_back({"depthwise_conv2d", {1, 6, 8, 9, 3, 3, 1, 0}});
  const std::vector<Json> first = RunProgram(app, all, mo.pin_cpu);
  ASSERT_EQ(first.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(first[i]["tuned"].get<bool>(), i < tuned.size()) << first[i];
    EXPECT_LT(first[i]["max_error"].get<double>(), 1e-4) << first[i];
    if (i < tuned.size()) EXPECT_EQ(first[i]["kernel"], tasks[i].name);
    if (i >= tuned.size()) EXPECT_EQ(first[i]["kernel"], "generic");
  }

  // Speed: the emitted kernel against the same config in the harness, alternating in this run;
  // the faster of each side's medians so far. Rounds go on, up to six, until every ratio is
  // within 0.67-1.5; the test then requires 0.4-2.5. Between the two sides only where the
  // buffers land differs (the caller's x and y against the harness's), which moved the ratio
  // by up to about 1.4x on a quiet machine; a loaded one (ctest -j2 beside other builds) once
  // gave 2.45. A kernel that is not the measured one is off by several times: the naive
  // config of these shapes is 14-18x slower than a tuned one.
  std::vector<double> emitted(tuned.size(), 1e30), harness(tuned.size(), 1e30);
  auto ratios_settled = [&] {
    for (size_t i = 0; i < tuned.size(); ++i) {
      const double ratio = emitted[i] / harness[i];
      if (ratio < 0.67 || ratio > 1.5) return false;
    }
    return true;
  };
  for (int round = 0; round < 6 && (round < 2 || !ratios_settled()); ++round) {
    for (size_t i = 0; i < tuned.size(); ++i) {
      MeasureResult r = (*measurer)->Measure(tasks[i], {configs[i]})[0];
      ASSERT_TRUE(r.ok()) << r.error_msg;
      harness[i] = std::min(harness[i], r.median_seconds());
    }
    const std::vector<Json> run = RunProgram(app, tuned, mo.pin_cpu);
    ASSERT_EQ(run.size(), tuned.size());
    for (size_t i = 0; i < tuned.size(); ++i) {
      emitted[i] = std::min(emitted[i], run[i]["seconds"].get<double>());
    }
  }
  for (size_t i = 0; i < tuned.size(); ++i) {
    const double ratio = emitted[i] / harness[i];
    std::printf("%s %s: emitted %.3g s, harness %.3g s, ratio %.3f\n", tasks[i].name.c_str(),
                tasks[i].space.ToString(configs[i]).c_str(), emitted[i], harness[i], ratio);
    EXPECT_GT(ratio, 0.4) << tasks[i].name;
    EXPECT_LT(ratio, 2.5) << tasks[i].name;
  }
}

// Records made by hand (no measurement) for the file-level tests.
Record OkRecord(const Task& task, const Config& config, double seconds) {
  MeasureResult r;
  r.status = MeasureStatus::kOk;
  r.run_seconds = {seconds, seconds, seconds};
  return MakeRecord(task, config, r, "test", 0, "hw");
}

TEST(Emit, AllSkipsWhatCannotBeEmittedAndAWorkloadThatCannotIsAnError) {
  testing::ScratchDir dir;
  StatusOr<Task> dense = MakeOperatorTask("dense", {16, 32, 8}, "cpu-test");
  StatusOr<Task> conv = MakeOperatorTask("conv2d", {1, 4, 8, 8, 8, 3, 3, 1, 1}, "cpu-test");
  ASSERT_TRUE(dense.ok() && conv.ok());
  std::vector<BestConfig> best;
  for (const Task* t : {&*dense, &*conv}) {
    Record r = OkRecord(*t, DefaultConfig(*t), 1e-3);
    best.push_back({r, RecordCost(r)});
  }
  // A TVM task (not a Sonar template) and a record of an older template version.
  Record tvm = best[0].record;
  tvm.task.op = "topi_nn_dense";
  tvm.task.name = "dense_nopack.x86";
  tvm.workload_key = tvm.task.ComputeWorkloadKey();
  Record old = best[1].record;
  old.task.template_version = 0;
  old.task.target = "cpu-other";
  old.task.args_json = "[1,4,8,8,8,3,3,1,0]";
  old.workload_key = old.task.ComputeWorkloadKey();
  std::vector<BestConfig> all = best;
  all.push_back({tvm, 1e-3});
  all.push_back({old, 1e-3});

  StatusOr<EmitSummary> s = EmitTunedKernels(all, {.out_dir = dir.File("a")}, true);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->workloads.size(), 2u);
  ASSERT_EQ(s->skipped.size(), 2u);
  EXPECT_THAT(s->skipped[0], HasSubstr("not one of Sonar's templates"));
  EXPECT_THAT(s->skipped[1], HasSubstr("version 0 of the conv2d template"));
  const Json j = Json::parse(ReadFile(dir.File("a/best_configs.json")));
  EXPECT_EQ(j["workloads"].size(), 2u);
  EXPECT_EQ(j["skipped"].size(), 2u);

  // Without skipping, the first unusable workload is the error, and nothing is written.
  StatusOr<EmitSummary> e = EmitTunedKernels(all, {.out_dir = dir.File("b")}, false);
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(e.status().message(), HasSubstr("dense_nopack.x86"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("b")));

  // Two workloads of the same shape for two targets cannot share the dispatch.
  Record other = best[0].record;
  other.task.target = "cpu-other";
  other.workload_key = other.task.ComputeWorkloadKey();
  e = EmitTunedKernels({best[0], {other, 1e-3}}, {.out_dir = dir.File("c")}, false);
  EXPECT_THAT(e.status().message(), HasSubstr("--workload KEY"));
  // ... unless one of them is this machine's target: that one goes in, the other is listed.
  e = EmitTunedKernels({{other, 1e-3}, best[0]},
                       {.out_dir = dir.File("c"), .preferred_target = "cpu-test"}, false);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->skipped.size(), 1u);
  EXPECT_THAT(e->skipped[0], HasSubstr("cpu-other"));
  EXPECT_THAT(ReadFile(dir.File("c/sonar_tuned.cc")), HasSubstr("\"cpu-test\""));

  // Existing files are refused unless force, and left as they were.
  std::ofstream(dir.File("a/sonar_tuned.h")) << "mine";
  e = EmitTunedKernels(best, {.out_dir = dir.File("a")}, false);
  EXPECT_THAT(e.status().message(), HasSubstr("--force"));
  EXPECT_EQ(ReadFile(dir.File("a/sonar_tuned.h")), "mine");
  e = EmitTunedKernels(best, {.out_dir = dir.File("a"), .force = true}, false);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_THAT(ReadFile(dir.File("a/sonar_tuned.h")), HasSubstr("class Layer"));

  // Nothing usable at all.
  e = EmitTunedKernels({{tvm, 1e-3}}, {.out_dir = dir.File("d")}, true);
  EXPECT_THAT(e.status().message(), HasSubstr("nothing to emit"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("d")));

  for (const char* bad : {"class", "std", "a::int", "x::", "__x"}) {
    EXPECT_THAT(
        EmitTunedKernels(best, {.out_dir = dir.File("e"), .name_space = bad}).status().message(),
        HasSubstr("--namespace"))
        << bad;
  }
  EXPECT_TRUE(EmitTunedKernels(best, {.out_dir = dir.File("e"), .name_space = "my::tuned"}).ok());
  EXPECT_THAT(
      EmitTunedKernels(best, {.out_dir = dir.File("f"), .name_space = "9x"}).status().message(),
      HasSubstr("--namespace"));
}

// A config tuned with a threads knob (OperatorOptions::max_threads > 1) emits with its value:
// the record does not keep max_threads, so the task is rebuilt with max_threads = the value.
TEST(Emit, AConfigWithThreadsEmitsItsThreads) {
  testing::ScratchDir dir;
  OperatorOptions o;
  o.max_threads = 8;
  StatusOr<Task> dense = MakeOperatorTask("dense", {64, 32, 16}, "cpu-test", o);
  ASSERT_TRUE(dense.ok());
  Rng rng = MakeRng(9, 0);
  std::optional<Config> four;
  for (int i = 0; i < 500 && !four; ++i) {
    StatusOr<Config> c = dense->space.Sample(rng);
    if (c.ok() && dense->space.ToString(*c).find("threads=4") != std::string::npos) four = *c;
  }
  ASSERT_TRUE(four.has_value());
  Record r = OkRecord(*dense, *four, 1e-4);
  StatusOr<EmitSummary> s = EmitTunedKernels({{r, 1e-4}}, {.out_dir = dir.File("t")});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT(ReadFile(dir.File("t/dense_m64_n32_k16.cc")), HasSubstr("THREADS = 4;"));
}

TEST(Emit, BestConfigsPicksTheFastestAndSaysWhenAWorkloadOnlyFailed) {
  testing::ScratchDir dir;
  StatusOr<Task> dense = MakeOperatorTask("dense", {16, 32, 8}, "cpu-test");
  ASSERT_TRUE(dense.ok());
  Rng rng = MakeRng(3, 0);
  const std::string log = dir.File("b.sonar");
  {
    StatusOr<RecordStore> store = RecordStore::Open(log, {});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(store->Append(OkRecord(*dense, DefaultConfig(*dense), 3e-3)).ok());
    ASSERT_TRUE(store->Append(OkRecord(*dense, *dense->space.Sample(rng), 1e-3)).ok());
    ASSERT_TRUE(store->Append(OkRecord(*dense, *dense->space.Sample(rng), 2e-3)).ok());
    StatusOr<Task> conv = MakeOperatorTask("conv2d", {1, 4, 8, 8, 8, 3, 3, 1, 1}, "cpu-test");
    MeasureResult failed;
    failed.status = MeasureStatus::kCompileError;
    ASSERT_TRUE(store->Append(MakeRecord(*conv, DefaultConfig(*conv), failed, "t", 0, "")).ok());
  }
  StatusOr<std::vector<BestConfig>> best = BestConfigs(log);
  ASSERT_TRUE(best.ok()) << best.status().ToString();
  ASSERT_EQ(best->size(), 1u);
  EXPECT_DOUBLE_EQ((*best)[0].cost_seconds, 1e-3);
  StatusOr<std::vector<BestConfig>> none = BestConfigs(log, "conv2d");
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.status().message(), HasSubstr("no successful record of workload 'conv2d'"));
  EXPECT_THAT(BestConfigs(log, "matmul").status().message(), HasSubstr("--workload"));
  EXPECT_EQ(BestConfigs(dir.File("missing.sonar")).status().code(), StatusCode::kNotFound);
  std::vector<std::string> only_failed;
  ASSERT_TRUE(BestConfigs(log, "", &only_failed).ok());
  ASSERT_EQ(only_failed.size(), 1u);
  EXPECT_THAT(only_failed[0], HasSubstr("its 1 records all failed"));
}

TEST(Emit, AUserKernelGetsTheDefinesItWasMeasuredWith) {
  testing::ScratchDir dir;
  const std::string kernels = std::string(SONAR_SOURCE_DIR) + "/examples/user_kernel/";
  StatusOr<Task> task = MakeUserKernelTask(kernels + "matmul.cc", kernels + "SPACE.json");
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  Rng rng = MakeRng(5, 0);
  StatusOr<Config> config = task->space.Sample(rng);
  ASSERT_TRUE(config.ok());
  Record r = OkRecord(*task, *config, 2e-3);
  StatusOr<EmitSummary> s = EmitTunedKernels({{r, 2e-3}}, {.out_dir = dir.File("u")});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->workloads.size(), 1u);
  EXPECT_EQ(s->workloads[0].kind, "constants");
  const std::string header = ReadFile(dir.File("u/" + s->workloads[0].file));
  const std::vector<std::string> defines = UserKernelDefines(task->space, *config);
  ASSERT_FALSE(defines.empty());
  for (const std::string& d : defines) {
    const size_t eq = d.find('=');
    EXPECT_THAT(header, HasSubstr("#define " + d.substr(2, eq - 2) + " " + d.substr(eq + 1)));
  }
  const Json j = Json::parse(ReadFile(dir.File("u/best_configs.json")));
  EXPECT_EQ(j["workloads"][0]["defines"], defines);
  EXPECT_EQ(j["workloads"][0]["seconds"], 2e-3);
  // No kernels: no dispatch files.
  EXPECT_FALSE(std::filesystem::exists(dir.File("u/sonar_tuned.h")));
}

// A network of the joint search: its conv layer tuned, its classifier not; the emitted class
// runs both with the glue and matches a reference computed here.
TEST(Emit, ANetworkRunsItsLayersWithTheGlue) {
  testing::ScratchDir dir;
  const std::vector<int64_t> conv_shape = {1, 1, 8, 8, 4, 3, 3, 1, 1};
  const std::vector<int64_t> dense_shape = {1, 10, 4 * 4 * 4};
  StatusOr<Task> conv = MakeOperatorTask("conv2d", conv_shape, "cpu-test");
  ASSERT_TRUE(conv.ok());
  Record r = OkRecord(*conv, SomeTunedConfig(*conv, 1), 1e-6);
  EmitNetworkSpec net{"c4k3-net",
                      {{"conv2d", conv_shape, true, 2}, {"dense", dense_shape, false, 1}}};
  StatusOr<EmitSummary> s = EmitTunedKernels({{r, 1e-6}}, {.out_dir = dir.File("n")}, false, {net});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->networks.size(), 1u);
  EXPECT_EQ(s->networks[0], "net_c4k3_net");
  const std::string program = R"(#include <cmath>
#include <cstdio>
#include <vector>
#include "sonar_tuned.h"
int main() {
  std::vector<float> x(64), w0(36), w1(640), y(10, NAN);
  for (int i = 0; i < 64; ++i) x[i] = std::sin(i * 0.7f);
  for (int i = 0; i < 36; ++i) w0[i] = std::cos(i * 1.3f);
  for (int i = 0; i < 640; ++i) w1[i] = std::sin(i * 0.11f);
  sonar_tuned::net_c4k3_net net({w0.data(), w1.data()});
  net.Run(x.data(), y.data());
  // Reference: conv 3x3 pad 1, ReLU, 2x2 max-pool, dense.
  double conv[4][8][8], pooled[4][4][4];
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) {
        double a = 0;
        for (int r = 0; r < 3; ++r)
          for (int c = 0; c < 3; ++c) {
            const int ii = i + r - 1, jj = j + c - 1;
            if (ii >= 0 && ii < 8 && jj >= 0 && jj < 8) a += x[ii * 8 + jj] * w0[k * 9 + r * 3 + c];
          }
        conv[k][i][j] = a > 0 ? a : 0;
      }
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        double m = conv[k][2 * i][2 * j];
        for (int d = 0; d < 4; ++d) m = std::fmax(m, conv[k][2 * i + d / 2][2 * j + d % 2]);
        pooled[k][i][j] = m;
      }
  double err = 0;
  for (int o = 0; o < 10; ++o) {
    double a = 0;
    for (int f = 0; f < 64; ++f) a += (&pooled[0][0][0])[f] * w1[o * 64 + f];
    err = std::fmax(err, std::isfinite(y[o]) ? std::fabs(y[o] - a) / (std::fabs(a) + 1) : 1e30);
  }
  std::printf("%d %d %zu %zu %g\n", net.layer(0).tuned(), net.layer(1).tuned(),
              net.InputFloats(), net.OutputFloats(), err);
  return err < 1e-4 ? 0 : 1;
}
)";
  const std::string app = BuildProgram(dir.File("n"), program);
  ASSERT_FALSE(app.empty());
  ChildResult run = RunChild({.argv = {app}, .timeout_s = 60});
  EXPECT_TRUE(run.ok()) << run.stdout_text << run.stderr_text;
  EXPECT_THAT(run.stdout_text, HasSubstr("1 0 64 10 "));
}

}  // namespace
}  // namespace sonar
