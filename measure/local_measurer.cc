// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The local measurer: for each config, kernel source (operator template or user kernel) ->
// CompileCache (parallel builds) -> one timed child per config, serially, pinned to one core,
// with a run timeout and a memory limit -> classification -> MeasureResult. docs/measurement.md
// describes the protocol.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/parallel.h"
#include "common/random.h"
#include "measure/child_process.h"
#include "measure/compile_cache.h"
#include "measure/cuda/cuda_device.h"
#include "measure/cuda/cuda_measurer.h"
#include "measure/cuda/cuda_operators.h"
#include "measure/hardware.h"
#include "measure/measurer.h"
#include "measure/operators.h"
#include "measure/timing.h"
#include "measure/user_kernel.h"

namespace sonar {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kErrorLines = 12;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int CpuCount() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int LastAllowedCpu() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c) {
    if (CPU_ISSET(c, &set)) return c;
  }
  return -1;
}

std::string SignalName(int sig) {
  const char* d = strsignal(sig);
  return "signal " + std::to_string(sig) + (d ? std::string(" (") + d + ")" : "");
}

bool ReadFloats(const std::string& path, std::vector<float>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const std::streamoff bytes = in.tellg();
  in.seekg(0);
  if (bytes < 0 || bytes % sizeof(float) != 0) return false;
  out->resize(static_cast<size_t>(bytes) / sizeof(float));
  in.read(reinterpret_cast<char*>(out->data()), bytes);
  return static_cast<bool>(in) || out->empty();
}

// max |y - ref| / (|ref| + 1); +inf for a size mismatch, NaN when y has a NaN.
double MaxRelativeError(const std::vector<float>& y, const std::vector<float>& ref) {
  if (y.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double e = std::fabs(static_cast<double>(y[i]) - ref[i]) / (std::fabs(ref[i]) + 1.0);
    if (std::isnan(e)) return std::numeric_limits<double>::quiet_NaN();
    worst = std::max(worst, e);
  }
  return worst;
}

std::string Format(const char* fmt, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

void AppendNote(std::string* msg, const std::string& note) {
  if (!msg->empty()) *msg += "\n";
  *msg += note;
}

// The CUDA backend (measure/cuda/cuda_measurer.h): which GPU, and how the harness times.
struct CudaBackend {
  int device = 0;
  bool flush_l2 = false;
};

// What one config needs before it can be built.
struct Job {
  bool valid = false;
  std::string source;
  std::string source_path;
  std::vector<std::string> extra_flags;
  std::string key;
  KernelBuild build;
  double prep_seconds = 0;
};

class LocalMeasurer final : public Measurer {
 public:
  LocalMeasurer(MeasureOptions options, std::unique_ptr<CompileCache> cache, std::string hw_id,
                std::optional<CudaBackend> cuda = std::nullopt)
      : options_(std::move(options)),
        cache_(std::move(cache)),
        hardware_id_(std::move(hw_id)),
        cuda_(cuda) {
    pin_cpu_ = options_.pin_cpu >= 0 ? options_.pin_cpu : LastAllowedCpu();
  }

  std::vector<MeasureResult> Measure(const Task& task, const std::vector<Config>& configs) override;
  std::string hardware_id() const override { return hardware_id_; }
  MeasurerStats stats() const override {
    MeasurerStats s = stats_;
    s.builds = cache_->builds();
    s.cache_hits = cache_->cache_hits();
    return s;
  }

 private:
  // Fills job (or the result's failure) for one config.
  void Prepare(const Task& task, const Config& config, const std::string* user_source, Job* job,
               MeasureResult* result) const;
  // The batch's reference config, or nullopt (with *why) when there is none.
  std::optional<Config> ReferenceConfig(const Task& task, std::string* why) const;
  // Times one built kernel with re-measurement; fills `result` (whose compile_seconds is set).
  void TimeKernel(const Task& task, const std::string& binary, MeasureResult* result);
  // One timed child run; classifies it. `check` runs the correctness check.
  MeasureResult RunOnce(const Task& task, const std::string& binary, bool check);

  MeasureOptions options_;
  std::unique_ptr<CompileCache> cache_;
  std::string hardware_id_;
  std::optional<CudaBackend> cuda_;  // set: kernels are CUDA programs (nvcc, CUDA harness)
  int pin_cpu_ = -1;
  MeasurerStats stats_;
  // Per task (workload key + name): the output of the first config that ran, for kernels
  // without a reference function.
  std::map<std::string, std::vector<float>> golden_;
  int64_t run_counter_ = 0;
};

std::string GoldenKey(const Task& task) {
  return WorkloadKeyToHex(task.WorkloadKey()) + "\x1f" + task.name;
}

void LocalMeasurer::Prepare(const Task& task, const Config& config, const std::string* user_source,
                            Job* job, MeasureResult* result) const {
  const auto t0 = Clock::now();
  std::string violated;
  if (!task.space.Satisfies(config, &violated)) {
    result->status = MeasureStatus::kInvalidConfig;
    result->error_msg = "invalid config " + ConfigIndicesToString(config) + ": " +
                        (violated == "malformed" || violated == "not a member"
                             ? violated
                             : "violates the constraint '" + violated + "'");
    return;
  }
  if (task.op == "user") {
    if (user_source == nullptr) {
      result->status = MeasureStatus::kUnknownError;
      result->error_msg = "cannot read the user kernel " + UserKernelPath(task);
      return;
    }
    job->source = *user_source;
    job->source_path = UserKernelPath(task);
    job->extra_flags = UserKernelDefines(task.space, config);
  } else {
    StatusOr<std::string> source =
        cuda_ ? EmitCudaKernelSource(task, config) : EmitKernelSource(task, config);
    if (!source.ok()) {
      result->status = MeasureStatus::kInvalidConfig;
      result->error_msg = source.status().message();
      return;
    }
    job->source = std::move(source).value();
  }
  job->key = cache_->KeyOf(job->source, job->extra_flags);
  job->valid = true;
  job->prep_seconds = SecondsSince(t0);
}

std::optional<Config> LocalMeasurer::ReferenceConfig(const Task& task, std::string* why) const {
  if (!options_.reference_values.empty()) {
    StatusOr<Config> c = task.space.FromValues(options_.reference_values);
    if (!c.ok()) {
      *why = "reference_values do not name a config of this task: " + c.status().message();
      return std::nullopt;
    }
    return *c;
  }
  if (task.op != "user" && cuda_) {
    if (!IsCudaOperatorTask(task)) {
      *why = "no reference config for op '" + task.op + "' on the GPU";
      return std::nullopt;
    }
    return CudaDefaultConfig(task);
  }
  if (task.op != "user") {
    const std::vector<std::string> ops = OperatorNames();
    if (std::find(ops.begin(), ops.end(), task.op) == ops.end()) {
      *why = "no reference config for op '" + task.op + "'";
      return std::nullopt;
    }
    return DefaultConfig(task);
  }
  const uint64_t scan = std::min<uint64_t>(task.space.size(), 4096);
  for (uint64_t i = 0; i < scan; ++i) {
    Config c = task.space.At(i);
    if (task.space.Satisfies(c)) return c;
  }
  Rng rng = MakeRng(0);
  StatusOr<Config> c = task.space.Sample(rng);
  if (c.ok()) return *c;
  *why = "the space has no valid config to use as the reference";
  return std::nullopt;
}

MeasureResult LocalMeasurer::RunOnce(const Task& task, const std::string& binary, bool check) {
  MeasureResult r;
  const bool want_output = check && options_.check_correctness;
  const std::string out_path =
      cache_->scratch_dir() + "/out-" + std::to_string(run_counter_++) + ".bin";
  ChildOptions c;
  c.argv = {binary};
  if (cuda_) c.argv.push_back(std::to_string(cuda_->device));
  c.argv.insert(c.argv.end(),
                {std::to_string(options_.warmup), std::to_string(options_.number),
                 std::to_string(options_.repeat), Format("%.17g", options_.min_repeat_ms),
                 want_output ? "1" : "0", std::to_string(options_.input_seed)});
  if (cuda_) c.argv.push_back(cuda_->flush_l2 ? "1" : "0");
  if (want_output) c.argv.push_back(out_path);
  c.timeout_s = options_.run_timeout_s;
  // A CUDA context reserves far more address space than any RLIMIT_AS would allow.
  c.memory_limit_mb = cuda_ ? 0 : options_.run_memory_limit_mb;
  c.pin_cpu = pin_cpu_;
  c.max_output_bytes = 64 * 1024;
  ++stats_.timed_runs;
  const ChildResult child = RunChild(c);
  r.all_cost_seconds = child.wall_seconds;
  auto cleanup = [&] { std::remove(out_path.c_str()); };
  if (!child.started) {
    r.status = MeasureStatus::kUnknownError;
    r.error_msg = "cannot run the kernel: " + child.error;
    return r;
  }
  if (child.timed_out) {
    cleanup();
    r.status = MeasureStatus::kRunTimeout;
    r.error_msg = Format("run timed out after %.3g s (run_timeout_s)", options_.run_timeout_s);
    AppendNote(&r.error_msg, FirstLines(child.stderr_text, kErrorLines));
    return r;
  }
  if (child.term_signal != 0) {
    cleanup();
    r.status = MeasureStatus::kCrashed;
    r.error_msg = "killed by " + SignalName(child.term_signal);
    if (!cuda_ && (child.term_signal == SIGKILL || child.term_signal == SIGSEGV)) {
      r.error_msg += Format(" (run memory limit %.0f MiB)", double(options_.run_memory_limit_mb));
    }
    AppendNote(&r.error_msg, FirstLines(child.stderr_text, kErrorLines));
    return r;
  }
  if (child.exit_code != 0 && cuda_) {
    cleanup();
    ClassifyCudaExit(child.exit_code, child.stdout_text, child.stderr_text, cuda_->device,
                     &r.status, &r.error_msg);
    return r;
  }
  if (child.exit_code != 0) {
    cleanup();
    r.status = MeasureStatus::kRuntimeError;
    r.error_msg = "exited with code " + std::to_string(child.exit_code);
    if (child.exit_code == 3) {
      r.error_msg += Format(" (out of memory; run memory limit %.0f MiB)",
                            double(options_.run_memory_limit_mb));
    }
    AppendNote(&r.error_msg, FirstLines(child.stderr_text, kErrorLines));
    return r;
  }
  StatusOr<HarnessOutput> out = ParseHarnessOutput(child.stdout_text);
  if (!out.ok() || out->run_seconds.empty()) {
    cleanup();
    r.status = MeasureStatus::kRuntimeError;
    r.error_msg = out.ok() ? "the kernel reported no timed repeats" : out.status().message();
    AppendNote(&r.error_msg, FirstLines(child.stderr_text, kErrorLines));
    return r;
  }
  r.run_seconds = out->run_seconds;
  r.status = MeasureStatus::kOk;
  if (want_output) {
    double error = out->max_error;
    std::string against = "the reference implementation";
    if (!std::isnan(error) && error < 0 && out->output_floats > 0) {
      std::vector<float> y;
      if (!ReadFloats(out_path, &y)) {
        error = std::numeric_limits<double>::quiet_NaN();
        against = "(unreadable output file)";
      } else {
        auto it = golden_.find(GoldenKey(task));
        if (it == golden_.end()) {
          bool finite = true;
          for (float v : y) finite = finite && std::isfinite(v);
          if (finite)
            golden_[GoldenKey(task)] = std::move(y);
          else
            error = std::numeric_limits<double>::quiet_NaN();
          against = "(first config: its output is the reference)";
        } else {
          error = MaxRelativeError(y, it->second);
          against = "the output of the first config that ran";
        }
      }
    }
    if (std::isnan(error) || error > options_.check_tolerance) {
      r.status = MeasureStatus::kWrongAnswer;
      r.error_msg = Format("max relative error %.3g > check_tolerance %.3g", error,
                           options_.check_tolerance) +
                    " against " + against;
      r.run_seconds.clear();
    } else if (error < 0 && out->output_floats == 0) {
      r.error_msg = "not checked: the kernel defines neither sonar_check nor sonar_output";
    }
  }
  cleanup();
  return r;
}

void LocalMeasurer::TimeKernel(const Task& task, const std::string& binary, MeasureResult* result) {
  const double compile_seconds = result->compile_seconds;
  const double prep = result->all_cost_seconds;
  MeasureResult best = RunOnce(task, binary, /*check=*/true);
  double total = best.all_cost_seconds;
  if (best.ok()) {
    double spread = RepeatSpread(best.run_seconds);
    std::vector<double> spreads = {spread};
    int remeasured = 0;
    while (spread > options_.max_repeat_spread && remeasured < options_.max_remeasure) {
      ++remeasured;
      MeasureResult again = RunOnce(task, binary, /*check=*/false);
      total += again.all_cost_seconds;
      if (!again.ok()) break;  // keep the steadiest ok attempt
      const double s = RepeatSpread(again.run_seconds);
      spreads.push_back(s);
      if (s < spread) {
        again.error_msg = best.error_msg;
        best = std::move(again);
        spread = s;
      }
    }
    if (remeasured > 0) {
      ++stats_.remeasured;
      std::string list;
      for (double s : spreads) list += (list.empty() ? "" : ", ") + Format("%.3f", s);
      AppendNote(&best.error_msg, "re-measured " + std::to_string(remeasured) +
                                      " time(s): repeat spreads (max/min-1) " + list +
                                      Format("; kept the steadiest (%.3f)", spread));
    }
  }
  best.compile_seconds = compile_seconds;
  best.all_cost_seconds = prep + compile_seconds + total;
  *result = std::move(best);
}

std::vector<MeasureResult> LocalMeasurer::Measure(const Task& task,
                                                  const std::vector<Config>& configs) {
  const auto batch_start = Clock::now();
  const size_t n = configs.size();
  stats_.configs += static_cast<int64_t>(n);
  std::vector<MeasureResult> results(n);
  std::optional<std::string> user_source;
  if (task.op == "user") {
    std::ifstream in(UserKernelPath(task), std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      user_source = ss.str();
    }
  }
  const std::string* user = user_source ? &*user_source : nullptr;

  // Jobs 0..n-1 are the configs; job n is the reference (when timed).
  std::string no_reference;
  std::optional<Config> reference;
  if (options_.time_reference) reference = ReferenceConfig(task, &no_reference);
  std::vector<Job> jobs(n + (reference ? 1 : 0));
  MeasureResult reference_result;
  for (size_t i = 0; i < jobs.size(); ++i) {
    MeasureResult* r = i < n ? &results[i] : &reference_result;
    Prepare(task, i < n ? configs[i] : *reference, user, &jobs[i], r);
    r->all_cost_seconds = jobs[i].prep_seconds;
  }

  // ---- build phase: unique keys, in parallel; no timed run overlaps it ----
  const auto build_start = Clock::now();
  std::vector<size_t> unique;  // one job index per distinct key
  {
    std::unordered_map<std::string, size_t> first;
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].valid && first.emplace(jobs[i].key, i).second) unique.push_back(i);
    }
    const int want = options_.parallel_builds > 0 ? options_.parallel_builds : CpuCount();
    const int threads = std::max(1, std::min<int>(want, static_cast<int>(unique.size())));
    ParallelForEach(unique.size(), threads, [&](size_t u) {
      Job& job = jobs[unique[u]];
      job.build = cache_->Build(job.source, job.source_path, job.extra_flags);
    });
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i].valid) continue;
      const Job& owner = jobs[first[jobs[i].key]];
      if (&owner != &jobs[i]) {
        jobs[i].build = owner.build;
        jobs[i].build.compile_seconds = 0;  // built once for the batch
      }
    }
  }
  stats_.build_seconds += SecondsSince(build_start);

  // ---- timed phase: serially, reference first ----
  // Shared with other processes (MPI workers): wait for the timing core when anything will run.
  bool gated = false;
  const int own_pin_cpu = pin_cpu_;
  if (options_.acquire_timing) {
    for (const Job& job : jobs)
      gated = gated || (job.valid && job.build.status == MeasureStatus::kOk);
    if (gated) {
      const int cpu = options_.acquire_timing();
      if (cpu >= 0) pin_cpu_ = cpu;
    }
  }
  const auto run_start = Clock::now();
  auto finish = [&](size_t i, MeasureResult* r) {
    const Job& job = jobs[i];
    if (!job.valid) return;
    r->compile_seconds = job.build.compile_seconds;
    if (job.build.status != MeasureStatus::kOk) {
      r->status = job.build.status;
      r->error_msg = job.build.error_msg;
      if (cuda_ && r->status == MeasureStatus::kCompileError) {
        r->error_msg = SummarizeNvccError(r->error_msg);
      }
      r->all_cost_seconds += job.build.compile_seconds;
      return;
    }
    TimeKernel(task, job.build.binary_path, r);
  };
  double reference_seconds = 0;
  std::string reference_note;
  if (reference) {
    finish(n, &reference_result);
    if (reference_result.ok()) {
      reference_seconds = reference_result.median_seconds();
    } else {
      reference_note = "reference config " + task.space.ToString(*reference) + " failed (" +
                       std::string(MeasureStatusToString(reference_result.status)) +
                       "): " + FirstLines(reference_result.error_msg, 2);
    }
  } else if (options_.time_reference) {
    reference_note = no_reference;
  }
  for (size_t i = 0; i < n; ++i) {
    finish(i, &results[i]);
    results[i].reference_seconds = reference_seconds;
    if (!reference_note.empty() && i == 0) AppendNote(&results[i].error_msg, reference_note);
    if (on_result_) on_result_(i, results[i]);
  }
  stats_.run_seconds += SecondsSince(run_start);
  if (gated) {
    pin_cpu_ = own_pin_cpu;
    if (options_.release_timing) options_.release_timing();
  }
  (void)batch_start;
  return results;
}

}  // namespace

Status MeasureOptions::Validate() const {
  auto bad = [](const std::string& m) { return InvalidArgumentError("MeasureOptions: " + m); };
  if (warmup < 0) return bad("warmup must be >= 0");
  if (number < 1) return bad("number must be >= 1");
  if (repeat < 1) return bad("repeat must be >= 1");
  if (!(min_repeat_ms >= 0)) return bad("min_repeat_ms must be >= 0");
  if (!(max_repeat_spread >= 0)) return bad("max_repeat_spread must be >= 0");
  if (max_remeasure < 0) return bad("max_remeasure must be >= 0");
  if (!(compile_timeout_s > 0)) return bad("compile_timeout_s must be > 0");
  if (!(run_timeout_s > 0)) return bad("run_timeout_s must be > 0");
  if (run_memory_limit_mb < 0) return bad("run_memory_limit_mb must be >= 0");
  if (run_memory_limit_mb > 0 && run_memory_limit_mb < 16) {
    return bad("run_memory_limit_mb must be 0 (none) or >= 16");
  }
  if (pin_cpu < -1 || pin_cpu >= CPU_SETSIZE) return bad("pin_cpu out of range");
  if (!(check_tolerance >= 0)) return bad("check_tolerance must be >= 0");
  if (compiler.empty()) return bad("compiler is empty");
  for (const std::string& f : compiler_flags) {
    if (f.empty()) return bad("compiler_flags holds an empty entry");
  }
  if (parallel_builds < 0) return bad("parallel_builds must be >= 0");
  return OkStatus();
}

StatusOr<std::unique_ptr<Measurer>> MakeLocalMeasurer(const MeasureOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  if (options.pin_cpu >= 0) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET(options.pin_cpu, &set)) {
      return InvalidArgumentError("MeasureOptions: pin_cpu " + std::to_string(options.pin_cpu) +
                                  " is not a CPU this process may use");
    }
  }
  CompileCacheOptions co;
  co.compiler = options.compiler;
  co.flags = options.compiler_flags;
  co.cache_dir = options.cache_dir;
  co.use_cache = options.use_cache;
  co.keep_sources = options.keep_sources;
  co.compile_timeout_s = options.compile_timeout_s;
  SONAR_ASSIGN_OR_RETURN(std::unique_ptr<CompileCache> cache, CompileCache::Make(co));
  HardwareOptions ho;
  ho.probe_fma = ho.probe_triad = ho.probe_latency = false;
  ho.try_hardware_counters = false;
  ho.software_counters = false;
  ho.pin_thread = false;
  StatusOr<HardwareDescriptor> hw = DescribeThisMachine(ho);
  return std::unique_ptr<Measurer>(
      new LocalMeasurer(options, std::move(cache), hw.ok() ? hw->id : std::string()));
}

StatusOr<std::unique_ptr<Measurer>> MakeCudaMeasurer(const MeasureOptions& options,
                                                     const CudaOptions& cuda) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  SONAR_RETURN_IF_ERROR(cuda.Validate());
  if (options.pin_cpu >= 0) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && !CPU_ISSET(options.pin_cpu, &set)) {
      return InvalidArgumentError("MeasureOptions: pin_cpu " + std::to_string(options.pin_cpu) +
                                  " is not a CPU this process may use");
    }
  }
  SONAR_ASSIGN_OR_RETURN(CudaDeviceInfo info,
                         QueryCudaDevice(cuda, /*probes=*/false, options.cache_dir));
  const std::string arch = CudaArchFor(cuda, info.major, info.minor);
  StatusOr<std::unique_ptr<CompileCache>> cache =
      CompileCache::Make(CudaCompileCacheOptions(options, cuda, arch));
  if (!cache.ok()) return FailedPreconditionError("CUDA measurer: " + cache.status().message());
  const CudaBackend backend{.device = cuda.device, .flush_l2 = cuda.flush_l2};
  return std::unique_ptr<Measurer>(
      new LocalMeasurer(options, std::move(cache).value(), CudaDeviceDescriptor(info).id, backend));
}

}  // namespace sonar
