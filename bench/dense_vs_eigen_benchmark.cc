// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Quality comparison (issue 3, item 9): the best config this benchmark finds for the
// 512x512x512 dense template against Eigen's fp32 matrix product of the same size, timed in the
// same process with the same protocol, plus the wall time of one trial (compile + run) per
// template.
//
// Search: the dense template's hand-picked candidates (register-blocked, packed-panel configs a
// person would try first) plus --samples random valid configs; the best of all of them is the
// "best found" (its origin is printed). Every config goes through MakeLocalMeasurer (compiled
// with `c++ -O3 -march=native`, builds in parallel, timed runs one at a time in a child pinned to
// one core; warmup 1, number scaled to --min_repeat_ms, 5 repeats, median; checked against the
// reference). The compile cache is off during the search so the trial times are real. Then the
// best config (through the measurer) and Eigen (in this process, pinned to the same core, same
// protocol, re-measurement of unsteady repeats included) are re-timed alternately --rounds
// times and the medians compared, so a slow period of the machine hits both.
//
// Eigen: Eigen::MatrixXf C.noalias() = A * B, one thread, this binary compiled with
// -O3 -march=native (bench/CMakeLists.txt).
//
// Usage: dense_vs_eigen_benchmark [--samples N] [--seed S] [--rounds R] [--min_repeat_ms MS]
//                                 [--conv_trials N]
#include <sched.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/random.h"
#include "common/statistics.h"
#include "common/types.h"
#include "measure/measurer.h"
#include "measure/operators.h"

namespace sonar {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs f() with this thread pinned to `cpu` (the core the measurer pins its timed runs to), then
// restores the affinity, so that parallel builds still use every core.
template <typename F>
auto PinnedTo(int cpu, const F& f) {
  cpu_set_t old_set;
  const bool have_old = sched_getaffinity(0, sizeof old_set, &old_set) == 0;
  if (cpu >= 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    (void)sched_setaffinity(0, sizeof one, &one);
  }
  auto result = f();
  if (have_old) (void)sched_setaffinity(0, sizeof old_set, &old_set);
  return result;
}

int LastAllowedCpu() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return -1;
}

// Eigen's product timed with the measurer's protocol: warmup 1, number scaled to
// min_repeat_ms, 5 repeats; an attempt whose repeats spread more than max_spread (max/min - 1)
// is repeated up to max_remeasure times and the steadiest attempt kept (as MeasureOptions'
// max_repeat_spread / max_remeasure do for kernels). Returns the median seconds per call.
double TimeEigen(int n, double min_repeat_ms, double max_spread, int max_remeasure) {
  static Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n);
  static Eigen::MatrixXf b = Eigen::MatrixXf::Random(n, n);
  static Eigen::MatrixXf c(n, n);
  auto calls = [&](long long number) {
    const Clock::time_point t0 = Clock::now();
    for (long long i = 0; i < number; ++i) c.noalias() = a * b;
    return Seconds(t0);
  };
  double best_spread = 1e30, best_median = 0;
  for (int attempt = 0; attempt <= max_remeasure; ++attempt) {
    calls(1);
    long long number = 1;
    double elapsed = calls(number);
    while (elapsed < min_repeat_ms * 1e-3) {
      const double factor = elapsed > 0 ? 1.2 * min_repeat_ms * 1e-3 / elapsed : 16.0;
      number = static_cast<long long>(std::ceil(number * std::min(std::max(factor, 2.0), 1024.0)));
      elapsed = calls(number);
    }
    std::vector<double> s;
    for (int r = 0; r < 5; ++r) s.push_back(calls(number) / static_cast<double>(number));
    const double spread =
        *std::max_element(s.begin(), s.end()) / *std::min_element(s.begin(), s.end()) - 1;
    if (spread < best_spread) {
      best_spread = spread;
      best_median = Median(s);
    }
    if (spread <= max_spread) break;
  }
  if (c(0, 0) == 12345.0f) std::printf(" ");  // keep the product observable
  return best_median;
}

// Configs of the 512^3 dense a person would try first: a packed W panel, 16- or 8-wide vectors,
// MR x NR register blocks of 16 to 32 accumulators, a K block of 128-256 floats.
std::vector<std::vector<std::pair<std::string, std::vector<int64_t>>>> HandPicked() {
  std::vector<std::vector<std::pair<std::string, std::vector<int64_t>>>> out;
  struct B {
    int64_t mb, mr, nb, nr, kc, vec, unroll;
    std::vector<int64_t> order;
  };
  for (const B& b : std::vector<B>{{64, 8, 128, 32, 256, 16, 4, {1, 2, 0}},
                                   {64, 4, 128, 64, 256, 16, 4, {1, 2, 0}},
                                   {32, 8, 128, 32, 256, 8, 4, {1, 2, 0}},
                                   {64, 8, 64, 32, 128, 16, 2, {1, 2, 0}},
                                   {128, 8, 256, 32, 256, 16, 4, {1, 2, 0}},
                                   {64, 16, 128, 16, 256, 16, 4, {1, 2, 0}},
                                   {64, 4, 64, 64, 512, 16, 8, {2, 1, 0}},
                                   {128, 8, 512, 32, 128, 16, 4, {2, 1, 0}}}) {
    out.push_back({{"tile_y", {512 / b.mb, b.mb / b.mr, b.mr}},
                   {"tile_x", {512 / b.nb, b.nb / b.nr, b.nr}},
                   {"tile_k", {512 / b.kc, b.kc}},
                   {"vec", {b.vec}},
                   {"pack_b", {1}},
                   {"reorder_outer", b.order},
                   {"reorder_inner", {0, 1}},
                   {"unroll_k", {b.unroll}}});
  }
  return out;
}

// The config of `task` with the given knob values (candidate lists) over the default.
bool ConfigFromValues(const Task& task,
                      const std::vector<std::pair<std::string, std::vector<int64_t>>>& values,
                      Config* config) {
  *config = DefaultConfig(task);
  for (const auto& [name, value] : values) {
    const int k = task.space.FindKnob(name);
    if (k < 0) return false;
    const auto& cands = task.space.knob(k).candidates;
    const auto it = std::find(cands.begin(), cands.end(), value);
    if (it == cands.end()) return false;
    config->choice[k] = static_cast<int32_t>(it - cands.begin());
  }
  return task.space.Satisfies(*config);
}

double GetFlag(int argc, char** argv, const char* name, double fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return std::atof(argv[i + 1]);
  }
  return fallback;
}

struct TemplateTiming {
  std::string name;
  int trials = 0;
  double batch_wall_s = 0;  // wall time of the whole Measure() call
  std::vector<double> compile_s, run_s;
  double best_gflops = 0, default_gflops = 0;
  int failed = 0;
};

void PrintTiming(const TemplateTiming& t) {
  std::printf("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %d |\n", t.name.c_str(),
              t.trials, t.batch_wall_s / std::max(1, t.trials), Median(t.compile_s),
              Median(t.run_s), Median(t.compile_s) + Median(t.run_s), t.default_gflops,
              t.best_gflops, t.failed);
}

// Measures `configs` of `task` in one batch; fills `timing` and returns the results.
std::vector<MeasureResult> MeasureBatch(Measurer& measurer, const Task& task,
                                        const std::vector<Config>& configs,
                                        const std::vector<std::string>& origins,
                                        TemplateTiming* timing) {
  const Clock::time_point t0 = Clock::now();
  std::vector<MeasureResult> results = measurer.Measure(task, configs);
  timing->batch_wall_s = Seconds(t0);
  timing->trials = static_cast<int>(configs.size());
  const double flops = OperatorFlops(task);
  for (size_t i = 0; i < results.size(); ++i) {
    const MeasureResult& r = results[i];
    timing->compile_s.push_back(r.compile_seconds);
    timing->run_s.push_back(r.all_cost_seconds);
    const double g = r.ok() ? flops / r.median_seconds() * 1e-9 : 0.0;
    if (!r.ok()) ++timing->failed;
    if (i == 0) timing->default_gflops = g;
    timing->best_gflops = std::max(timing->best_gflops, g);
    std::printf("%-11s %-13s %8.2f GFLOP/s  compile %.2f s run %.2f s  %s%s%s\n",
                origins[i].c_str(), std::string(MeasureStatusToString(r.status)).c_str(), g,
                r.compile_seconds, r.all_cost_seconds, task.space.ToString(configs[i]).c_str(),
                r.ok() ? "" : "\n    ", r.ok() ? "" : r.error_msg.substr(0, 300).c_str());
  }
  std::fflush(stdout);
  return results;
}

int Main(int argc, char** argv) {
  const int samples = static_cast<int>(GetFlag(argc, argv, "--samples", 24));
  const uint64_t seed = static_cast<uint64_t>(GetFlag(argc, argv, "--seed", 1));
  const int rounds = static_cast<int>(GetFlag(argc, argv, "--rounds", 5));
  const double min_repeat_ms = GetFlag(argc, argv, "--min_repeat_ms", 50);
  const int conv_trials = static_cast<int>(GetFlag(argc, argv, "--conv_trials", 6));
  Eigen::setNbThreads(1);

  std::string tmpl = (std::filesystem::temp_directory_path() / "sonar_bench_XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a scratch directory\n");
    return 1;
  }
  const std::string dir = tmpl;
  MeasureOptions search_options;
  search_options.min_repeat_ms = min_repeat_ms;
  search_options.use_cache = false;  // real compile times for every trial
  search_options.time_reference = false;
  search_options.cache_dir = dir + "/search";
  MeasureOptions retime_options = search_options;
  retime_options.use_cache = true;
  retime_options.cache_dir = dir + "/retime";
  StatusOr<std::unique_ptr<Measurer>> search = MakeLocalMeasurer(search_options);
  StatusOr<std::unique_ptr<Measurer>> retime = MakeLocalMeasurer(retime_options);
  if (!search.ok() || !retime.ok()) {
    std::fprintf(stderr, "%s\n",
                 (search.ok() ? retime.status() : search.status()).ToString().c_str());
    return 1;
  }
  const int cpu = LastAllowedCpu();  // where the measurer pins its timed runs (pin_cpu = -1)

  StatusOr<Task> task_or = MakeOperatorTask("dense", {512, 512, 512});
  if (!task_or.ok()) {
    std::fprintf(stderr, "%s\n", task_or.status().ToString().c_str());
    return 1;
  }
  const Task& task = *task_or;
  const double flops = OperatorFlops(task);
  std::printf(
      "dense 512x512x512: %llu raw configs; default + %d hand-picked + %d random "
      "(seed %llu); timed runs and Eigen on cpu %d\n",
      static_cast<unsigned long long>(task.space.raw_size()), static_cast<int>(HandPicked().size()),
      samples, static_cast<unsigned long long>(seed), cpu);

  std::vector<Config> configs = {DefaultConfig(task)};
  std::vector<std::string> origins = {"default"};
  for (const auto& values : HandPicked()) {
    Config c;
    if (ConfigFromValues(task, values, &c)) {
      configs.push_back(c);
      origins.push_back("hand-picked");
    }
  }
  Rng rng = MakeRng(seed);
  for (int i = 0; i < samples; ++i) {
    StatusOr<Config> c = task.space.Sample(rng);
    if (c.ok()) {
      configs.push_back(*c);
      origins.push_back("random");
    }
  }
  TemplateTiming dense_timing{.name = "dense 512x512x512"};
  const std::vector<MeasureResult> results =
      MeasureBatch(**search, task, configs, origins, &dense_timing);
  int best = -1;
  for (size_t i = 1; i < results.size(); ++i) {
    if (results[i].ok() &&
        (best < 0 || results[i].median_seconds() < results[best].median_seconds())) {
      best = static_cast<int>(i);
    }
  }
  if (best < 0) {
    std::printf("no dense config ran\n");
    return 1;
  }
  int best_random = -1;
  for (size_t i = 1; i < results.size(); ++i) {
    if (origins[i] == "random" && results[i].ok() &&
        (best_random < 0 || results[i].median_seconds() < results[best_random].median_seconds())) {
      best_random = static_cast<int>(i);
    }
  }

  // Best config and Eigen, alternately.
  (void)(*retime)->Measure(task, {configs[best]});  // compile once into the cache
  std::vector<double> sonar_s, eigen_s;
  for (int r = 0; r < rounds; ++r) {
    const std::vector<MeasureResult> again = (*retime)->Measure(task, {configs[best]});
    if (again[0].ok()) sonar_s.push_back(again[0].median_seconds());
    eigen_s.push_back(PinnedTo(cpu, [&] {
      return TimeEigen(512, min_repeat_ms, retime_options.max_repeat_spread,
                       retime_options.max_remeasure);
    }));
  }
  const double sonar_gflops = flops / Median(sonar_s) * 1e-9;
  const double eigen_gflops = flops / Median(eigen_s) * 1e-9;
  std::printf("\nbest found (%s): %s\n", origins[best].c_str(),
              task.space.ToString(configs[best]).c_str());
  if (best_random >= 0) {
    std::printf("best random config: %.2f GFLOP/s  %s\n",
                flops / results[best_random].median_seconds() * 1e-9,
                task.space.ToString(configs[best_random]).c_str());
  }
  std::printf("re-timed alternately %d rounds (median over rounds of the per-round medians):\n",
              rounds);
  std::printf("  sonar best   %8.2f GFLOP/s\n", sonar_gflops);
  std::printf("  eigen        %8.2f GFLOP/s\n", eigen_gflops);
  std::printf("  default      %8.2f GFLOP/s (search batch)\n", dense_timing.default_gflops);
  std::printf("  ratio best_sonar / eigen = %.3f (goal >= 0.5)\n", sonar_gflops / eigen_gflops);
  std::printf("  speed-up best / default  = %.1fx\n",
              sonar_gflops / std::max(dense_timing.default_gflops, 1e-9));

  // Wall time per trial for the conv templates: the default and conv_trials random configs.
  std::vector<TemplateTiming> timings = {dense_timing};
  struct Layer {
    std::string op, label;
    std::vector<int64_t> shape;
  };
  for (const Layer& layer : std::vector<Layer>{
           {"conv2d", "conv2d ResNet-18 {1,64,56,56,64,3,3,1,1}", {1, 64, 56, 56, 64, 3, 3, 1, 1}},
           {"depthwise_conv2d",
            "depthwise MobileNet {1,32,112,112,3,3,1,1}",
            {1, 32, 112, 112, 3, 3, 1, 1}}}) {
    StatusOr<Task> t = MakeOperatorTask(layer.op, layer.shape);
    if (!t.ok()) continue;
    std::vector<Config> layer_configs = {DefaultConfig(*t)};
    std::vector<std::string> layer_origins = {"default"};
    Rng r = MakeRng(seed, 7);
    for (int i = 0; i < conv_trials; ++i) {
      StatusOr<Config> c = t->space.Sample(r);
      if (c.ok()) {
        layer_configs.push_back(*c);
        layer_origins.push_back("random");
      }
    }
    std::printf("\n%s\n", layer.label.c_str());
    TemplateTiming timing{.name = layer.label};
    (void)MeasureBatch(**search, *t, layer_configs, layer_origins, &timing);
    timings.push_back(timing);
  }
  std::printf(
      "\n| template | trials | batch wall s per trial | median compile s | median run s "
      "| compile + run s | default GFLOP/s | best GFLOP/s | failed |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  for (const TemplateTiming& t : timings) PrintTiming(t);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace sonar

int main(int argc, char** argv) { return sonar::Main(argc, argv); }
