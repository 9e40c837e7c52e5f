// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Transfer encoder, source selection and TransferPrior (see transfer.h).
#include "tuner/transfer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

#include "common/check.h"
#include "common/statistics.h"
#include "tuner/tuner.h"

namespace sonar {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

enum ColumnKind { kLog2 = 0, kRaw = 1, kOneHot = 2, kPosition = 3 };

// The integers of a JSON text, in order (numbers with a fraction or exponent and anything
// inside strings are skipped).
std::vector<int64_t> IntegersOf(const std::string& text) {
  std::vector<int64_t> out;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    const bool starts = (c >= '0' && c <= '9') || (c == '-' && i + 1 < text.size() &&
                                                   text[i + 1] >= '0' && text[i + 1] <= '9');
    if (!starts) continue;
    size_t j = i + 1;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    const bool fractional = j < text.size() && (text[j] == '.' || text[j] == 'e' || text[j] == 'E');
    if (!fractional && j - i < 19) out.push_back(std::stoll(text.substr(i, j - i)));
    while (j < text.size() &&
           ((text[j] >= '0' && text[j] <= '9') || text[j] == '.' || text[j] == 'e' ||
            text[j] == 'E' || text[j] == '+' || text[j] == '-')) {
      ++j;
    }
    i = j - 1;
  }
  return out;
}

double Log2Feature(int64_t v) {
  return std::log2(static_cast<double>(std::max<int64_t>(1, std::abs(v))));
}

}  // namespace

Status TransferOptions::Validate() const {
  if (max_sources < 1) return InvalidArgumentError("TransferOptions::max_sources must be >= 1");
  if (min_source_records < 2) {
    return InvalidArgumentError("TransferOptions::min_source_records must be >= 2");
  }
  if (num_initial < 0) return InvalidArgumentError("TransferOptions::num_initial must be >= 0");
  if (readapt_all_below < 0 || !(readapt_growth >= 0)) {
    return InvalidArgumentError(
        "TransferOptions: readapt_all_below and readapt_growth must be >= 0");
  }
  if (feasibility_source_samples < 0) {
    return InvalidArgumentError("TransferOptions::feasibility_source_samples must be >= 0");
  }
  if (rgpe_source_samples < 2 || rgpe_loss_samples < 1) {
    return InvalidArgumentError(
        "TransferOptions: rgpe_source_samples >= 2, rgpe_loss_samples >= 1");
  }
  return dkgp.Validate();
}

StatusOr<TransferEncoder> TransferEncoder::Make(const Task& target, uint64_t seed) {
  TransferEncoder e;
  e.knobs_ = target.space.knobs();
  for (int k = 0; k < static_cast<int>(e.knobs_.size()); ++k) {
    const Knob& knob = e.knobs_[static_cast<size_t>(k)];
    if (knob.candidates.empty()) continue;
    switch (knob.kind) {
      case KnobKind::kSplit:
        for (int p = 1; p < static_cast<int>(knob.candidates[0].size()); ++p) {
          e.columns_.push_back({k, p, kLog2});
          e.names_.push_back(knob.name + ".f" + std::to_string(p) + ".log2");
        }
        break;
      case KnobKind::kReorder:
        for (int a = 0; a < static_cast<int>(knob.candidates[0].size()); ++a) {
          e.columns_.push_back({k, a, kPosition});
          e.names_.push_back(knob.name + ".pos" + std::to_string(a));
        }
        break;
      default:
        if (knob.kind == KnobKind::kChoice && !knob.labels.empty()) {
          for (int l = 0; l < static_cast<int>(knob.labels.size()); ++l) {
            e.columns_.push_back({k, l, kOneHot});
            e.names_.push_back(knob.name + "=" + knob.labels[static_cast<size_t>(l)]);
          }
        } else {
          bool positive = knob.kind != KnobKind::kBool;
          for (const auto& c : knob.candidates) positive = positive && !c.empty() && c[0] >= 1;
          e.columns_.push_back({k, 0, positive ? kLog2 : kRaw});
          e.names_.push_back(knob.name + (positive ? ".log2" : ""));
        }
    }
  }
  // Imputation values: column means over a sample of the target's configs.
  const int nc = static_cast<int>(e.columns_.size());
  e.impute_ = Eigen::RowVectorXd::Zero(nc);
  Rng rng = MakeRng(seed, 0x696d);
  std::vector<Config> sample;
  if (target.space.is_listed()) {
    const auto& m = target.space.members();
    for (size_t i = 0; i < m.size() && sample.size() < 256;
         i += std::max<size_t>(1, m.size() / 256)) {
      sample.push_back(m[i]);
    }
  } else {
    for (int i = 0; i < 256; ++i) {
      StatusOr<Config> c = target.space.Sample(rng);
      if (c.ok()) sample.push_back(*c);
    }
  }
  if (sample.empty())
    return InvalidArgumentError("the target's space has no valid config to sample");
  const std::vector<double> nan(static_cast<size_t>(nc), std::numeric_limits<double>::quiet_NaN());
  std::vector<double> row(static_cast<size_t>(nc));
  int rows = 0;
  for (const Config& c : sample) {
    int matched = 0;
    row = nan;
    if (!e.EncodeValues(target.space.ToValues(c), row.data(), &matched)) continue;
    for (int j = 0; j < nc; ++j) {
      if (std::isfinite(row[static_cast<size_t>(j)])) e.impute_(j) += row[static_cast<size_t>(j)];
    }
    ++rows;
  }
  if (rows > 0) e.impute_ /= rows;
  const std::vector<int64_t> ints = IntegersOf(target.ArgsJson());
  e.target_task_.resize(static_cast<Index>(ints.size()));
  for (size_t i = 0; i < ints.size(); ++i)
    e.target_task_(static_cast<Index>(i)) = Log2Feature(ints[i]);
  for (size_t i = 0; i < ints.size(); ++i) e.names_.push_back("task.arg" + std::to_string(i));
  return e;
}

bool TransferEncoder::EncodeValues(const std::vector<KnobValue>& values, double* out,
                                   int* matched) const {
  *matched = 0;
  int last_knob = -1;
  const KnobValue* v = nullptr;
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& col = columns_[c];
    const Knob& knob = knobs_[static_cast<size_t>(col.knob)];
    if (col.knob != last_knob) {
      last_knob = col.knob;
      v = nullptr;
      for (const KnobValue& kv : values) {
        if (kv.name == knob.name) v = &kv;
      }
      if (v != nullptr) ++*matched;
    }
    double value = std::numeric_limits<double>::quiet_NaN();
    if (v != nullptr) {
      switch (col.kind) {
        case kLog2:
        case kRaw: {
          const bool split = knob.kind == KnobKind::kSplit;
          if (split && v->kind == KnobKind::kSplit && v->ints.size() == knob.candidates[0].size()) {
            value = Log2Feature(v->ints[static_cast<size_t>(col.part)]);
          } else if (!split && v->ints.size() == 1 && v->kind != KnobKind::kSplit &&
                     v->kind != KnobKind::kReorder) {
            const int64_t x = v->ints[0];
            if (col.kind == kRaw)
              value = static_cast<double>(x);
            else if (x >= 1)
              value = std::log2(static_cast<double>(x));
          }
          break;
        }
        case kOneHot:
          if (!v->strings.empty())
            value = v->strings[0] == knob.labels[static_cast<size_t>(col.part)];
          break;
        case kPosition:
          if (v->kind == KnobKind::kReorder && v->ints.size() == knob.candidates[0].size()) {
            for (size_t i = 0; i < v->ints.size(); ++i) {
              if (v->ints[i] == col.part) value = static_cast<double>(i);
            }
          }
          break;
      }
    }
    out[c] = value;
  }
  return *matched > 0;
}

Eigen::RowVectorXd TransferEncoder::TaskFeatures(const std::string& args_json) const {
  const std::vector<int64_t> ints = IntegersOf(args_json);
  Eigen::RowVectorXd f = target_task_;
  for (Index i = 0; i < f.size() && i < static_cast<Index>(ints.size()); ++i) {
    f(i) = Log2Feature(ints[static_cast<size_t>(i)]);
  }
  return f;
}

MatrixXd TransferEncoder::EncodeConfigs(const std::vector<Config>& configs) const {
  const Index nc = static_cast<Index>(columns_.size());
  MatrixXd x(static_cast<Index>(configs.size()), dim());
  std::vector<double> row(static_cast<size_t>(nc));
  // Encoding goes through knob values so configs and records share one code path.
  for (size_t i = 0; i < configs.size(); ++i) {
    std::vector<KnobValue> values;
    values.reserve(knobs_.size());
    for (size_t k = 0; k < knobs_.size(); ++k) {
      const Knob& knob = knobs_[k];
      KnobValue v;
      v.name = knob.name;
      v.kind = knob.kind;
      const int32_t at = configs[i].choice[k];
      SONAR_CHECK(at >= 0 && at < knob.size()) << "config does not fit the target's space";
      if (knob.kind == KnobKind::kChoice && !knob.labels.empty()) {
        v.strings = {knob.labels[static_cast<size_t>(at)]};
      } else {
        v.ints = knob.candidates[static_cast<size_t>(at)];
      }
      values.push_back(std::move(v));
    }
    int matched = 0;
    EncodeValues(values, row.data(), &matched);
    for (Index j = 0; j < nc; ++j) {
      const double r = row[static_cast<size_t>(j)];
      x(static_cast<Index>(i), j) = std::isfinite(r) ? r : impute_(j);
    }
    x.row(static_cast<Index>(i)).tail(target_task_.size()) = target_task_;
  }
  return x;
}

bool TransferEncoder::EncodeRecord(const Record& record, Eigen::RowVectorXd* row) const {
  const Index nc = static_cast<Index>(columns_.size());
  std::vector<double> values(static_cast<size_t>(nc));
  int matched = 0;
  if (!EncodeValues(record.config.values, values.data(), &matched)) return false;
  row->resize(dim());
  for (Index j = 0; j < nc; ++j) {
    const double r = values[static_cast<size_t>(j)];
    (*row)(j) = std::isfinite(r) ? r : impute_(j);
  }
  row->tail(target_task_.size()) = TaskFeatures(record.task.args_json);
  return true;
}

std::vector<TransferSource> SelectSources(const TransferEncoder& encoder,
                                          const std::vector<Record>& records, uint64_t target_key,
                                          const TransferOptions& options) {
  struct Group {
    TransferSource source;
    std::vector<Eigen::RowVectorXd> rows;
    std::vector<double> y;
  };
  std::map<uint64_t, size_t> index;  // workload -> position in groups (first-seen order)
  std::vector<Group> groups;
  Eigen::RowVectorXd row;
  for (const Record& r : records) {
    if (r.workload_key == target_key) continue;
    const double cost = RecordCost(r);
    if (!(std::isfinite(cost) && cost > 0)) continue;
    if (!encoder.EncodeRecord(r, &row)) continue;
    auto [it, inserted] = index.emplace(r.workload_key, groups.size());
    if (inserted) {
      Group g;
      g.source.workload_key = r.workload_key;
      g.source.name = r.task.name + " @ " + r.task.target;
      const Eigen::RowVectorXd tf = encoder.TaskFeatures(r.task.args_json);
      g.source.distance = (tf - encoder.target_task_features()).norm();
      groups.push_back(std::move(g));
    }
    Group& g = groups[it->second];
    g.rows.push_back(row);
    g.y.push_back(std::log(cost));
  }
  std::vector<TransferSource> out;
  for (Group& g : groups) {
    if (static_cast<int>(g.y.size()) < options.min_source_records) continue;
    g.source.x.resize(static_cast<Index>(g.rows.size()), encoder.dim());
    for (size_t i = 0; i < g.rows.size(); ++i) g.source.x.row(static_cast<Index>(i)) = g.rows[i];
    g.source.y = Eigen::Map<const VectorXd>(g.y.data(), static_cast<Index>(g.y.size()));
    out.push_back(std::move(g.source));
  }
  std::stable_sort(out.begin(), out.end(), [](const TransferSource& a, const TransferSource& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.y.size() > b.y.size();
  });
  if (static_cast<int>(out.size()) > options.max_sources)
    out.resize(static_cast<size_t>(options.max_sources));
  return out;
}

StatusOr<std::unique_ptr<TransferPrior>> BuildTransferPrior(const Task& target,
                                                            const std::vector<Record>& records,
                                                            TunerKind kind,
                                                            const TransferOptions& options,
                                                            uint64_t seed) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  if (kind != TunerKind::kTransferBayesOpt && kind != TunerKind::kRgpe) {
    return InvalidArgumentError(
        "BuildTransferPrior: only transfer-bo and rgpe use a transfer prior");
  }
  const auto start = std::chrono::steady_clock::now();
  SONAR_ASSIGN_OR_RETURN(TransferEncoder encoder, TransferEncoder::Make(target, seed));
  std::vector<TransferSource> sources =
      SelectSources(encoder, records, target.WorkloadKey(), options);
  if (sources.empty()) {
    return FailedPreconditionError("no usable transfer source: no other workload has " +
                                   std::to_string(options.min_source_records) +
                                   " or more ok records sharing a knob name with the target");
  }
  auto prior = std::make_unique<TransferPrior>(TransferPrior{
      kind, std::move(encoder), std::move(sources), {}, {}, DeepKernelGp(options.dkgp), {}, 0.0});
  {  // Feasibility sample: records of the selected sources, ok and failed, at most N of each.
    std::unordered_map<uint64_t, int> selected;
    for (const TransferSource& s : prior->sources) selected[s.workload_key] = 1;
    std::vector<const Record*> ok, failed;
    for (const Record& r : records) {
      if (!selected.count(r.workload_key)) continue;
      const double cost = RecordCost(r);
      (std::isfinite(cost) && cost > 0 ? ok : failed).push_back(&r);
    }
    Rng rng = MakeRng(seed, 0x6665);
    std::vector<Eigen::RowVectorXd> rows;
    std::vector<double> labels;
    Eigen::RowVectorXd row;
    for (int label = 0; label < 2; ++label) {
      const std::vector<const Record*>& from = label ? ok : failed;
      for (Index i :
           RandomSubset(static_cast<Index>(from.size()), options.feasibility_source_samples, rng)) {
        if (!prior->encoder.EncodeRecord(*from[static_cast<size_t>(i)], &row)) continue;
        rows.push_back(row);
        labels.push_back(label);
      }
    }
    prior->feasibility_x.resize(static_cast<Index>(rows.size()), prior->encoder.dim());
    for (size_t i = 0; i < rows.size(); ++i)
      prior->feasibility_x.row(static_cast<Index>(i)) = rows[i];
    prior->feasibility_y =
        Eigen::Map<const VectorXd>(labels.data(), static_cast<Index>(labels.size()));
  }
  if (kind == TunerKind::kTransferBayesOpt) {
    DkgpOptions o = options.dkgp;
    o.seed = MixSeed(seed ^ 0x646b6770);
    // The encoder's trailing columns are the task's: sources' residuals are read at their own.
    o.task_columns = static_cast<int>(prior->encoder.target_task_features().size());
    prior->dkgp = DeepKernelGp(o);
    std::vector<DkgpTask> tasks;
    for (const TransferSource& s : prior->sources) tasks.push_back({s.x, s.y});
    SONAR_RETURN_IF_ERROR(prior->dkgp.Pretrain(tasks));
  } else {
    Rng rng = MakeRng(seed, 0x7267);
    for (const TransferSource& s : prior->sources) {
      GpOptions g = BoDefaultGpOptions();
      g.seed = MixSeed(seed ^ s.workload_key);
      GaussianProcess gp(g);
      const std::vector<Index> rows = RandomSubset(s.y.size(), options.rgpe_source_samples, rng);
      double mean, scale;
      const VectorXd ys = Standardize(s.y, &mean, &scale);
      SONAR_RETURN_IF_ERROR(gp.Fit(s.x(rows, Eigen::all), ys(rows)));
      prior->source_gps.push_back(std::move(gp));
    }
  }
  prior->build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return prior;
}

}  // namespace sonar
