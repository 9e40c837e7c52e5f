// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// sonar search: the joint architecture and schedule search over an architecture space, with the
// built-in dlib trainer on the digits or a user's training program. --method brute-force trains
// every candidate fully and tunes every distinct layer with a large budget: the reference
// method, and the generator of the ground-truth table that replay evaluations answer from.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "common/statistics.h"
#include "measure/child_process.h"
#include "measure/emit/emit.h"
#include "measure/hardware.h"
#include "measure/history_io.h"
#include "measure/measurer.h"
#include "measure/record_store.h"
#include "measure/training/trainer.h"
#include "space/architecture.h"
#include "tuner/search/brute_force.h"
#include "tuner/search/joint_search.h"
#include "tuner/search/live.h"
#include "tuner/search/network_timing.h"
#include "tuner/search/replay.h"
#include "tuner/search/search_outputs.h"
#include "tuner/search/search_problem.h"

namespace sonar::cli {
namespace {

using Json = nlohmann::ordered_json;

struct SearchArgs {
  std::string space = "digits-cnn";
  std::string method = "sonar";
  std::vector<std::string> train_command;
  std::string data;
  std::string records = "sonar_search.sonar";
  int64_t architectures = 300;
  uint64_t seed = 0;
  int epochs = 20;
  int layer_trials = 64;
  std::string layer_tuner;  // "" = per mode
  std::string phase = "all";
  double max_wall_seconds = 0;
  double budget_minutes = 0;
  double min_repeat_ms = 0;
  std::vector<std::string> transfer_from;
  // replay
  std::vector<std::string> replay;
  std::string compare = "sonar,sequential,random,hyperband,brute-force";
  int seeds = 20;
  int threads = 0;
  std::string out;
  double bound_quantile = 1.0;
  std::string latency_rule = "bounds";
  bool no_network_timing = false;
  std::string emit;  // live: the front's networks as code (sonar emit)
  bool json = false, quiet = false;
};

StatusOr<ArchitectureSpace> OpenSpace(const std::string& name) {
  for (const std::string& builtin : BuiltinArchitectureSpaceNames()) {
    if (name == builtin) return BuiltinArchitectureSpace(name);
  }
  if (!std::filesystem::exists(name)) {
    std::string names;
    for (const std::string& n : BuiltinArchitectureSpaceNames()) names += " " + n;
    const std::string message =
        "--space " + name + ": no such file and no built-in space of that name (built in:" + names +
        ")";
    // A bare name is a built-in that does not exist (a wrong flag); a path, a missing file.
    const bool path = name.find('/') != std::string::npos || name.ends_with(".json");
    return path ? NotFoundError(message) : InvalidArgumentError(message);
  }
  return LoadArchitectureSpace(name);
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "sonar search: %s\n", message.c_str());
  return kExitUsage;
}

bool ParseLayerTuner(const std::string& name, TunerKind* kind) {
  return StringToTunerKind(name, kind);
}

int RunReplay(const SearchArgs& a, const ArchitectureSpace& space) {
  ReplayOptions options;
  options.methods.clear();
  std::stringstream ss(a.compare);
  for (std::string name; std::getline(ss, name, ',');) {
    SearchMethod m;
    if (!StringToSearchMethod(name, &m)) {
      return Usage("--compare: unknown method '" + name +
                   "' (sonar, brute-force, sequential, random, hyperband)");
    }
    options.methods.push_back(m);
  }
  options.seeds = a.seeds;
  options.threads = a.threads;
  options.search.bounds.quantile = a.bound_quantile;
  options.search.latency_rule =
      a.latency_rule == "estimates" ? LatencyRule::kEstimates : LatencyRule::kBounds;
  if (!ParseLayerTuner(a.layer_tuner.empty() ? "autotvm" : a.layer_tuner, &options.layer_tuner)) {
    return Usage("unknown --layer-tuner '" + a.layer_tuner + "'");
  }
  if (Status s = options.Validate(); !s.ok()) return Usage(s.message());
  StatusOr<std::vector<Record>> records = LoadRecordFiles(a.replay);
  if (!records.ok()) return Fail(records.status());
  StatusOr<SearchTable> table = LoadSearchTable(space, *records, {});
  if (!table.ok()) return Fail(table.status());
  const bool talk = !a.quiet && !a.json;
  if (talk) {
    std::fprintf(stderr,
                 "replaying %zu candidates (%d more trained but not fully measured), %zu layers, "
                 "%d epochs, up to %d trials per layer; true front: %zu networks; brute force "
                 "costs %.0f s; %zu methods x %d seeds\n",
                 table->problem.candidates.size(), table->incomplete_candidates,
                 table->problem.layers.size(), table->full_epochs, table->full_trials,
                 table->true_front.size(), table->brute_force_seconds, options.methods.size(),
                 options.seeds);
  }
  StatusOr<ReplayResult> result = ReplaySearch(*table, options);
  if (!result.ok()) return Fail(result.status());
  if (!a.out.empty()) {
    StatusOr<std::vector<std::string>> files = WriteReplayOutputs(*result, a.out);
    if (!files.ok()) return Fail(files.status());
    if (talk) std::fprintf(stderr, "wrote %zu files into %s\n", files->size(), a.out.c_str());
  }
  if (a.json) {
    std::cout << ReplaySummaryJson(*result) << std::endl;
    return kExitOk;
  }
  std::printf("%-12s %14s %10s %14s %12s\n", "method", "median_s", "speedup", "seeds_at_front",
              "final_hv");
  for (const ReplayMethodResult& m : result->methods) {
    std::vector<double> hv = m.final_hypervolume;
    std::sort(hv.begin(), hv.end());
    std::printf("%-12s %14.1f %9.2fx %11d/%-2d %12.3f\n",
                std::string(SearchMethodToString(m.method)).c_str(), m.median_seconds_to_front,
                result->brute_force_seconds / m.median_seconds_to_front, m.seeds_reaching_front,
                result->seeds, hv[hv.size() / 2]);
  }
  std::printf("brute force: %.0f s; a seed that never reaches the front counts it all\n",
              result->brute_force_seconds);
  return kExitOk;
}

int RunSearch(const SearchArgs& a) {
  SearchMethod method;
  if (!StringToSearchMethod(a.method, &method)) {
    return Usage("unknown --method '" + a.method +
                 "' (sonar, brute-force, sequential, random, hyperband)");
  }
  if (a.phase != "all" && a.phase != "tune" && a.phase != "train") {
    return Usage("--phase must be all, tune or train");
  }
  if (a.phase != "all" && method != SearchMethod::kBruteForce) {
    return Usage("--phase is for --method brute-force");
  }
  if (!a.train_command.empty() && !a.data.empty()) {
    return Usage("--data is for the built-in trainer; a --train-command reads its own data");
  }
  if (a.budget_minutes < 0) return Usage("--budget-minutes must be >= 0");
  if (!a.out.empty()) {
    if (Status s = CheckOutputDirectory("--out", a.out); !s.ok()) return Usage(s.message());
  }
  if (!a.train_command.empty() && (a.train_command[0].find('/') != std::string::npos
                                       ? access(a.train_command[0].c_str(), X_OK) != 0
                                       : FindProgram(a.train_command[0]).empty())) {
    return Usage("--train-command: cannot find the program '" + a.train_command[0] + "'");
  }
  StatusOr<ArchitectureSpace> space = OpenSpace(a.space);
  if (!space.ok()) {
    std::fprintf(stderr, "sonar search: %s\n", space.status().message().c_str());
    // A space file that is wrong is a usage error, as an unknown built-in name; one that cannot
    // be read is failed work, as any input file.
    return space.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  if (!a.emit.empty()) {
    if (!a.replay.empty() || method == SearchMethod::kBruteForce) {
      return Usage("--emit is for a live search (it writes the front's networks)");
    }
    if (Status s = CheckOutputDirectory("--emit", a.emit); !s.ok()) return Usage(s.message());
    std::error_code ec;
    if (std::filesystem::exists(a.emit, ec) && !std::filesystem::is_empty(a.emit, ec)) {
      return Usage("--emit: " + a.emit + " is not empty; name a new or empty directory");
    }
  }
  if (!a.replay.empty()) return RunReplay(a, *space);

  TunerKind layer_tuner;
  const std::string tuner_name = !a.layer_tuner.empty()                ? a.layer_tuner
                                 : method == SearchMethod::kBruteForce ? "autotvm"
                                                                       : "transfer-bo";
  if (!ParseLayerTuner(tuner_name, &layer_tuner)) {
    return Usage("unknown --layer-tuner '" + tuner_name + "'");
  }
  if (!a.layer_tuner.empty() && a.transfer_from.empty() &&
      (layer_tuner == TunerKind::kTransferBayesOpt || layer_tuner == TunerKind::kRgpe) &&
      method != SearchMethod::kBruteForce) {
    return Usage("--layer-tuner " + a.layer_tuner +
                 " needs --transfer-from RECORDS (tuning records of other layers)");
  }
  if (method == SearchMethod::kBruteForce &&
      (layer_tuner == TunerKind::kTransferBayesOpt || layer_tuner == TunerKind::kRgpe)) {
    return Usage("brute force tunes with random, grid, ga, autotvm or bo");
  }
  BruteForceOptions brute;
  brute.epochs = a.epochs;
  brute.layer_trials = a.layer_trials;
  brute.layer_tuner = layer_tuner;
  brute.seed = a.seed;
  brute.tune = a.phase != "train";
  brute.train = a.phase != "tune";
  brute.max_wall_seconds = a.max_wall_seconds;
  if (Status s = brute.Validate(); !s.ok()) return Usage(s.message());
  JointSearchOptions search;
  search.method = method;
  search.full_epochs = a.epochs;
  search.full_trials = a.layer_trials;
  search.seed = a.seed;
  search.budget_seconds = a.budget_minutes * 60;
  search.bounds.quantile = a.bound_quantile;
  search.latency_rule =
      a.latency_rule == "estimates" ? LatencyRule::kEstimates : LatencyRule::kBounds;
  if (Status s = search.Validate(); !s.ok()) return Usage(s.message());

  // The trainer.
  DigitsData data;
  BuiltinTrainerOptions builtin;
  builtin.seed = a.seed;
  ExternalTrainerOptions external;
  StartTrainingFn start;
  std::string trainer_id;
  const bool trains = method != SearchMethod::kBruteForce || brute.train;
  if (a.train_command.empty()) {
    if (trains) {
      DigitsOptions digits;
      digits.path = a.data;
      digits.height = space->spec().input_height;
      digits.width = space->spec().input_width;
      StatusOr<DigitsData> loaded = LoadDigits(digits);
      if (!loaded.ok()) return Fail(loaded.status());
      data = std::move(*loaded);
    }
    char id[160];
    std::snprintf(id, sizeof id, "builtin-dlib:digits%dx%d:split0:seed%llu:batch%d:lr%g",
                  space->spec().input_height, space->spec().input_width,
                  static_cast<unsigned long long>(builtin.seed), builtin.batch_size,
                  builtin.learning_rate);
    trainer_id = id;
    start = [&](const Architecture& arch) {
      return StartBuiltinTraining(*space, arch, data, builtin);
    };
  } else {
    external.argv = a.train_command;
    trainer_id = "external:";
    for (size_t i = 0; i < a.train_command.size(); ++i) {
      trainer_id += (i ? " " : "") + a.train_command[i];
    }
    start = [&](const Architecture& arch) {
      return StartExternalTraining(space->ToJson(arch), external);
    };
  }
  brute.trainer_id = trainer_id;

  StatusOr<SearchProblem> problem =
      MakeSearchProblem(*space, SampleArchitectures(*space, a.architectures, a.seed), "");
  if (!problem.ok()) return Fail(problem.status());
  std::vector<Record> transfer;
  if (!a.transfer_from.empty()) {
    StatusOr<std::vector<Record>> loaded = LoadRecordFiles(a.transfer_from);
    if (!loaded.ok()) return Fail(loaded.status());
    transfer = std::move(*loaded);
  }
  MeasureOptions mo;
  if (a.min_repeat_ms > 0) mo.min_repeat_ms = a.min_repeat_ms;
  StatusOr<std::unique_ptr<Measurer>> measurer = MakeLocalMeasurer(mo);
  if (!measurer.ok()) return Fail(measurer.status());
  StatusOr<RecordStore> store = RecordStore::Open(a.records, {});
  if (!store.ok()) return Fail(store.status());
  const bool talk = !a.quiet && !a.json;
  auto say = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  if (talk) {
    std::fprintf(stderr,
                 "%s search over %zu of %lld architectures of %s (%zu distinct layers): up to %d "
                 "epochs each with %s, up to %d trials per layer with %s; records in %s\n",
                 a.method.c_str(), problem->candidates.size(),
                 static_cast<long long>(space->size()), space->name().c_str(),
                 problem->layers.size(), a.epochs, trainer_id.c_str(), a.layer_trials,
                 tuner_name.c_str(), a.records.c_str());
  }

  if (method == SearchMethod::kBruteForce) {
    brute.hardware_id = (*measurer)->hardware_id();
    if (talk) brute.progress = say;
    StatusOr<BruteForceSummary> summary = RunBruteForce(brute, *problem, start, **measurer, *store);
    if (!summary.ok()) return Fail(summary.status());
    if (a.json) {
      Json j = {{"method", "brute-force"},
                {"space", space->name()},
                {"architectures", summary->architectures},
                {"architectures_done", summary->architectures_done},
                {"architectures_failed", summary->architectures_failed},
                {"layers", summary->layers},
                {"layers_done", summary->layers_done},
                {"trials_measured", summary->trials_measured},
                {"epochs_trained", summary->epochs_trained},
                {"tune_seconds", summary->tune_seconds},
                {"train_seconds", summary->train_seconds},
                {"complete", summary->complete},
                {"trainer", trainer_id},
                {"records", a.records}};
      std::cout << j.dump() << std::endl;
    } else {
      std::printf("%s\n", summary->BriefReport().c_str());
    }
    return kExitOk;
  }

  LiveSearchOptions live;
  live.layer_tuner = layer_tuner;
  live.seed = a.seed;
  live.method_name = a.method;
  live.trainer_id = trainer_id;
  live.hardware_id = (*measurer)->hardware_id();
  live.transfer_records = std::move(transfer);
  std::unique_ptr<SearchEnvironment> env =
      MakeLiveEnvironment(*problem, start, **measurer, *store, live);
  if (talk) search.log = say;
  SearchTrace trace;
  search.on_step = [&trace](const SearchState& state, const SearchEnvironment& e) {
    trace.Add(state, e);
    return true;
  };
  StatusOr<SearchSummary> summary = RunJointSearch(search, *problem, *env);
  if (!summary.ok()) return Fail(summary.status());
  if (!a.out.empty()) {
    StatusOr<std::vector<std::string>> files = WriteSearchOutputs(*problem, *summary, trace, a.out);
    if (!files.ok()) return Fail(files.status());
    if (talk) std::fprintf(stderr, "wrote %zu files into %s\n", files->size(), a.out.c_str());
  }
  Json front = Json::array();
  std::vector<double> gaps;
  std::vector<BestConfig> emit_best;  // --emit: the front's tuned layers, each workload once
  std::vector<EmitNetworkSpec> emit_networks;
  std::set<uint64_t> emit_keys;
  for (int c : summary->front) {
    const Architecture& arch = problem->architecture(c);
    if (!a.emit.empty()) {
      emit_networks.push_back({arch.Name(), space->Layers(arch)});
      for (int l : problem->layers_of[c]) {
        const uint64_t key = problem->layers[l].task.WorkloadKey();
        std::vector<Record> top = store->TopK(key, 1);
        if (!top.empty() && emit_keys.insert(key).second) {
          emit_best.push_back({top[0], RecordCost(top[0])});
        }
      }
    }
    // The whole network, compiled with its layers' best configs and timed once.
    Json measured = nullptr;
    if (!a.no_network_timing) {
      std::vector<Task> tasks;
      std::vector<Config> configs;
      for (int l : problem->layers_of[c]) {
        const Task& task = problem->layers[l].task;
        std::vector<Record> best = store->TopK(task.WorkloadKey(), 1);
        StatusOr<Config> config = best.empty() ? StatusOr<Config>(NotFoundError("untuned"))
                                               : task.space.FromValues(best[0].config.values);
        if (!config.ok()) break;
        tasks.push_back(task);
        configs.push_back(*config);
      }
      if (tasks.size() == problem->layers_of[c].size()) {
        StatusOr<std::string> source = EmitNetworkSource(*space, arch, tasks, configs);
        StatusOr<MeasureResult> timed =
            source.ok() ? TimeNetwork(*source, mo) : StatusOr<MeasureResult>(source.status());
        if (timed.ok() && timed->ok() && !timed->run_seconds.empty()) {
          measured = timed->median_seconds();
          gaps.push_back(summary->state.Latency(c) / timed->median_seconds() - 1);
        } else if (talk) {
          std::fprintf(stderr, "timing %s as a whole failed: %s\n", arch.Name().c_str(),
                       timed.ok() ? timed->error_msg.c_str() : timed.status().ToString().c_str());
        }
      }
    }
    Json layers = Json::array();
    for (int l : problem->layers_of[c]) {
      const SearchState::Layer& ls = summary->state.layers[l];
      layers.push_back(
          {{"task", problem->layers[l].task.name},
           {"workload", WorkloadKeyToHex(problem->layers[l].task.WorkloadKey())},
           {"trials", ls.best_so_far.size()},
           {"best_seconds", ls.best_so_far.empty() ? Json(nullptr) : Json(ls.best_so_far.back())}});
    }
    front.push_back({{"architecture", arch.Name()},
                     {"accuracy", summary->state.Accuracy(c)},
                     {"epochs", summary->state.candidates[c].accuracy.size()},
                     {"latency_seconds", summary->state.Latency(c)},
                     {"measured_network_seconds", measured},
                     {"params", space->NumParams(arch)},
                     {"layers", layers}});
  }
  Json emitted = nullptr;
  if (!a.emit.empty() && !emit_networks.empty()) {
    StatusOr<EmitSummary> e = EmitTunedKernels(
        emit_best,
        {.out_dir = a.emit, .source_log = a.records, .preferred_target = ThisMachineTarget()},
        /*skip_unusable=*/true, emit_networks);
    if (!e.ok()) return Fail(e.status());
    emitted = {{"dir", a.emit}, {"networks", e->networks}, {"files", e->files.size()}};
    if (talk) {
      std::fprintf(stderr,
                   "emitted %zu networks (%zu tuned kernels) into %s: see %s/sonar_tuned.h\n",
                   e->networks.size(), emit_best.size(), a.emit.c_str(), a.emit.c_str());
    }
  }
  if (a.json) {
    Json j = {{"method", a.method},
              {"emitted", emitted},
              {"median_sum_vs_measured", gaps.empty() ? Json(nullptr) : Json(Median(gaps))},
              {"space", space->name()},
              {"candidates", problem->candidates.size()},
              {"rounds", summary->rounds},
              {"train_seconds", summary->train_seconds},
              {"tune_seconds", summary->tune_seconds},
              {"epochs_trained", summary->epochs_trained},
              {"trials_measured", summary->trials_measured},
              {"stopped_early", summary->stopped_early},
              {"records", a.records},
              {"front", front}};
    std::cout << j.dump() << std::endl;
    return front.empty() ? kExitFailure : kExitOk;
  }
  std::printf("%s\n", summary->BriefReport().c_str());
  std::printf("%-24s %9s %7s %13s %13s %9s\n", "architecture", "accuracy", "epochs", "latency_us",
              "measured_us", "params");
  for (const Json& f : front) {
    char whole[32] = "-";
    if (!f["measured_network_seconds"].is_null()) {
      std::snprintf(whole, sizeof whole, "%.2f", f["measured_network_seconds"].get<double>() * 1e6);
    }
    std::printf("%-24s %9.4f %7d %13.2f %13s %9lld\n", f["architecture"].get<std::string>().c_str(),
                f["accuracy"].get<double>(), f["epochs"].get<int>(),
                f["latency_seconds"].get<double>() * 1e6, whole, f["params"].get<long long>());
  }
  if (!gaps.empty()) {
    std::printf(
        "latency = sum of the tuned layers; measured = the whole network compiled with "
        "those schedules and the ReLU/pool glue, timed once: the sum is off by a median "
        "of %+.1f%%\n",
        100 * Median(gaps));
  }
  std::printf(
      "each layer's best schedule: sonar records best %s; as an AutoTVM log: sonar "
      "export %s --format autotvm --out FILE\n",
      a.records.c_str(), a.records.c_str());
  if (front.empty()) {
    std::fprintf(stderr,
                 "sonar search: no network was both trained and measured, so the front is empty "
                 "(the failures are above and in %s)\n",
                 a.records.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void RegisterSearchCommands(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<SearchArgs>();
  CLI::App* search = app.add_subcommand(
      "search",
      "Joint architecture and schedule search: train networks of an architecture space, tune "
      "their layers on this machine, stop both early, and end with the accuracy/latency Pareto "
      "front. Everything is kept as records; killed, it resumes. With --replay, compares the "
      "search methods on a ground-truth table instead.");
  search
      ->add_option("--space", a->space,
                   "Architecture space: a built-in name (digits-cnn) or a space file "
                   "(docs/search.md)")
      ->capture_default_str();
  search
      ->add_option("--method", a->method,
                   "sonar (interleaved rounds, both early-stopping rules) | brute-force (train "
                   "every candidate for --epochs and tune every layer for --layer-trials: the "
                   "ground-truth generator; see --phase) | sequential | random | hyperband")
      ->capture_default_str();
  search->add_option("--train-command", a->train_command,
                     "A training program and its arguments (run without a shell; give it "
                     "last): reads the architecture JSON on stdin, prints one JSON line per "
                     "epoch {\"epoch\": N, \"accuracy\": A}. Default: the built-in dlib trainer "
                     "on scikit-learn's digits");
  search->add_option("--data", a->data,
                     "digits.csv.gz for the built-in trainer (default: the one of Debian's "
                     "python3-sklearn)");
  search->add_option("--records", a->records, "Record log to append to and resume from")
      ->capture_default_str();
  search
      ->add_option("--architectures", a->architectures,
                   "Candidates: a seeded random subset of this many architectures (0 = all)")
      ->capture_default_str()
      ->check(AtLeast(0));
  search->add_option("--seed", a->seed, "Seed of the subset, the trainer and the tuners")
      ->capture_default_str()
      ->check(AtLeast(0));
  search->add_option("--epochs", a->epochs, "Full training budget, epochs")
      ->capture_default_str()
      ->check(AtLeast(1));
  search->add_option("--layer-trials", a->layer_trials, "Full tuning budget per layer, trials")
      ->capture_default_str()
      ->check(AtLeast(1));
  search->add_option("--layer-tuner", a->layer_tuner,
                     "Tuner of the layers (default: transfer-bo live, autotvm for brute-force "
                     "and --replay)");
  search->add_option("--transfer-from", a->transfer_from,
                     "Records of other layers (logs or history files) for the layer tuners to "
                     "learn from, besides the layers tuned earlier in the search");
  search
      ->add_option("--budget-minutes", a->budget_minutes,
                   "Stop once this much training and measuring time is spent (0 = none)")
      ->check(AtLeast(0));
  search->add_option("--phase", a->phase, "brute-force only: all | tune | train")
      ->capture_default_str();
  search
      ->add_option("--max-wall-seconds", a->max_wall_seconds,
                   "brute-force only: stop after this much wall time (run again to resume)")
      ->check(AtLeast(0));
  search->add_option("--min-repeat-ms", a->min_repeat_ms, "Timing: shortest timed repeat, ms")
      ->check(AtLeast(0));
  search->add_option("--replay", a->replay,
                     "Ground-truth record logs (made by --method brute-force): replay the "
                     "methods of --compare on them, charging the recorded seconds");
  search->add_option("--compare", a->compare, "Replay: comma-separated methods")
      ->capture_default_str();
  search->add_option("--seeds", a->seeds, "Replay: seeds per method")
      ->capture_default_str()
      ->check(AtLeast(1));
  search->add_option("--threads", a->threads, "Replay: worker threads (0 = one per core)")
      ->check(AtLeast(0));
  search->add_option("--out", a->out,
                     "Directory for CSV files and SVG plots (gnuplot): the front and where the "
                     "time went (live), hypervolume over time per method (replay); files of "
                     "those names in it are replaced");
  search
      ->add_option("--bound-quantile", a->bound_quantile,
                   "sonar: quantile of the peers' gains in the optimistic bounds (1 = the largest "
                   "gain any peer showed: the safest, the least pruning)")
      ->check(InRange(0.01, 1.0))
      ->capture_default_str();
  search
      ->add_option("--latency-rule", a->latency_rule,
                   "sonar: drop a network when another is surely faster (bounds) or expected to "
                   "be faster after full tuning (estimates), and at least as accurate as its "
                   "optimistic bound")
      ->check(CLI::IsMember({"bounds", "estimates"}))
      ->capture_default_str();
  search->add_option("--emit", a->emit,
                     "Live: write the front's networks as C++ into this new or empty directory "
                     "(each a class running its layers' tuned kernels with the ReLU/pool glue; "
                     "sonar emit, docs/emit.md)");
  search->add_flag("--no-network-timing", a->no_network_timing,
                   "Do not compile and time each front network as a whole at the end");
  search->add_flag("--json", a->json, "Print one JSON summary object on stdout");
  search->add_flag("--quiet", a->quiet, "No progress lines");
  search->footer(
      "Examples:\n"
      "  sonar search --space digits-cnn --budget-minutes 10 --records search.sonar --json\n"
      "  sonar search --method brute-force --space digits-cnn --architectures 300 --epochs 20 \\\n"
      "      --layer-trials 64 --records table.sonar              # the ground truth\n"
      "  sonar search --replay datasets/digits_cnn_search/*.sonar --seeds 20 \\\n"
      "      --compare sonar,sequential,random,hyperband,brute-force --json\n"
      "  sonar search --space my_space.json --records mine.sonar \\\n"
      "      --train-command /usr/bin/python3 examples/train_command/train_digits_sklearn.py");
  // A replay reads its tables: the flags of a live search would be ignored, so they are refused.
  for (const char* f : {"--train-command", "--data", "--records", "--min-repeat-ms", "--phase"}) {
    search->get_option("--replay")->excludes(f);
  }
  search->callback([=] { *exit_code = RunSearch(*a); });
}

}  // namespace sonar::cli
