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

#include "cli/commands.h"
#include "measure/measurer.h"
#include "measure/record_store.h"
#include "measure/training/trainer.h"
#include "space/architecture.h"
#include "tuner/search/brute_force.h"
#include "tuner/search/search_problem.h"

namespace sonar::cli {
namespace {

using Json = nlohmann::ordered_json;

struct SearchArgs {
  std::string space = "digits-cnn";
  std::string method = "brute-force";
  std::vector<std::string> train_command;
  std::string data;
  std::string records = "sonar_search.sonar";
  int64_t architectures = 0;
  uint64_t seed = 0;
  int epochs = 15;
  int layer_trials = 128;
  std::string layer_tuner = "autotvm";
  std::string phase = "all";
  double max_wall_seconds = 0;
  double min_repeat_ms = 0;
  bool json = false, quiet = false;
};

StatusOr<ArchitectureSpace> OpenSpace(const std::string& name) {
  for (const std::string& builtin : BuiltinArchitectureSpaceNames()) {
    if (name == builtin) return BuiltinArchitectureSpace(name);
  }
  if (!std::filesystem::exists(name)) {
    std::string names;
    for (const std::string& n : BuiltinArchitectureSpaceNames()) names += " " + n;
    return NotFoundError("--space " + name +
                         ": no such file and no built-in space of that name "
                         "(built in:" +
                         names + ")");
  }
  return LoadArchitectureSpace(name);
}

int RunSearch(const SearchArgs& a) {
  if (a.method != "brute-force") {
    std::fprintf(stderr, "sonar search: unknown --method '%s' (brute-force)\n", a.method.c_str());
    return kExitUsage;
  }
  if (a.phase != "all" && a.phase != "tune" && a.phase != "train") {
    std::fprintf(stderr, "sonar search: --phase must be all, tune or train\n");
    return kExitUsage;
  }
  TunerKind layer_tuner;
  if (!StringToTunerKind(a.layer_tuner, &layer_tuner) ||
      layer_tuner == TunerKind::kTransferBayesOpt || layer_tuner == TunerKind::kRgpe) {
    std::fprintf(stderr, "sonar search: --layer-tuner must be random, grid, ga, autotvm or bo\n");
    return kExitUsage;
  }
  if (!a.train_command.empty() && !a.data.empty()) {
    std::fprintf(stderr,
                 "sonar search: --data is for the built-in trainer; a --train-command "
                 "reads its own data\n");
    return kExitUsage;
  }
  StatusOr<ArchitectureSpace> space = OpenSpace(a.space);
  if (!space.ok()) {
    std::fprintf(stderr, "sonar search: %s\n", space.status().message().c_str());
    return space.status().code() == StatusCode::kInvalidArgument ||
                   space.status().code() == StatusCode::kNotFound
               ? kExitUsage
               : kExitFailure;
  }
  BruteForceOptions options;
  options.epochs = a.epochs;
  options.layer_trials = a.layer_trials;
  options.layer_tuner = layer_tuner;
  options.seed = a.seed;
  options.tune = a.phase != "train";
  options.train = a.phase != "tune";
  options.max_wall_seconds = a.max_wall_seconds;
  if (Status s = options.Validate(); !s.ok()) {
    std::fprintf(stderr, "sonar search: %s\n", s.message().c_str());
    return kExitUsage;
  }

  // The trainer.
  DigitsData data;
  BuiltinTrainerOptions builtin;
  builtin.seed = a.seed;
  ExternalTrainerOptions external;
  StartTrainingFn start;
  if (a.train_command.empty()) {
    if (options.train) {
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
    options.trainer_id = id;
    start = [&](const Architecture& arch) {
      return StartBuiltinTraining(*space, arch, data, builtin);
    };
  } else {
    external.argv = a.train_command;
    std::string id = "external:";
    for (const std::string& arg : a.train_command) id += (id.size() > 9 ? " " : "") + arg;
    options.trainer_id = id;
    start = [&](const Architecture& arch) {
      return StartExternalTraining(space->ToJson(arch), external);
    };
  }

  StatusOr<SearchProblem> problem =
      MakeSearchProblem(*space, SampleArchitectures(*space, a.architectures, a.seed), "");
  if (!problem.ok()) return Fail(problem.status());
  MeasureOptions mo;
  if (a.min_repeat_ms > 0) mo.min_repeat_ms = a.min_repeat_ms;
  StatusOr<std::unique_ptr<Measurer>> measurer = MakeLocalMeasurer(mo);
  if (!measurer.ok()) return Fail(measurer.status());
  options.hardware_id = (*measurer)->hardware_id();
  StatusOr<RecordStore> store = RecordStore::Open(a.records, {});
  if (!store.ok()) return Fail(store.status());
  const bool talk = !a.quiet && !a.json;
  if (talk) {
    std::fprintf(stderr,
                 "brute force over %zu of %lld architectures of %s (%zu distinct layers): "
                 "%d epochs each with %s, %d trials per layer with %s; records in %s\n",
                 problem->candidates.size(), static_cast<long long>(space->size()),
                 space->name().c_str(), problem->layers.size(), options.epochs,
                 options.trainer_id.c_str(), options.layer_trials, a.layer_tuner.c_str(),
                 a.records.c_str());
    options.progress = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  }
  StatusOr<BruteForceSummary> summary = RunBruteForce(options, *problem, start, **measurer, *store);
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
              {"trainer", options.trainer_id},
              {"records", a.records}};
    std::cout << j.dump() << std::endl;
  } else {
    std::printf("%s\n", summary->BriefReport().c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterSearchCommands(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<SearchArgs>();
  CLI::App* search = app.add_subcommand(
      "search",
      "Joint architecture and schedule search over an architecture space: train networks, tune "
      "their layers on this machine, keep everything as records (killed, it resumes).");
  search
      ->add_option("--space", a->space,
                   "Architecture space: a built-in name (digits-cnn) or a space file "
                   "(docs/search.md)")
      ->capture_default_str();
  search
      ->add_option("--method", a->method,
                   "brute-force: train every candidate for --epochs and tune every distinct "
                   "layer for --layer-trials (the ground truth of replay evaluations)")
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
      ->capture_default_str();
  search->add_option("--seed", a->seed, "Seed of the subset, the trainer and the tuners")
      ->capture_default_str();
  search->add_option("--epochs", a->epochs, "Full training budget, epochs")->capture_default_str();
  search->add_option("--layer-trials", a->layer_trials, "Full tuning budget per layer, trials")
      ->capture_default_str();
  search->add_option("--layer-tuner", a->layer_tuner, "Tuner of the layers")->capture_default_str();
  search->add_option("--phase", a->phase, "all | tune | train (brute-force: one phase only)")
      ->capture_default_str();
  search->add_option("--max-wall-seconds", a->max_wall_seconds,
                     "Stop after this much wall time (run again to resume; 0 = none)");
  search->add_option("--min-repeat-ms", a->min_repeat_ms, "Timing: shortest timed repeat, ms");
  search->add_flag("--json", a->json, "Print one JSON summary object on stdout");
  search->add_flag("--quiet", a->quiet, "No progress lines");
  search->footer(
      "Examples:\n"
      "  sonar search --method brute-force --space digits-cnn --architectures 300 --epochs 15 \\\n"
      "      --layer-trials 128 --records datasets/digits_cnn_search/table.sonar\n"
      "  sonar search --method brute-force --space my_space.json --architectures 20 \\\n"
      "      --records mine.sonar --train-command /usr/bin/python3 train.py");
  search->callback([=] { *exit_code = RunSearch(*a); });
}

}  // namespace sonar::cli
