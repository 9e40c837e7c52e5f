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
// "best found" (its origin is printed). Each config is compiled with `c++ -O3 -march=native`
// together with measure/harness/harness_main.cc and run as a child process (warmup 1, number
// scaled to --min_repeat_ms, 5 repeats, median; correctness checked on the first run). The best
// config and Eigen are then re-timed alternately --rounds times and the medians compared, so a
// slow period of the machine hits both.
//
// Eigen: Eigen::MatrixXf C.noalias() = A * B, one thread, this binary compiled with
// -O3 -march=native (bench/CMakeLists.txt).
//
// Usage: dense_vs_eigen_benchmark [--samples N] [--seed S] [--rounds R] [--min_repeat_ms MS]
//                                 [--conv_trials N]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/random.h"
#include "measure/operators.h"

extern char** environ;

namespace sonar {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `args` (argv[0] looked up in PATH), stdout and stderr to files; kills it after
// timeout_s. Returns the exit status, or -1 for a spawn failure, a signal or a timeout.
int Spawn(const std::vector<std::string>& args,
          const std::string& stdout_path,
          const std::string& stderr_path,
          double timeout_s) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  const Clock::time_point t0 = Clock::now();
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return -1;
    if (Seconds(t0) > timeout_s) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Trial {
  bool ok = false;
  std::string error;
  double median_s = 0;
  double max_error = -1;
  double compile_s = 0;
  double wall_s = 0;  // compile + run
};

class KernelRunner {
 public:
  KernelRunner(std::string dir, double min_repeat_ms)
      : dir_(std::move(dir)), min_repeat_ms_(min_repeat_ms) {}

  // Compiles `source` to a binary; returns its path or "" (error in *error).
  std::string Compile(const std::string& source, double* compile_s, std::string* error) {
    const std::string stem = dir_ + "/k" + std::to_string(next_id_++);
    std::ofstream(stem + ".cc") << source;
    const Clock::time_point t0 = Clock::now();
    const int rc = Spawn({"c++", "-O3", "-march=native", stem + ".cc",
                          std::string(SONAR_SOURCE_DIR) + "/measure/harness/harness_main.cc", "-o",
                          stem},
                         stem + ".cout", stem + ".cerr", 120);
    *compile_s = Seconds(t0);
    if (rc != 0) {
      *error = "compile failed: " + ReadFile(stem + ".cerr").substr(0, 500);
      return "";
    }
    return stem;
  }

  // Runs a compiled kernel: warmup 1, number scaled to min_repeat_ms, 5 repeats.
  bool Run(const std::string& binary, bool check, Trial* trial) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%g", min_repeat_ms_);
    const int rc = Spawn({binary, "1", "1", "5", ms, check ? "1" : "0", "7"}, binary + ".out",
                         binary + ".rerr", 120);
    const std::string out = ReadFile(binary + ".out");
    if (rc != 0) {
      trial->error = "run failed: " + out + ReadFile(binary + ".rerr").substr(0, 500);
      return false;
    }
    const size_t e = out.rfind("\"max_error\":");
    const size_t r = out.rfind("\"run_seconds\": [");
    if (e == std::string::npos || r == std::string::npos) {
      trial->error = "bad harness output: " + out;
      return false;
    }
    trial->max_error = std::strtod(out.c_str() + e + 12, nullptr);
    std::vector<double> seconds;
    const char* p = out.c_str() + r + 16;
    while (*p && *p != ']') {
      char* end = nullptr;
      const double v = std::strtod(p, &end);
      if (end == p) break;
      seconds.push_back(v);
      p = end;
      while (*p == ',' || *p == ' ') ++p;
    }
    if (seconds.empty()) {
      trial->error = "no run_seconds: " + out;
      return false;
    }
    trial->median_s = Median(seconds);
    return true;
  }

  Trial CompileAndRun(const std::string& source, std::string* binary) {
    Trial t;
    const Clock::time_point t0 = Clock::now();
    *binary = Compile(source, &t.compile_s, &t.error);
    if (!binary->empty() && Run(*binary, /*check=*/true, &t)) {
      t.ok = t.max_error >= 0 && t.max_error < 1e-3;
      if (!t.ok) t.error = "wrong answer, max_error " + std::to_string(t.max_error);
    }
    t.wall_s = Seconds(t0);
    return t;
  }

 private:
  std::string dir_;
  double min_repeat_ms_;
  int next_id_ = 0;
};

// Eigen's product timed with the harness protocol: warmup 1, number scaled to min_repeat_ms,
// 5 repeats, median seconds per call.
double TimeEigen(int n, double min_repeat_ms) {
  static Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n);
  static Eigen::MatrixXf b = Eigen::MatrixXf::Random(n, n);
  static Eigen::MatrixXf c(n, n);
  auto calls = [&](long long number) {
    const Clock::time_point t0 = Clock::now();
    for (long long i = 0; i < number; ++i) c.noalias() = a * b;
    return Seconds(t0);
  };
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
  if (c(0, 0) == 12345.0f) std::printf(" ");  // keep the product observable
  return Median(s);
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
  std::vector<double> wall_s, compile_s;
  double best_gflops = 0, default_gflops = 0;
  int failed = 0;
};

void PrintTiming(const TemplateTiming& t) {
  std::printf("| %s | %zu | %.2f | %.2f | %.2f | %.1f | %.1f | %d |\n", t.name.c_str(),
              t.wall_s.size(), Median(t.wall_s), Median(t.compile_s),
              Median(t.wall_s) - Median(t.compile_s), t.default_gflops, t.best_gflops, t.failed);
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
  KernelRunner runner(dir, min_repeat_ms);

  StatusOr<Task> task_or = MakeOperatorTask("dense", {512, 512, 512});
  if (!task_or.ok()) {
    std::fprintf(stderr, "%s\n", task_or.status().ToString().c_str());
    return 1;
  }
  const Task& task = *task_or;
  const double flops = OperatorFlops(task);
  std::printf("dense 512x512x512: %llu raw configs; %d hand-picked + %d random (seed %llu)\n",
              static_cast<unsigned long long>(task.space.raw_size()),
              static_cast<int>(HandPicked().size()), samples,
              static_cast<unsigned long long>(seed));

  struct Candidate {
    Config config;
    std::string origin;
  };
  std::vector<Candidate> candidates;
  for (const auto& values : HandPicked()) {
    Config c;
    if (ConfigFromValues(task, values, &c)) candidates.push_back({c, "hand-picked"});
  }
  Rng rng = MakeRng(seed);
  for (int i = 0; i < samples; ++i) {
    StatusOr<Config> c = task.space.Sample(rng);
    if (c.ok()) candidates.push_back({*c, "random"});
  }

  TemplateTiming dense_timing{.name = "dense 512x512x512"};
  // The default config first.
  std::string default_binary;
  {
    const Trial t = runner.CompileAndRun(*EmitKernelSource(task, DefaultConfig(task)),
                                         &default_binary);
    dense_timing.wall_s.push_back(t.wall_s);
    dense_timing.compile_s.push_back(t.compile_s);
    if (t.ok) dense_timing.default_gflops = flops / t.median_s * 1e-9;
    std::printf("default  %-6s %8.2f GFLOP/s  trial %.2f s  %s\n", t.ok ? "ok" : "FAILED",
                t.ok ? flops / t.median_s * 1e-9 : 0.0, t.wall_s,
                task.space.ToString(DefaultConfig(task)).c_str());
  }
  int best = -1;
  double best_s = 1e30;
  std::string best_binary;
  for (size_t i = 0; i < candidates.size(); ++i) {
    std::string binary;
    const Trial t = runner.CompileAndRun(*EmitKernelSource(task, candidates[i].config), &binary);
    dense_timing.wall_s.push_back(t.wall_s);
    dense_timing.compile_s.push_back(t.compile_s);
    if (!t.ok) ++dense_timing.failed;
    std::printf("%-8s %-6s %8.2f GFLOP/s  trial %.2f s  %s%s\n", candidates[i].origin.c_str(),
                t.ok ? "ok" : "FAILED", t.ok ? flops / t.median_s * 1e-9 : 0.0, t.wall_s,
                task.space.ToString(candidates[i].config).c_str(),
                t.ok ? "" : ("  " + t.error).c_str());
    std::fflush(stdout);
    if (t.ok && t.median_s < best_s) {
      best_s = t.median_s;
      best = static_cast<int>(i);
      best_binary = binary;
    }
  }
  if (best < 0) {
    std::printf("no dense config ran\n");
    return 1;
  }
  dense_timing.best_gflops = flops / best_s * 1e-9;

  // Best config and Eigen, alternately.
  std::vector<double> sonar_s, eigen_s;
  for (int r = 0; r < rounds; ++r) {
    Trial t;
    if (runner.Run(best_binary, /*check=*/false, &t)) sonar_s.push_back(t.median_s);
    eigen_s.push_back(TimeEigen(512, min_repeat_ms));
  }
  const double sonar_gflops = flops / Median(sonar_s) * 1e-9;
  const double eigen_gflops = flops / Median(eigen_s) * 1e-9;
  std::printf("\nbest found (%s): %s\n", candidates[best].origin.c_str(),
              task.space.ToString(candidates[best].config).c_str());
  std::printf("re-timed alternately %d rounds (median of per-round medians):\n", rounds);
  std::printf("  sonar best   %8.2f GFLOP/s\n", sonar_gflops);
  std::printf("  eigen        %8.2f GFLOP/s\n", eigen_gflops);
  std::printf("  default      %8.2f GFLOP/s (search phase)\n", dense_timing.default_gflops);
  std::printf("  ratio best_sonar / eigen = %.3f (goal >= 0.5)\n", sonar_gflops / eigen_gflops);
  std::printf("  speed-up best / default  = %.1fx\n",
              sonar_gflops / std::max(dense_timing.default_gflops, 1e-9));

  // Wall time per trial for the conv templates: the default and conv_trials random configs.
  std::vector<TemplateTiming> timings = {dense_timing};
  struct Layer {
    std::string op, label;
    std::vector<int64_t> shape;
  };
  for (const Layer& layer :
       std::vector<Layer>{{"conv2d", "conv2d ResNet-18 {1,64,56,56,64,3,3,1,1}",
                           {1, 64, 56, 56, 64, 3, 3, 1, 1}},
                          {"depthwise_conv2d", "depthwise MobileNet {1,32,112,112,3,3,1,1}",
                           {1, 32, 112, 112, 3, 3, 1, 1}}}) {
    StatusOr<Task> t = MakeOperatorTask(layer.op, layer.shape);
    if (!t.ok()) continue;
    TemplateTiming timing{.name = layer.label};
    const double f = OperatorFlops(*t);
    std::vector<Config> configs = {DefaultConfig(*t)};
    Rng r = MakeRng(seed, 7);
    for (int i = 0; i < conv_trials; ++i) {
      StatusOr<Config> c = t->space.Sample(r);
      if (c.ok()) configs.push_back(*c);
    }
    for (size_t i = 0; i < configs.size(); ++i) {
      std::string binary;
      const Trial trial = runner.CompileAndRun(*EmitKernelSource(*t, configs[i]), &binary);
      timing.wall_s.push_back(trial.wall_s);
      timing.compile_s.push_back(trial.compile_s);
      if (!trial.ok) ++timing.failed;
      const double g = trial.ok ? f / trial.median_s * 1e-9 : 0.0;
      if (i == 0) timing.default_gflops = g;
      timing.best_gflops = std::max(timing.best_gflops, g);
      std::printf("%s %s %-6s %8.2f GFLOP/s  trial %.2f s  %s\n", layer.op.c_str(),
                  i == 0 ? "default" : "random ", trial.ok ? "ok" : "FAILED", g, trial.wall_s,
                  t->space.ToString(configs[i]).c_str());
      std::fflush(stdout);
    }
    timings.push_back(timing);
  }
  std::printf("\n| template | trials | median wall s per trial | median compile s | median wall - compile s "
              "| default GFLOP/s | best GFLOP/s | failed |\n|---|---|---|---|---|---|---|---|\n");
  for (const TemplateTiming& t : timings) PrintTiming(t);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace sonar

int main(int argc, char** argv) { return sonar::Main(argc, argv); }
