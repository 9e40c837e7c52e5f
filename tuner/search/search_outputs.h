// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the files `sonar search --out DIR` writes: the data as CSV and, when
// gnuplot is installed, SVG plots of the accuracy/latency front and of where the search spent
// its time (live), or of each method's hypervolume over charged time (replay).
//
// Example:
//   SearchTrace trace;  // filled by JointSearchOptions::on_step
//   SONAR_ASSIGN_OR_RETURN(auto files, WriteSearchOutputs(problem, summary, trace, "out"));
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "tuner/search/joint_search.h"
#include "tuner/search/replay.h"

namespace sonar {

// Charged seconds after each step of a search: (training, measuring, networks on the front).
struct SearchTrace {
  std::vector<double> train_seconds, tune_seconds;
  std::vector<int> front_size;
  void Add(const SearchState& state, const SearchEnvironment& env) {
    train_seconds.push_back(env.train_seconds());
    tune_seconds.push_back(env.tune_seconds());
    front_size.push_back(static_cast<int>(state.Front().size()));
  }
};

// candidates.csv (every candidate: name, epochs, accuracy, latency, alive, failed, on_front),
// time.csv (the trace), and front.svg and time.svg. Returns the files written.
StatusOr<std::vector<std::string>> WriteSearchOutputs(const SearchProblem& problem,
                                                      const SearchSummary& summary,
                                                      const SearchTrace& trace,
                                                      const std::string& dir);

// summary.json, seconds_to_front.csv (method, seed, seconds, reached), hypervolume.csv
// (method, seed, seconds, ratio), and hypervolume.svg (per method, the median over seeds of
// the hypervolume ratio against charged seconds). Returns the files written.
StatusOr<std::vector<std::string>> WriteReplayOutputs(const ReplayResult& result,
                                                      const std::string& dir);

}  // namespace sonar
