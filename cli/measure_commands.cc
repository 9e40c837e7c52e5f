// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar measure: compile and time one given config or N random configs of a built-in operator
// or a user kernel on this machine (measure/measurer.h, docs/measurement.md).
#include <sys/utsname.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "cli/commands.h"
#include "common/random.h"
#include "measure/cuda/cuda_device.h"
#include "measure/cuda/cuda_measurer.h"
#include "measure/cuda/cuda_operators.h"
#include "measure/emit/emit.h"
#include "measure/measurer.h"
#include "measure/operators.h"
#include "measure/record_store.h"
#include "measure/user_kernel.h"
#include "space/task.h"

namespace sonar {
namespace {

using cli::kExitFailure;
using cli::kExitOk;
using cli::kExitUsage;
using Json = nlohmann::json;

struct MeasureArgs {
  std::string op;
  std::string shape;
  std::string kernel;
  std::string space;
  std::string config;
  int sample = 0;
  std::string records;
  bool json = false;
  uint64_t seed = 0;
  bool no_cache = false;
  std::string compiler = "c++";
  std::string flags = "-O3 -march=native";
  std::string cache_dir;
  std::string target;
  int repeat = 0;
  double min_repeat_ms = -1;
  double run_timeout_s = 0;
  double compile_timeout_s = 0;
  bool no_reference = false;
  cli::BackendFlags backend;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "sonar measure: %s\n", message.c_str());
  return kExitUsage;
}

// Whitespace-separated flags; each becomes one argv entry of the compiler (no shell).
std::vector<std::string> SplitFlags(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

// {"tile_x": [-1, 8, 4], "vec": 8, "layout": "nchwc", "fast": true} -> a config of `space`.
StatusOr<Config> ParseConfigJson(const ConfigSpace& space, const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError("--config must be a JSON object knob name -> value, got: " + text);
  }
  std::vector<KnobValue> values;
  for (const auto& [name, value] : j.items()) {
    const int k = space.FindKnob(name);
    if (k < 0) {
      std::string names;
      for (const Knob& knob : space.knobs()) names += (names.empty() ? "" : ", ") + knob.name;
      return InvalidArgumentError("--config: unknown knob '" + name + "'; the knobs are: " + names);
    }
    const Knob& knob = space.knob(k);
    KnobValue v;
    v.name = name;
    v.kind = knob.kind;
    if (value.is_array()) {
      for (const Json& e : value) {
        if (!e.is_number_integer())
          return InvalidArgumentError("--config: " + name + ": expected integers");
        v.ints.push_back(e.get<int64_t>());
      }
    } else if (value.is_string()) {
      v.strings = {value.get<std::string>()};
    } else if (value.is_boolean()) {
      v.ints = {value.get<bool>() ? 1 : 0};
    } else if (value.is_number_integer()) {
      v.ints = {value.get<int64_t>()};
    } else {
      return InvalidArgumentError("--config: " + name + ": unsupported value " + value.dump());
    }
    values.push_back(std::move(v));
  }
  StatusOr<Config> c = space.FromValues(values);
  if (!c.ok()) return InvalidArgumentError("--config: " + c.status().message());
  return c;
}

int RunMeasure(const MeasureArgs& a) {
  const bool by_op = !a.op.empty();
  const bool by_kernel = !a.kernel.empty();
  if (by_op == by_kernel)
    return Usage("give either --op (with --shape) or --kernel (with --space)");
  if (by_op && a.shape.empty()) return Usage("--op needs --shape, e.g. --shape 512,512,512");
  if (by_kernel && a.space.empty()) return Usage("--kernel needs --space SPACE.json");
  if (a.config.empty() == (a.sample <= 0))
    return Usage("give either --config JSON or --sample N (N >= 1)");

  MeasureOptions options;
  options.use_cache = !a.no_cache;
  if (a.compiler.empty()) return Usage("--compiler is empty");
  options.compiler = a.compiler;
  options.compiler_flags = SplitFlags(a.flags);
  options.cache_dir = a.cache_dir;
  options.time_reference = !a.no_reference;
  if (a.repeat > 0) options.repeat = a.repeat;
  if (a.min_repeat_ms >= 0) options.min_repeat_ms = a.min_repeat_ms;
  if (a.run_timeout_s > 0) options.run_timeout_s = a.run_timeout_s;
  if (a.compile_timeout_s > 0) options.compile_timeout_s = a.compile_timeout_s;
  const std::string target = a.target;  // empty: ThisMachineTarget() (cuda: CudaTarget)
  StatusOr<bool> cuda = cli::UsesCuda(a.backend, a.kernel);
  if (!cuda.ok()) return Usage(cuda.status().message());
  const CudaOptions cuda_options = cli::CudaOptionsFromFlags(a.backend);
  if (Status s = cuda_options.Validate(); *cuda && !s.ok()) return Usage(s.message());

  Task task;
  if (by_op) {
    StatusOr<Task> t = *cuda ? cli::CudaOperatorTaskFromFlags(a.op, a.shape, target)
                             : cli::OperatorTaskFromFlags(a.op, a.shape, target);
    if (!t.ok()) return Usage(t.status().message());
    task = std::move(t).value();
  } else {
    StatusOr<UserKernel> k = LoadUserKernel(a.kernel, a.space, target);
    if (!k.ok()) {
      if (k.status().code() == StatusCode::kNotFound) return cli::Fail(k.status());
      return Usage(k.status().message());
    }
    options.reference_values = k->reference;
    task = std::move(k->task);
  }
  if (Status s = options.Validate(); !s.ok()) return Usage(s.message());

  std::vector<Config> configs;
  if (!a.config.empty()) {
    StatusOr<Config> c = ParseConfigJson(task.space, a.config);
    if (!c.ok()) return Usage(c.status().message());
    configs.push_back(*c);
  } else {
    Rng rng = MakeRng(a.seed);
    std::unordered_set<Config, ConfigHash> seen;
    for (int tries = 0; static_cast<int>(configs.size()) < a.sample && tries < a.sample * 50;
         ++tries) {
      StatusOr<Config> c = task.space.Sample(rng);
      if (!c.ok()) return Usage("cannot sample a valid config: " + c.status().message());
      if (seen.insert(*c).second) configs.push_back(*c);
    }
  }

  std::unique_ptr<RecordStore> store;
  if (!a.records.empty()) {
    StatusOr<RecordStore> s = RecordStore::Open(a.records, {});
    if (!s.ok()) return cli::Fail(s.status());
    store = std::make_unique<RecordStore>(std::move(s).value());
  }
  StatusOr<std::unique_ptr<Measurer>> measurer = InternalError("no measurer");
  if (*cuda) {
    // The GPU: its target names its compute capability and hardware id (the device is queried by
    // a small nvcc-built program; no GPU is a clear error, exit 1).
    if (target.empty()) {
      StatusOr<CudaDeviceInfo> info = QueryCudaDevice(cuda_options, false, a.cache_dir);
      if (!info.ok()) return cli::Fail(info.status());
      task.target = CudaTarget(*info);
    }
    measurer = MakeCudaMeasurer(options, cuda_options);
  } else {
    measurer = MakeLocalMeasurer(options);
  }
  if (!measurer.ok()) return cli::Fail(measurer.status());

  if (!a.json) {
    std::fprintf(stderr, "measuring %zu config(s) of %s (%s) ...\n", configs.size(),
                 task.name.c_str(), WorkloadKeyToHex(task.WorkloadKey()).c_str());
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<MeasureResult> results = (*measurer)->Measure(task, configs);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double flops = !by_op ? 0 : *cuda ? CudaOperatorFlops(task) : OperatorFlops(task);
  const double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

  Json out_results = Json::array();
  for (size_t i = 0; i < configs.size(); ++i) {
    const MeasureResult& r = results[i];
    const std::vector<KnobValue> values = task.space.ToValues(configs[i]);
    if (store) {
      Record rec;
      rec.workload_key = task.WorkloadKey();
      rec.task = {.name = task.name,
                  .op = task.op,
                  .args_json = ShapeToJson(task.shape),
                  .target = task.target,
                  .template_version = task.template_version};
      rec.config.values = values;
      const int64_t index = task.space.IndexOf(configs[i]);
      if (index >= 0) rec.config.index = index;
      rec.result = r;
      rec.timestamp_unix_s = now_s;
      rec.tuner = "measure";
      rec.trial = static_cast<int32_t>(i);
      rec.hardware_id = (*measurer)->hardware_id();
      rec.source_version = "sonar";
      if (Status s = store->Append(rec); !s.ok()) return cli::Fail(s);
    }
    const double median = r.ok() ? r.median_seconds() : 0;
    const double gflops = r.ok() && flops > 0 ? flops / median * 1e-9 : 0;
    const double relative = r.ok() && r.reference_seconds > 0 ? median / r.reference_seconds : 0;
    if (a.json) {
      Json o;
      o["config"] = Json::parse(KnobValuesToJson(values));
      o["status"] = std::string(MeasureStatusToString(r.status));
      o["median_seconds"] = r.ok() ? Json(median) : Json(nullptr);
      o["gflops"] = gflops > 0 ? Json(gflops) : Json(nullptr);
      o["relative_cost"] = relative > 0 ? Json(relative) : Json(nullptr);
      o["run_seconds"] = r.run_seconds;
      o["compile_seconds"] = r.compile_seconds;
      o["all_cost_seconds"] = r.all_cost_seconds;
      o["reference_seconds"] = r.reference_seconds;
      o["error_msg"] = r.error_msg;
      out_results.push_back(std::move(o));
    } else {
      std::printf("[%zu] %s\n    %-14s", i, task.space.ToString(configs[i]).c_str(),
                  std::string(MeasureStatusToString(r.status)).c_str());
      if (r.ok()) {
        std::printf(" median %.4g s", median);
        if (gflops > 0) std::printf("  %.2f GFLOP/s", gflops);
        if (relative > 0) std::printf("  relative %.3f", relative);
      }
      std::printf("  (compile %.2f s, total %.2f s)\n", r.compile_seconds, r.all_cost_seconds);
      if (!r.error_msg.empty()) {
        std::istringstream lines(r.error_msg);
        int n = 0;
        for (std::string line; std::getline(lines, line) && n < 6; ++n) {
          std::printf("    | %s\n", line.c_str());
        }
      }
    }
  }
  const MeasurerStats st = (*measurer)->stats();
  if (a.json) {
    Json o;
    o["task"] = {{"name", task.name},
                 {"op", task.op},
                 {"shape", task.shape},
                 {"target", task.target},
                 {"workload_key", WorkloadKeyToHex(task.WorkloadKey())}};
    o["hardware_id"] = (*measurer)->hardware_id();
    o["flops"] = flops;
    o["results"] = std::move(out_results);
    o["stats"] = {{"builds", st.builds},
                  {"cache_hits", st.cache_hits},
                  {"timed_runs", st.timed_runs},
                  {"remeasured", st.remeasured},
                  {"build_seconds", st.build_seconds},
                  {"run_seconds", st.run_seconds},
                  {"wall_seconds", wall}};
    std::cout << o.dump() << std::endl;
  } else {
    const double ref = results.empty() ? 0 : results[0].reference_seconds;
    char reference[64] = "no reference timed";
    if (ref > 0) std::snprintf(reference, sizeof reference, "reference median %.4g s", ref);
    std::printf(
        "%s; %lld build(s), %lld cache hit(s), %lld timed run(s); "
        "%.2f s wall%s\n",
        reference, static_cast<long long>(st.builds), static_cast<long long>(st.cache_hits),
        static_cast<long long>(st.timed_runs), wall,
        store ? ("; records appended to " + a.records).c_str() : "");
  }
  return kExitOk;
}

}  // namespace

namespace cli {

void RegisterMeasureCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<MeasureArgs>();
  CLI::App* m = app.add_subcommand(
      "measure",
      "Compile and time configs of a built-in operator or a user kernel on this machine "
      "(isolated child pinned to one core; failures are reported, not fatal).");
  m->add_option("--op", args->op, "Built-in operator: dense | conv2d | depthwise_conv2d");
  m->add_option("--shape", args->shape,
                "Operator shape, comma-separated: dense M,N,K; conv2d N,C,H,W,K,R,S,stride,pad; "
                "depthwise_conv2d N,C,H,W,R,S,stride,pad");
  m->add_option("--kernel", args->kernel, "User kernel source (docs/user_kernels.md)");
  m->add_option("--space", args->space, "SPACE.json of the user kernel");
  m->add_option("--config", args->config,
                "One config as a JSON object knob -> value, e.g. '{\"tile_x\": [-1, 8, 4]}'");
  m->add_option("--sample", args->sample, "Measure N distinct random valid configs")
      ->check(AtLeast(0));
  m->add_option("--records", args->records, "Record log to append the results to");
  m->add_flag("--json", args->json, "Print one JSON object with every result on stdout");
  m->add_option("--seed", args->seed, "Seed of --sample")->capture_default_str()->check(AtLeast(0));
  m->add_flag("--no-cache", args->no_cache, "Compile every kernel again (bypass the cache)");
  m->add_option("--compiler", args->compiler, "C++ compiler (looked up in PATH)")
      ->capture_default_str();
  m->add_option("--flags", args->flags,
                "Compiler flags, whitespace-separated (each one argument; no shell)")
      ->capture_default_str();
  m->add_option("--cache-dir", args->cache_dir,
                "Kernel cache directory (default $XDG_CACHE_HOME/sonar/kernels)");
  m->add_option("--target", args->target,
                "Target string of the task (default: cpu-<arch> <hardware id> of this machine)");
  m->add_option("--repeat", args->repeat, "Timed repeats per config (default 5)")
      ->check(AtLeast(0));
  m->add_option("--min-repeat-ms", args->min_repeat_ms,
                "Minimum wall time of one repeat, ms (default 50)")
      ->check(AtLeast(0));
  m->add_option("--run-timeout", args->run_timeout_s, "Run timeout per config, s (default 10)")
      ->check(AtLeast(0));
  m->add_option("--compile-timeout", args->compile_timeout_s,
                "Compile timeout per config, s (default 60)")
      ->check(AtLeast(0));
  m->add_flag("--no-reference", args->no_reference,
              "Do not re-time the reference config (no relative costs)");
  cli::AddBackendFlags(m, &args->backend);
  m->footer(
      "Examples:\n"
      "  sonar measure --op dense --shape 512,512,512 --sample 4 --records dense.sonar\n"
      "  sonar measure --op dense --shape 512,512,512 --config '{...}' --json\n"
      "  sonar measure --kernel examples/user_kernel/matmul.cc \\\n"
      "      --space examples/user_kernel/SPACE.json --sample 3\n"
      "  sonar measure --op dense --shape 4096,4096,4096 --device 0 --sample 4   # GPU\n"
      "Prints per config its status, median seconds, GFLOP/s (operators) and the cost relative\n"
      "to the reference config timed in the same batch. Exit 0 even when configs fail (they\n"
      "are data), 1 on I/O errors, 2 on bad usage.");
  m->get_option("--op")->excludes("--space");
  m->get_option("--kernel")->excludes("--shape");
  m->callback([=] { *exit_code = RunMeasure(*args); });
}

}  // namespace cli
}  // namespace sonar
