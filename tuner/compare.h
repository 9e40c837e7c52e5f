// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: CompareTuners, the harness on which every tuner is judged: several
// tuners, each with many seeds, replayed over recorded tables (imported histories or Kernel
// Tuner brute-force caches), with the headline metric of DESIGN.md: the median over seeds of the
// trials a tuner needs to first find a config within 1%, 5% and 10% of the table's best (a run
// that never does counts as trials + 1, and a median that rests on such runs is marked
// censored), as a ratio to a baseline tuner (random search unless named) run in the same
// process, whether or not it was asked for.
//
// Example:
//   std::vector<CompareTable> tables = TablesFromRecords(records, "pnpoly__RTX_Titan");
//   CompareOptions options;
//   options.tuners = {TunerKind::kRandom, TunerKind::kAutoTvm};
//   SONAR_ASSIGN_OR_RETURN(CompareResult result, CompareTuners(tables, options));
//   std::cout << CompareSummaryJson(result) << "\n";
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "measure/measurer.h"
#include "measure/record.h"
#include "tuner/tuner.h"

namespace sonar {

// One replayed table: the records of one workload. A live table has no records but a task,
// measured for real by CompareOptions::live_measurer (runs on live tables go one at a time, so
// measurements never share the cores); its "best" is the best any run found.
struct CompareTable {
  std::string name;  // "<file stem>:<task name>"
  uint64_t workload_key = 0;
  std::vector<Record> records;
  std::optional<Task> live_task;
};

// One table per workload of `records` (in order of first appearance), named "<source>:<task>".
// `min_configs` drops workloads with fewer distinct ok records.
std::vector<CompareTable> TablesFromRecords(const std::vector<Record>& records,
                                            const std::string& source, int min_configs = 2);

struct CompareOptions {
  std::vector<TunerKind> tuners = {TunerKind::kRandom};
  // The tuner every ratio is taken against; run too (after `tuners`) when not among them.
  TunerKind baseline = TunerKind::kRandom;
  int seeds = 20;      // seeds 0 .. seeds-1 per tuner and table
  int trials = 1000;   // budget per run (capped at the table's size)
  int batch_size = 1;  // configs per propose/observe round
  int threads = 0;     // worker threads; 0 = one per core
  // Replayed tables only: a run stops once it is within this fraction of the table's best
  // (0: never; e.g. 0.05). Trials-to-x for thresholds x >= stop_within are exactly those of a
  // full run; thresholds below it are reported as NaN (not measured), and the best-so-far
  // checkpoints after the stop hold the value reached at the stop. Saves the long tails of
  // runs that are judged at 5%. In [0, 1).
  double stop_within = 0;
  // Records of other workloads for the transfer tuners (autotvm's load_history, transfer-bo,
  // rgpe); the table's own workload is always left out of them. transfer-bo and rgpe learn from
  // them once per table (in parallel over tables), shared by all seeds.
  std::vector<Record> transfer_records;
  TunerOptions tuner_options;  // base options (kind and seed are set per run)
  // Makes the measurer of live tables (e.g. MakeLocalMeasurer); required when one is given.
  std::function<StatusOr<std::unique_ptr<Measurer>>()> live_measurer;
  // How long a replayed measurement takes (sonar compare --replay-seconds): instant by default.
  ReplayTiming replay_timing;
  // Simulates this many asynchronous workers whose measurements take equal time (1: off, the
  // synchronous loop of batch_size). Up to async_workers configs are pending; the first
  // async_workers are proposed as one batch, then one config is proposed after each result
  // (the oldest pending config returns first), as TuneAsync does with that many MPI workers.
  // batch_size is then not used. >= 1.
  int async_workers = 1;
  // Runs the jobs (one per table, tuner and seed): run(j) computes job j's curve (called
  // concurrently for different j), store(j, curve) keeps it (called on this process, one at a
  // time). Returns false when this process only worked for another that holds the results (an
  // MPI worker rank: CompareTuners then returns a result with no tables). Null: on `threads`
  // threads here. tuner/mpi/mpi_work_queue.h's MpiRunCompareJobs spreads them over MPI ranks.
  std::function<bool(size_t num_jobs, const std::function<std::vector<double>(size_t)>& run,
                     const std::function<void(size_t, std::vector<double>)>& store)>
      executor;
  Status Validate() const;
};

// The outcome for one tuner on one table.
struct CompareTunerResult {
  TunerKind tuner = TunerKind::kRandom;
  // curves[seed][t]: best cost (seconds) after t+1 trials; +inf before the first success.
  std::vector<std::vector<double>> curves;
  // Median over seeds of the trials to first reach within 1%, 5%, 10% of the table's best
  // (NaN for thresholds below CompareOptions::stop_within).
  double median_trials_to[3] = {0, 0, 0};
  // median_trials_to / the baseline's (NaN when either median is censored or not measured).
  double ratio_to_baseline[3] = {0, 0, 0};
  // Median over seeds of best-so-far / table best after 10, 25, 50, 100, 200 trials.
  double median_relative_at[5] = {0, 0, 0, 0, 0};
  // Transfer tuners (transfer-bo, rgpe): the sources used, the seconds spent learning from
  // them (once per table), and Spearman's rho between the model's prediction before any
  // target measurement and the table's true log costs (NaN for other tuners).
  int transfer_sources = 0;
  double transfer_seconds = 0;
  // Per threshold: seeds whose run reached it, and whether the median rests on runs that never
  // did (then it is only a lower bound: more than the budget, shown as ">budget").
  int reached[3] = {0, 0, 0};
  bool censored[3] = {false, false, false};
  double zero_shot_spearman = std::numeric_limits<double>::quiet_NaN();
};

struct CompareTableResult {
  std::string name;
  uint64_t workload_key = 0;
  double best_seconds = 0;  // the table's best ok cost
  int64_t size = 0;         // distinct configs in the table
  int trials = 0;           // the budget used (<= size)
  std::vector<CompareTunerResult> tuners;
};

struct CompareResult {
  TunerKind baseline = TunerKind::kRandom;
  std::vector<CompareTableResult> tables;
  double wall_seconds = 0;
};

inline constexpr double kCompareThresholds[3] = {0.01, 0.05, 0.10};
inline constexpr int kCompareCheckpoints[5] = {10, 25, 50, 100, 200};

// Runs every tuner with every seed on every table, in parallel across runs. `on_run`, when set,
// is called (under a lock, from the worker threads) after each run with the runs done and the
// total: for progress displays.
StatusOr<CompareResult> CompareTuners(const std::vector<CompareTable>& tables,
                                      const CompareOptions& options,
                                      const std::function<void(int done, int total)>& on_run = {});

// The summary as one JSON object: {"baseline", "tables": [{"table", "workload", "best_seconds",
// "size", "trials", "tuners": [{"tuner", "median_trials_to": {"1","5","10"} (null when not
// measured), "censored": {...} (true: the median is only a lower bound, > trials), "reached":
// {...} (seeds that got there), "ratio_to_baseline": {...} (null when censored),
// "median_relative_at": {"10", ...} (checkpoints up to the budget), and for transfer tuners
// "transfer_sources", "transfer_seconds", "zero_shot_spearman"}]}], "median_ratio_to_baseline":
// {tuner: {"1","5","10"}}, "median_ratio_to": {tuner: {other tuner: {"1","5","10"}}} (per-table
// ratios of uncensored median trials-to, median over tables)}.
std::string CompareSummaryJson(const CompareResult& result);

// Writes curves.csv, summary.csv (a censored median as ">TRIALS"), summary.json and, per table,
// the plot's data (.dat), its gnuplot script (.gp, absolute paths: it runs from anywhere) and,
// when gnuplot is installed, the SVG (median best-so-far relative to the table's best, with the
// 25th-75th percentile band over seeds) into `dir`. Returns every file written.
StatusOr<std::vector<std::string>> WriteCompareOutputs(const CompareResult& result,
                                                       const std::string& dir);

}  // namespace sonar
