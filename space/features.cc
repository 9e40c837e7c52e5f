// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/features.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"

namespace sonar {
namespace {

bool AllValuesAtLeastOne(const Knob& knob) {
  return std::all_of(knob.candidates.begin(), knob.candidates.end(),
                     [](const auto& c) { return c[0] >= 1; });
}

// How one knob is encoded; decided once per knob so every row agrees.
struct KnobEncoding {
  enum class Mode { kFactors, kOneHot, kIndex, kValue, kPositions, kBool };
  Mode mode = Mode::kValue;
  bool log2 = false;
  int width = 1;
};

KnobEncoding EncodingOf(const Knob& knob, const FeatureOptions& options) {
  KnobEncoding e;
  switch (knob.kind) {
    case KnobKind::kSplit:
      e.mode = KnobEncoding::Mode::kFactors;
      e.log2 = options.log2_split;
      e.width = static_cast<int>(knob.candidates[0].size());
      break;
    case KnobKind::kReorder:
      e.mode = KnobEncoding::Mode::kPositions;
      e.width = static_cast<int>(knob.candidates[0].size());
      break;
    case KnobKind::kChoice:
      if (!knob.labels.empty()) {
        e.mode = options.one_hot_choice ? KnobEncoding::Mode::kOneHot : KnobEncoding::Mode::kIndex;
        e.width = options.one_hot_choice ? static_cast<int>(knob.size()) : 1;
      } else {
        e.mode = KnobEncoding::Mode::kValue;
        e.log2 = AllValuesAtLeastOne(knob);
      }
      break;
    case KnobKind::kInt:
      e.mode = KnobEncoding::Mode::kValue;
      e.log2 = (options.log_int || knob.log_scale) && AllValuesAtLeastOne(knob);
      break;
    case KnobKind::kBool: e.mode = KnobEncoding::Mode::kBool; break;
  }
  return e;
}

double MaybeLog2(int64_t v, bool log2) {
  return log2 ? std::log2(static_cast<double>(v)) : static_cast<double>(v);
}

}  // namespace

Status FeatureOptions::Validate() const { return OkStatus(); }

Eigen::MatrixXd EncodeFeatures(const ConfigSpace& space, const std::vector<Config>& configs,
                               const FeatureOptions& options) {
  std::vector<KnobEncoding> encodings;
  int d = 0;
  for (const Knob& knob : space.knobs()) {
    encodings.push_back(EncodingOf(knob, options));
    d += encodings.back().width;
  }
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(configs.size()), d);
  for (size_t row = 0; row < configs.size(); ++row) {
    const Config& config = configs[row];
    SONAR_CHECK(config.choice.size() == static_cast<size_t>(space.num_knobs()))
        << "row " << row << " config " << ConfigIndicesToString(config) << " has "
        << config.choice.size() << " indices for " << space.num_knobs() << " knobs";
    int col = 0;
    for (int k = 0; k < space.num_knobs(); ++k) {
      const Knob& knob = space.knob(k);
      const KnobEncoding& e = encodings[k];
      const int32_t c = config.choice[k];
      SONAR_CHECK(c >= 0 && c < knob.size())
          << "row " << row << ": index " << c << " is outside knob '" << knob.name << "'";
      const std::vector<int64_t>& value = knob.candidates[c];
      const Eigen::Index r = static_cast<Eigen::Index>(row);
      switch (e.mode) {
        case KnobEncoding::Mode::kFactors:
          for (int i = 0; i < e.width; ++i) x(r, col + i) = MaybeLog2(value[i], e.log2);
          break;
        case KnobEncoding::Mode::kOneHot: x(r, col + c) = 1.0; break;
        case KnobEncoding::Mode::kIndex: x(r, col) = static_cast<double>(c); break;
        case KnobEncoding::Mode::kValue: x(r, col) = MaybeLog2(value[0], e.log2); break;
        case KnobEncoding::Mode::kPositions:
          for (int p = 0; p < e.width; ++p) x(r, col + value[p]) = static_cast<double>(p);
          break;
        case KnobEncoding::Mode::kBool: x(r, col) = static_cast<double>(value[0]); break;
      }
      col += e.width;
    }
  }
  return x;
}

std::vector<std::string> FeatureNames(const ConfigSpace& space, const FeatureOptions& options) {
  std::vector<std::string> names;
  for (const Knob& knob : space.knobs()) {
    const KnobEncoding e = EncodingOf(knob, options);
    switch (e.mode) {
      case KnobEncoding::Mode::kFactors:
        for (int i = 0; i < e.width; ++i) {
          names.push_back(knob.name + ".f" + std::to_string(i) + (e.log2 ? ".log2" : ""));
        }
        break;
      case KnobEncoding::Mode::kOneHot:
        for (const std::string& label : knob.labels) names.push_back(knob.name + "=" + label);
        break;
      case KnobEncoding::Mode::kIndex: names.push_back(knob.name + ".index"); break;
      case KnobEncoding::Mode::kValue: names.push_back(knob.name + (e.log2 ? ".log2" : "")); break;
      case KnobEncoding::Mode::kPositions:
        for (int a = 0; a < e.width; ++a) names.push_back(knob.name + ".pos" + std::to_string(a));
        break;
      case KnobEncoding::Mode::kBool: names.push_back(knob.name); break;
    }
  }
  return names;
}

Eigen::MatrixXd EncodeTaskFeatures(const Task& task, const std::vector<Config>& configs,
                                   const FeatureOptions& options) {
  Eigen::MatrixXd base = EncodeFeatures(task.space, configs, options);
  if (!options.task_features || task.shape.empty()) return base;
  const Eigen::Index extra = static_cast<Eigen::Index>(task.shape.size());
  Eigen::MatrixXd x(base.rows(), base.cols() + extra);
  x.leftCols(base.cols()) = base;
  for (Eigen::Index j = 0; j < extra; ++j) {
    const int64_t dim = std::max<int64_t>(1, task.shape[j]);
    x.col(base.cols() + j).setConstant(std::log2(static_cast<double>(dim)));
  }
  return x;
}

std::vector<std::string> TaskFeatureNames(const Task& task, const FeatureOptions& options) {
  std::vector<std::string> names = FeatureNames(task.space, options);
  if (options.task_features) {
    for (size_t j = 0; j < task.shape.size(); ++j) {
      names.push_back("task.dim" + std::to_string(j));
    }
  }
  return names;
}

}  // namespace sonar
