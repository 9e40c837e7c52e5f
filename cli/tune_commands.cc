// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar tune | compare: the tuning loop on this machine (built-in operators, user kernels) or
// over a replayed table, and the side-by-side comparison of tuners over replayed tables.
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "measure/cuda/cuda_device.h"
#include "measure/cuda/cuda_measurer.h"
#include "measure/cuda/cuda_operators.h"
#include "measure/history_io.h"
#include "measure/measurer.h"
#include "measure/operators.h"
#include "measure/record_store.h"
#include "measure/user_kernel.h"
#include "tuner/compare.h"
#include "tuner/mpi/async_tune.h"
#include "tuner/mpi/mpi_work_queue.h"
#include "tuner/tune.h"

namespace sonar::cli {
namespace {

using Json = nlohmann::ordered_json;

// Selects the workload of `records` named by `selector` (hex key, task name or op); an empty
// selector is fine when there is exactly one workload.
StatusOr<uint64_t> PickWorkload(const std::vector<Record>& records, const std::string& selector) {
  std::vector<uint64_t> keys;
  uint64_t key = 0;
  const bool is_key = HexToWorkloadKey(selector, &key);
  for (const Record& r : records) {
    const bool match = selector.empty() || (is_key && r.workload_key == key) ||
                       r.task.name == selector || r.task.op == selector;
    if (match && std::find(keys.begin(), keys.end(), r.workload_key) == keys.end()) {
      keys.push_back(r.workload_key);
    }
  }
  if (keys.empty()) return NotFoundError("no workload matches '" + selector + "'");
  if (keys.size() > 1) {
    return InvalidArgumentError(std::to_string(keys.size()) + " workloads match '" + selector +
                                "'; choose one with --workload KEY (sonar records stats lists "
                                "them)");
  }
  return keys[0];
}

// The signal that asked tune to stop (SIGINT, SIGTERM), 0 while none did. Set by the handler,
// read by the progress callback, which then ends the run after the batch in flight.
// A second signal ends the process at once (the records written so far stay readable).
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void OnStopSignal(int sig) {
  if (g_stop_signal != 0) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  g_stop_signal = sig;
  static const char kMessage[] =
      "\nsonar tune: stopping after the batch in flight (its records are kept); "
      "press Ctrl-C again to stop at once\n";
  const ssize_t ignored = write(2, kMessage, sizeof kMessage - 1);  // async-signal-safe
  (void)ignored;
}

// Progress on stderr: a status line after every measured config and every batch, rewritten in
// place on a terminal, at most every 10 s otherwise, and always the last one. Replayed runs
// show no rate (their trials cost no time here).
class Progress {
 public:
  Progress(bool quiet, double flops, bool replay)
      : quiet_(quiet), tty_(isatty(2)), flops_(flops), replay_(replay) {}
  // After one config of a batch.
  void OnResult(const TuneProgress& p) {
    char where[64];
    std::snprintf(where, sizeof where, "  (batch %d/%d)", p.batch_done, p.batch_size);
    Print(p, where, /*force=*/false);
  }
  // After a batch; stops the run when a stop signal came.
  CallbackAction OnBatch(const TuneProgress& p) {
    Print(p, "", /*force=*/p.trial >= p.max_trials);
    return g_stop_signal != 0 ? CallbackAction::kStop : CallbackAction::kContinue;
  }
  // The last line, whatever the pacing (the run may have stopped early).
  void Done() {
    if (quiet_ || !printed_any_) return;
    if (last_.trial != last_printed_trial_) Print(last_, "", /*force=*/true);
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  void Print(const TuneProgress& p, const char* suffix, bool force) {
    last_ = p;
    if (quiet_) return;
    if (!tty_ && !force && p.elapsed_seconds - last_print_ < 10) return;
    last_print_ = p.elapsed_seconds;
    last_printed_trial_ = p.trial;
    printed_any_ = true;
    char best[96] = "best -";
    if (std::isfinite(p.best_seconds)) {
      if (flops_ > 0) {
        std::snprintf(best, sizeof best, "best %.4g s (%.1f GFLOP/s)", p.best_seconds,
                      flops_ / p.best_seconds * 1e-9);
      } else {
        std::snprintf(best, sizeof best, "best %.4g s", p.best_seconds);
      }
    }
    char rate[48] = "";
    const int new_trials = p.trial - p.num_resumed;
    if (!replay_ && p.elapsed_seconds > 0 && new_trials > 0) {
      std::snprintf(rate, sizeof rate, "  %.1f s/trial", p.elapsed_seconds / new_trials);
    }
    std::fprintf(stderr, "%strial %d/%d  %s  failed %d%s%s%s", tty_ ? "\r\033[K" : "", p.trial,
                 p.max_trials, best, p.num_failed, rate, suffix, tty_ ? "" : "\n");
  }

  bool quiet_, tty_;
  double flops_;
  bool replay_;
  double last_print_ = -1e9;
  int last_printed_trial_ = -1;
  bool printed_any_ = false;
  TuneProgress last_;
};

struct TuneArgs {
  std::string op, shape, kernel, space, replay, workload;
  std::string tuner = "autotvm";
  int trials = 200;
  int batch = 8;
  int early_stop = 0;
  double min_gain = 0;
  int gain_window = 0;
  double max_wall_seconds = 0;
  std::string records;
  std::vector<std::string> transfer_from;
  uint64_t seed = 0;
  bool json = false, quiet = false, no_cache = false;
  double min_repeat_ms = 0;
  BackendFlags backend;
  std::string replay_seconds;  // --replay-seconds recorded|SECONDS ("" instant)
  int timing_ranks_per_node = 1;
};

// The transfer flags against the tuners: transfer-bo and rgpe need --transfer-from, and it is an
// error to give it when no tuner reads it (autotvm, transfer-bo and rgpe do).
Status CheckTransferFlags(std::string_view command, const std::vector<TunerKind>& kinds,
                          bool has_transfer_from) {
  bool any_reader = false;
  for (TunerKind k : kinds) {
    const bool needs = k == TunerKind::kTransferBayesOpt || k == TunerKind::kRgpe;
    any_reader = any_reader || needs || k == TunerKind::kAutoTvm;
    if (needs && !has_transfer_from) {
      return InvalidArgumentError(std::string(command == "tune" ? "--tuner " : "--tuners ") +
                                  std::string(TunerKindToString(k)) +
                                  " needs --transfer-from RECORDS: tuning records of other "
                                  "workloads (record logs or history files) to learn from");
    }
  }
  if (has_transfer_from && !any_reader) {
    return InvalidArgumentError(
        "--transfer-from is read only by the autotvm, transfer-bo and rgpe tuners; none was "
        "chosen, so it would be ignored");
  }
  return OkStatus();
}

void PrintResumeHint(const std::string& records_path) {
  std::fprintf(stderr,
               "sonar tune: stopped; every measured config is in %s. Run the same command again "
               "to resume where it stopped.\n",
               records_path.c_str());
}

int RunTune(const TuneArgs& a) {
  const int modes = !a.op.empty() + !a.kernel.empty() + !a.replay.empty();
  if (modes != 1) {
    std::fprintf(stderr, "sonar tune: give exactly one of --op, --kernel or --replay\n");
    return kExitUsage;
  }
  TunerOptions tuner_options;
  if (!StringToTunerKind(a.tuner, &tuner_options.kind)) {
    std::fprintf(stderr, "sonar tune: unknown --tuner '%s'\n", a.tuner.c_str());
    return kExitUsage;
  }
  if (Status s = CheckTransferFlags("tune", {tuner_options.kind}, !a.transfer_from.empty());
      !s.ok()) {
    return UsageError("tune", s.message());
  }
  if ((a.min_gain > 0) != (a.gain_window > 0)) {
    return UsageError("tune",
                      "--min-gain F and --gain-window N go together: stop when the best did "
                      "not improve by the fraction F over the last N trials");
  }
  tuner_options.seed = a.seed;
  StatusOr<bool> cuda = UsesCuda(a.backend, a.kernel);
  if (!cuda.ok()) return UsageError("tune", cuda.status().message());
  if (*cuda && !a.replay.empty()) {
    return UsageError("tune",
                      "--replay measures nothing; --backend cuda, --device, --arch and "
                      "--flush-l2 do not apply to it");
  }
  const CudaOptions cuda_options = CudaOptionsFromFlags(a.backend);
  if (Status s = cuda_options.Validate(); *cuda && !s.ok()) return UsageError("tune", s.message());
  StatusOr<ReplayTiming> replay_timing = ParseReplayTiming(a.replay_seconds);
  if (!replay_timing.ok()) return UsageError("tune", replay_timing.status().message());
  // Under mpirun: rank 0 tunes and writes the log, the other ranks measure (tuner/mpi/).
  const bool mpi = MpiSize() > 1;
  const bool mpi_worker = mpi && MpiRank() > 0;
  Task task;
  std::unique_ptr<Measurer> measurer;
  MeasureOptions live_options;  // live: the options of `measurer`, without the reference
  double flops = 0;
  std::vector<Record> table;
  if (!a.replay.empty()) {
    StatusOr<std::vector<Record>> loaded = LoadRecordFiles({a.replay});
    if (!loaded.ok()) return Fail(loaded.status());
    StatusOr<uint64_t> key = PickWorkload(*loaded, a.workload);
    if (!key.ok()) return UsageError("tune", "--workload: " + key.status().message());
    for (Record& r : *loaded) {
      if (r.workload_key == *key) table.push_back(std::move(r));
    }
    StatusOr<Task> t = TaskFromRecords(table, *key);
    if (!t.ok()) return Fail(t.status());
    task = std::move(*t);
    measurer = MakeReplayMeasurer(table, *replay_timing);
  } else {
    if (!a.op.empty()) {
      StatusOr<Task> t = *cuda ? CudaOperatorTaskFromFlags(a.op, a.shape, "")
                               : OperatorTaskFromFlags(a.op, a.shape);
      if (!t.ok()) return UsageError("tune", t.status().message());
      task = std::move(*t);
      flops = *cuda ? CudaOperatorFlops(task) : OperatorFlops(task);
    } else {
      if (a.space.empty()) {
        std::fprintf(stderr, "sonar tune: --kernel needs --space SPACE.json\n");
        return kExitUsage;
      }
      StatusOr<Task> t = MakeUserKernelTask(a.kernel, a.space);
      if (!t.ok()) return Fail(t.status());
      task = std::move(*t);
    }
    MeasureOptions mo;
    mo.use_cache = !a.no_cache;
    if (a.min_repeat_ms > 0) mo.min_repeat_ms = a.min_repeat_ms;
    if (*cuda) {
      // The GPU's target (compute capability and hardware id) keeps its records apart.
      StatusOr<CudaDeviceInfo> info = QueryCudaDevice(cuda_options, false, mo.cache_dir);
      if (!info.ok()) return Fail(info.status());
      task.target = CudaTarget(*info);
    }
    if (mpi_worker) {
      // Compiles run on every worker at once; timed runs wait for a timing slot of the node.
      mo.parallel_builds = 1;
      mo.acquire_timing = MpiAcquireTiming;
      mo.release_timing = MpiReleaseTiming;
    }
    StatusOr<std::unique_ptr<Measurer>> m =
        *cuda ? MakeCudaMeasurer(mo, cuda_options) : MakeLocalMeasurer(mo);
    if (!m.ok()) return Fail(m.status());
    measurer = std::move(*m);
    live_options = mo;
    live_options.time_reference = false;
  }
  if (mpi_worker) {
    MpiMeasureWorkerOptions wo;
    std::unique_ptr<Measurer> no_reference;
    if (a.replay.empty()) {
      // The reference config is re-timed once per --batch configs, as a single process does.
      wo.reference_every = a.batch;
      wo.timing_cores = a.timing_ranks_per_node;
      StatusOr<std::unique_ptr<Measurer>> m = MakeLocalMeasurer(live_options);
      if (!m.ok()) return Fail(m.status());
      no_reference = std::move(*m);
    }
    const Status s = RunMpiMeasureWorker(task, *measurer, no_reference.get(), wo);
    return s.ok() ? kExitOk : Fail(s);
  }
  if (!a.transfer_from.empty()) {
    StatusOr<std::vector<Record>> transfer = LoadRecordFiles(a.transfer_from);
    if (!transfer.ok()) return Fail(transfer.status());
    for (Record& r : *transfer) {
      if (r.workload_key != task.WorkloadKey())
        tuner_options.transfer_records.push_back(std::move(r));
    }
  }
  StatusOr<std::unique_ptr<Tuner>> tuner = MakeTuner(task, tuner_options);
  if (!tuner.ok()) return Fail(tuner.status());
  const std::string records_path = a.records.empty() ? "sonar_tune.sonar" : a.records;
  StatusOr<RecordStore> store = RecordStore::Open(records_path, {});
  if (!store.ok()) return Fail(store.status());
  TuneOptions options;
  options.max_trials = a.trials;
  options.batch_size = a.batch;
  options.early_stopping.no_improvement_trials = a.early_stop;
  options.early_stopping.min_relative_gain = a.min_gain;
  options.early_stopping.relative_window = a.gain_window;
  options.max_wall_seconds = a.max_wall_seconds;
  options.hardware_id = measurer->hardware_id();
  options.tuner_name = a.tuner;
  // A replay that takes simulated time shows its rate like a live run.
  auto progress = std::make_shared<Progress>(
      a.quiet || a.json, flops,
      !a.replay.empty() && replay_timing->mode == ReplayTiming::Mode::kInstant);
  options.callbacks.push_back([progress](const TuneProgress& p) { return progress->OnBatch(p); });
  options.on_result = [progress](const TuneProgress& p) { progress->OnResult(p); };
  // Ctrl-C or a TERM: finish the batch in flight (its records are written), then stop.
  g_stop_signal = 0;
  struct sigaction stop = {};
  stop.sa_handler = OnStopSignal;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGINT, &stop, nullptr);
  sigaction(SIGTERM, &stop, nullptr);
  if (!a.quiet && !a.json) {
    std::fprintf(stderr, "tuning %s (%s, %llu configs before constraints) with %s, records in %s\n",
                 task.name.c_str(), WorkloadKeyToHex(task.WorkloadKey()).c_str(),
                 static_cast<unsigned long long>(task.space.size()), a.tuner.c_str(),
                 records_path.c_str());
  }
  StatusOr<TuneSummary> summary = InternalError("not run");
  if (mpi) {
    MpiQueueOptions queue;
    queue.timing_ranks_per_node = a.timing_ranks_per_node;
    MpiAsyncMeasurer workers(queue);  // waits for every worker's hello
    if (!workers.hardware_id().empty()) options.hardware_id = workers.hardware_id();
    if (!a.quiet && !a.json) {
      std::fprintf(stderr, "MPI: %d workers, %d timed run(s) at once per node\n",
                   workers.capacity(), a.timing_ranks_per_node);
    }
    summary = TuneAsync(options, task, **tuner, workers, *store);
  } else {
    summary = Tune(options, task, **tuner, *measurer, *store);
  }
  progress->Done();
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (!summary.ok()) return Fail(summary.status());
  // Interrupted: the summary as usual, how to resume, and the shell's exit code for the signal.
  const int stop_signal = g_stop_signal;
  const int exit_code = stop_signal != 0 ? 128 + stop_signal : kExitOk;
  if (stop_signal != 0) {
    summary->message = std::string("interrupted by ") +
                       (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") +
                       " after the batch in flight";
  }
  // Speed-up over the default config: the reference config is timed in every batch.
  double default_seconds = 0;
  if (summary->best && summary->best->result.reference_seconds > 0) {
    default_seconds = summary->best->result.reference_seconds;
  }
  const double best_seconds = summary->best ? RecordCost(*summary->best) : NAN;
  if (a.json) {
    Json best = nullptr;
    if (summary->best) best = Json::parse(RecordToJsonLine(*summary->best));
    Json failures = Json::array();
    for (const FailureClass& f : summary->failures) {
      failures.push_back({{"status", std::string(MeasureStatusToString(f.status))},
                          {"count", f.count},
                          {"first_message", f.first_message}});
    }
    Json j = {
        {"task", task.name},
        {"workload", WorkloadKeyToHex(task.WorkloadKey())},
        {"tuner", a.tuner},
        {"reason", std::string(TerminationReasonToString(summary->reason))},
        {"message", summary->message},
        {"trials", summary->num_trials},
        {"resumed", summary->num_resumed},
        {"failed", summary->num_failed},
        {"wall_seconds", summary->wall_seconds},
        {"best_seconds", std::isfinite(best_seconds) ? Json(best_seconds) : Json(nullptr)},
        {"best_gflops", flops > 0 && std::isfinite(best_seconds) ? Json(flops / best_seconds * 1e-9)
                                                                 : Json(nullptr)},
        {"default_seconds", default_seconds > 0 ? Json(default_seconds) : Json(nullptr)},
        {"speedup_over_default", default_seconds > 0 && std::isfinite(best_seconds)
                                     ? Json(default_seconds / best_seconds)
                                     : Json(nullptr)},
        {"records", records_path},
        {"failures", failures},
        {"best", best}};
    std::cout << j.dump() << std::endl;
    if (stop_signal != 0) PrintResumeHint(records_path);
    return exit_code;
  }
  std::printf("%s\n", summary->FullReport().c_str());
  if (summary->best) {
    if (flops > 0)
      std::printf("best: %.4g s, %.2f GFLOP/s\n", best_seconds, flops / best_seconds * 1e-9);
    if (default_seconds > 0) {
      std::printf("default config: %.4g s -> speed-up %.2fx\n", default_seconds,
                  default_seconds / best_seconds);
    }
  }
  if (summary->best && a.replay.empty() && !*cuda) {
    // The next step: the tuned kernel in the user's own program.
    std::printf("use it: sonar emit --records %s --workload %s --out tuned (docs/emit.md)\n",
                records_path.c_str(), WorkloadKeyToHex(task.WorkloadKey()).c_str());
  }
  if (stop_signal != 0) PrintResumeHint(records_path);
  return exit_code;
}

struct CompareArgs {
  std::vector<std::string> replay;
  std::string op, shape;
  bool no_cache = false;
  std::string workload = "all";
  std::string tuners = "random,grid,ga,autotvm";
  std::string baseline = "random";
  int seeds = 20;
  int trials = 1000;
  int batch = 1;
  int threads = 0;
  double stop_within = 0;
  int min_configs = 2;
  std::vector<std::string> transfer_from;
  std::string out;
  bool json = false;
  BackendFlags backend;
  std::string replay_seconds;
  int async_workers = 1;
  bool no_pending_fantasies = false;
};

int RunCompare(const CompareArgs& a) {
  CompareOptions options;
  options.tuners.clear();
  std::stringstream ss(a.tuners);
  std::string name;
  while (std::getline(ss, name, ',')) {
    TunerKind k;
    if (!StringToTunerKind(name, &k)) {
      std::fprintf(stderr, "sonar compare: unknown tuner '%s'\n", name.c_str());
      return kExitUsage;
    }
    options.tuners.push_back(k);
  }
  if (options.tuners.empty()) return UsageError("compare", "--tuners names no tuner");
  if (!a.op.empty() && a.stop_within > 0) {
    return UsageError("compare",
                      "--stop-within needs a table's best, which a live run (--op) does not know");
  }
  if (!a.out.empty()) {
    if (Status s = CheckOutputDirectory("--out", a.out); !s.ok()) {
      return UsageError("compare", s.message());
    }
  }
  if (!StringToTunerKind(a.baseline, &options.baseline)) {
    return UsageError("compare", "unknown --baseline '" + a.baseline + "'");
  }
  std::vector<TunerKind> run = options.tuners;
  run.push_back(options.baseline);
  if (Status s = CheckTransferFlags("compare", run, !a.transfer_from.empty()); !s.ok()) {
    return UsageError("compare", s.message());
  }
  options.seeds = a.seeds;
  options.trials = a.trials;
  options.batch_size = a.batch;
  options.threads = a.threads;
  options.stop_within = a.stop_within / 100.0;
  options.async_workers = a.async_workers;
  options.tuner_options.bo.fantasize_pending = !a.no_pending_fantasies;
  StatusOr<ReplayTiming> replay_timing = ParseReplayTiming(a.replay_seconds);
  if (!replay_timing.ok()) return UsageError("compare", replay_timing.status().message());
  options.replay_timing = *replay_timing;
  // Under mpirun: the seeds are jobs, spread over the worker ranks; rank 0 prints the results.
  const bool mpi = MpiSize() > 1;
  const bool mpi_worker = mpi && MpiRank() > 0;
  if (mpi) options.executor = MpiRunCompareJobs;
  std::vector<CompareTable> tables;
  if (a.replay.empty() == a.op.empty()) {
    std::fprintf(stderr, "sonar compare: give --replay FILE... or --op OP --shape DIMS (live)\n");
    return kExitUsage;
  }
  StatusOr<bool> cuda = UsesCuda(a.backend, "");
  if (!cuda.ok()) return UsageError("compare", cuda.status().message());
  if (*cuda && a.op.empty()) {
    return UsageError("compare",
                      "--backend cuda, --device, --arch and --flush-l2 need --op (live)");
  }
  const CudaOptions cuda_options = CudaOptionsFromFlags(a.backend);
  if (Status s = cuda_options.Validate(); *cuda && !s.ok()) {
    return UsageError("compare", s.message());
  }
  if (!a.op.empty()) {  // live: every trial compiled and measured on this machine
    StatusOr<Task> task =
        *cuda ? CudaOperatorTaskFromFlags(a.op, a.shape, "") : OperatorTaskFromFlags(a.op, a.shape);
    if (!task.ok()) return UsageError("compare", task.status().message());
    if (*cuda) {
      StatusOr<CudaDeviceInfo> info = QueryCudaDevice(cuda_options, false);
      if (!info.ok()) return Fail(info.status());
      task->target = CudaTarget(*info);
    }
    CompareTable live;
    live.name = "live:" + task->name;
    live.workload_key = task->WorkloadKey();
    live.live_task = std::move(*task);
    tables.push_back(std::move(live));
    const bool use_cache = !a.no_cache;
    const bool on_gpu = *cuda;
    options.live_measurer = [use_cache, on_gpu, cuda_options, mpi_worker]() {
      MeasureOptions mo;
      mo.use_cache = use_cache;
      if (mpi_worker) {  // one timed run at a time per node
        mo.parallel_builds = 1;
        mo.acquire_timing = MpiAcquireTiming;
        mo.release_timing = MpiReleaseTiming;
      }
      return on_gpu ? MakeCudaMeasurer(mo, cuda_options) : MakeLocalMeasurer(mo);
    };
  }
  for (const std::string& path : a.replay) {
    StatusOr<std::vector<Record>> records = LoadRecordFiles({path});
    if (!records.ok()) return Fail(records.status());
    std::string stem = std::filesystem::path(path).filename().string();
    for (const char* ext : {".gz", ".json", ".jsonl", ".log", ".sonar", "_records_v0.2"}) {
      if (stem.size() > std::strlen(ext) && stem.ends_with(ext))
        stem.resize(stem.size() - std::strlen(ext));
    }
    std::vector<CompareTable> t = TablesFromRecords(*records, stem, a.min_configs);
    if (a.workload != "all") {
      uint64_t key = 0;
      const bool is_key = HexToWorkloadKey(a.workload, &key);
      std::erase_if(t, [&](const CompareTable& ct) {
        return !((is_key && ct.workload_key == key) || ct.records[0].task.name == a.workload ||
                 ct.records[0].task.op == a.workload);
      });
    }
    for (CompareTable& c : t) tables.push_back(std::move(c));
  }
  if (tables.empty()) {
    if (a.workload != "all") {
      return UsageError("compare", "--workload: no table matches '" + a.workload +
                                       "' with at least --min-configs " +
                                       std::to_string(a.min_configs) + " ok configs");
    }
    return Fail(NotFoundError("no table to compare on: no workload of --replay has --min-configs " +
                              std::to_string(a.min_configs) + " or more ok configs"));
  }
  if (!a.transfer_from.empty()) {
    StatusOr<std::vector<Record>> transfer = LoadRecordFiles(a.transfer_from);
    if (!transfer.ok()) return Fail(transfer.status());
    options.transfer_records = std::move(*transfer);
  }
  if (!a.json && !mpi_worker) {
    std::fprintf(stderr, "comparing %s on %zu tables, %d seeds, %d trials%s\n", a.tuners.c_str(),
                 tables.size(), a.seeds, a.trials,
                 mpi ? (", on " + std::to_string(MpiSize() - 1) + " MPI workers").c_str() : "");
  }
  // A progress line on a terminal: runs done of all (tuners x seeds x tables).
  const bool show = !a.json && isatty(2) && !mpi_worker;
  StatusOr<CompareResult> result = CompareTuners(tables, options, [show](int done, int total) {
    if (show) std::fprintf(stderr, "\r\033[Krun %d/%d", done, total);
  });
  if (show) std::fprintf(stderr, "\r\033[K");
  if (!result.ok()) return Fail(result.status());
  if (mpi_worker) return kExitOk;  // rank 0 holds and prints the results
  if (!a.out.empty()) {
    StatusOr<std::vector<std::string>> files = WriteCompareOutputs(*result, a.out);
    if (!files.ok()) return Fail(files.status());
    if (!a.json) std::fprintf(stderr, "wrote %zu files to %s\n", files->size(), a.out.c_str());
  }
  if (a.json) {
    std::cout << CompareSummaryJson(*result) << std::endl;
    return kExitOk;
  }
  std::printf("%-44s %-11s %6s %7s %7s %7s %7s %7s %7s\n", "table", "tuner", "size", "to1%", "to5%",
              "to10%", "r1%", "r5%", "r10%");
  bool any_censored = false;
  for (const CompareTableResult& tr : result->tables) {
    for (const CompareTunerResult& t : tr.tuners) {
      std::string cells;
      char cell[32];
      for (int x = 0; x < 3; ++x) {
        if (t.censored[x]) {
          std::snprintf(cell, sizeof cell, " %7s", (">" + std::to_string(tr.trials)).c_str());
          any_censored = true;
        } else if (std::isfinite(t.median_trials_to[x])) {
          std::snprintf(cell, sizeof cell, " %7.1f", t.median_trials_to[x]);
        } else {
          std::snprintf(cell, sizeof cell, " %7s", "-");
        }
        cells += cell;
      }
      for (int x = 0; x < 3; ++x) {
        if (std::isfinite(t.ratio_to_baseline[x])) {
          std::snprintf(cell, sizeof cell, " %7.2f", t.ratio_to_baseline[x]);
        } else {
          std::snprintf(cell, sizeof cell, " %7s", "-");
        }
        cells += cell;
      }
      std::printf("%-44s %-11s %6lld%s\n", tr.name.substr(0, 44).c_str(),
                  std::string(TunerKindToString(t.tuner)).c_str(), static_cast<long long>(tr.size),
                  cells.c_str());
    }
  }
  std::printf(
      "(median over %d seeds of the trials to reach within 1/5/10%% of the table's best; "
      "r = ratio to %s%s%s; %.1f s)\n",
      a.seeds, a.baseline.c_str(),
      std::find(options.tuners.begin(), options.tuners.end(), options.baseline) ==
              options.tuners.end()
          ? ", run as the baseline"
          : "",
      any_censored ? "; >N: most runs did not get there within the budget N, so no ratio" : "",
      result->wall_seconds);
  return kExitOk;
}

}  // namespace

void RegisterTuneCommands(CLI::App& app, int* exit_code) {
  auto t = std::make_shared<TuneArgs>();
  CLI::App* tune = app.add_subcommand(
      "tune",
      "Tune one workload: a built-in operator or a user kernel measured on this machine, "
      "or a replayed table. Killing it and running the same command again resumes.");
  tune->add_option("--op", t->op, "Built-in operator: dense | conv2d | depthwise_conv2d");
  tune->add_option("--shape", t->shape,
                   "Operator shape, comma-separated (dense M,N,K; conv2d N,C,H,W,K,R,S,stride,pad; "
                   "depthwise_conv2d N,C,H,W,R,S,stride,pad)");
  tune->add_option("--kernel", t->kernel, "User kernel source (see docs/user_kernels.md)");
  tune->add_option("--space", t->space, "SPACE.json of the user kernel");
  tune->add_option("--replay", t->replay, "Record log or history file to replay as the measurer");
  tune->add_option("--workload", t->workload, "Workload of --replay (hex key, task name or op)");
  tune->add_option("--tuner", t->tuner,
                   "random | grid | ga | autotvm | bo | transfer-bo | rgpe (the last two need "
                   "--transfer-from)")
      ->capture_default_str();
  tune->add_option("--trials", t->trials, "Trial budget, counting records already in --records")
      ->capture_default_str()
      ->check(AtLeast(1));
  tune->add_option("--batch", t->batch, "Configs per round")
      ->capture_default_str()
      ->check(AtLeast(1));
  tune->add_option("--early-stop", t->early_stop,
                   "Stop after N trials without a new best (0 = off)")
      ->check(AtLeast(0));
  tune->add_option("--min-gain", t->min_gain,
                   "Stop when the best improves by less than this fraction...")
      ->check(InRange(0, 1));
  tune->add_option("--gain-window", t->gain_window, "... over this many trials")->check(AtLeast(0));
  tune->add_option("--max-wall-seconds", t->max_wall_seconds, "Wall-time budget (0 = none)")
      ->check(AtLeast(0));
  tune->add_option("--records", t->records, "Record log to append to and resume from")
      ->default_str("sonar_tune.sonar");
  tune->add_option("--transfer-from", t->transfer_from,
                   "Records (logs or history files) of other workloads for the tuner to learn "
                   "from: autotvm, transfer-bo, rgpe");
  tune->add_option("--seed", t->seed, "Seed of every random choice")
      ->capture_default_str()
      ->check(AtLeast(0));
  tune->add_option("--min-repeat-ms", t->min_repeat_ms, "Timing: shortest timed repeat, ms")
      ->check(AtLeast(0));
  tune->add_flag("--no-cache", t->no_cache, "Recompile kernels even when cached");
  tune->add_option("--replay-seconds", t->replay_seconds,
                   "Replay only: each replayed measurement takes its recorded compile plus run "
                   "time ('recorded') or this many seconds (default: none)");
  tune->add_option("--timing-ranks-per-node", t->timing_ranks_per_node,
                   "Under mpirun: timed runs at once per node, each on its own core (1 is safe "
                   "on a shared node; docs/mpi.md)")
      ->capture_default_str()
      ->check(AtLeast(1));
  tune->add_flag("--json", t->json, "Print one JSON summary object on stdout");
  tune->add_flag("--quiet", t->quiet, "No progress display");
  AddBackendFlags(tune, &t->backend);
  tune->footer(
      "Examples:\n"
      "  sonar tune --op dense --shape 512,512,512 --tuner autotvm --trials 64 --records "
      "dense.sonar\n"
      "  sonar tune --replay ../shared/datasets/kernel_tuner_cache/pnpoly__RTX_Titan.json.gz \\\n"
      "      --tuner ga --trials 200 --records replay.sonar --json\n"
      "  mpirun -np 9 sonar tune --op conv2d --shape 1,64,56,56,64,3,3,1,1 --tuner bo \\\n"
      "      --trials 500 --records c.sonar   (rank 0 tunes, 8 workers measure; docs/mpi.md)");
  // Flags that this kind of run would ignore are refused with it (exit 2, both named).
  for (const char* f : {"--shape", "--kernel", "--space", "--no-cache", "--min-repeat-ms"}) {
    tune->get_option("--replay")->excludes(f);
  }
  tune->get_option("--op")->excludes("--space");
  tune->get_option("--op")->excludes("--replay-seconds");
  tune->get_option("--kernel")->excludes("--replay-seconds");
  tune->get_option("--kernel")->excludes("--shape");
  tune->callback([=] { *exit_code = RunTune(*t); });

  auto c = std::make_shared<CompareArgs>();
  CLI::App* compare = app.add_subcommand(
      "compare",
      "Compare tuners over replayed tables: trials to reach within 1/5/10% of each "
      "table's best, median over seeds, as ratios to random search.");
  compare->add_option("--replay", c->replay, "Record logs, history files or Kernel Tuner caches");
  compare->add_option(
      "--op", c->op,
      "Live instead of --replay: a built-in operator (dense | conv2d | "
      "depthwise_conv2d) compiled and measured here for every trial, runs one at a time");
  compare->add_option("--shape", c->shape, "Shape of --op (as in sonar tune)");
  compare->add_flag("--no-cache", c->no_cache, "Live: recompile kernels even when cached");
  compare
      ->add_option("--workload", c->workload, "Only this workload (hex key, task name, op) or all")
      ->capture_default_str();
  compare->add_option("--tuners", c->tuners, "Comma-separated tuners")->capture_default_str();
  compare
      ->add_option("--baseline", c->baseline,
                   "The tuner ratios are taken against; run too when not in --tuners")
      ->capture_default_str();
  compare->add_option("--seeds", c->seeds, "Seeds per tuner and table")
      ->capture_default_str()
      ->check(AtLeast(1));
  compare->add_option("--trials", c->trials, "Trial budget per run")
      ->capture_default_str()
      ->check(AtLeast(1));
  compare->add_option("--batch", c->batch, "Configs per round")
      ->capture_default_str()
      ->check(AtLeast(1));
  compare->add_option("--threads", c->threads, "Worker threads (0 = one per core)")
      ->check(AtLeast(0));
  compare
      ->add_option("--stop-within", c->stop_within,
                   "Replay only: end a run once it is within PCT% of the table's best (0 = "
                   "never). Trials-to thresholds >= PCT are unchanged; smaller ones are "
                   "reported as null. Saves the long tails of runs judged at 5%")
      ->check(InRange(0, 99))
      ->capture_default_str();
  compare->add_option("--min-configs", c->min_configs, "Skip tables with fewer ok configs")
      ->capture_default_str()
      ->check(AtLeast(0));
  compare->add_option("--transfer-from", c->transfer_from,
                      "Records (logs or history files) for the transfer tuners: autotvm's "
                      "load_history, transfer-bo, rgpe. Each table's own workload is left out, "
                      "so --replay FILE --transfer-from FILE is leave-one-workload-out");
  compare->add_option(
      "--out", c->out,
      "Directory for curves.csv, summary.csv/json and plots (files of those names in it are "
      "replaced)");
  compare->add_flag("--json", c->json, "Print the summary as one JSON object on stdout");
  AddBackendFlags(compare, &c->backend);
  compare->add_option("--replay-seconds", c->replay_seconds,
                      "Each replayed measurement takes its recorded compile plus run time "
                      "('recorded') or this many seconds (default: none)");
  compare
      ->add_option("--async-workers", c->async_workers,
                   "Simulate N asynchronous workers of equal speed: N configs pending, the next "
                   "proposed after each result (as mpirun -np N+1 sonar tune does); 1 = off")
      ->capture_default_str()
      ->check(AtLeast(1));
  compare->add_flag("--no-pending-fantasies", c->no_pending_fantasies,
                    "bo, transfer-bo, rgpe: ignore the configs still being measured when "
                    "proposing (plain top-q; for comparison)");
  compare->footer(
      "Tuners: random, grid, ga, autotvm, bo, transfer-bo, rgpe (the last two need "
      "--transfer-from).\n"
      "Examples:\n"
      "  sonar compare --replay ../shared/datasets/kernel_tuner_cache/*.json.gz \\\n"
      "      --tuners random,ga,autotvm --seeds 20 --trials 1000 --out compare_kt --json\n"
      "  D=../shared/datasets/autotvm_cuda_v100_nnfusion/conv2d_records_v0.2.jsonl.gz\n"
      "  sonar compare --replay $D --transfer-from $D --tuners bo,transfer-bo,rgpe,autotvm --seeds "
      "5\n"
      "  sonar compare --op conv2d --shape 1,128,28,28,128,3,3,1,1 --tuners bo,transfer-bo \\\n"
      "      --transfer-from datasets/cpu_epyc_zen4/*.jsonl --seeds 2 --trials 30\n"
      "  mpirun -np 9 sonar compare --replay ../shared/datasets/kernel_tuner_cache/*.json.gz \\\n"
      "      --tuners random,bo --seeds 20 --replay-seconds recorded   (seeds spread over 8 "
      "workers)");
  compare->callback([=] { *exit_code = RunCompare(*c); });
}

}  // namespace sonar::cli
