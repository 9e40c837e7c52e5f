// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "surrogate/latency/latency_eval.h"

#include <Eigen/Dense>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

#include "common/enum_names.h"
#include "common/parallel.h"
#include "common/random.h"
#include "common/statistics.h"
#include "surrogate/latency/latency_mlp.h"

namespace sonar {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

LatencyMetrics ComputeLatencyMetrics(const Eigen::VectorXd& predicted_ms,
                                     const Eigen::VectorXd& true_ms) {
  SONAR_CHECK(predicted_ms.size() == true_ms.size() && true_ms.size() >= 2)
      << predicted_ms.size() << " predictions for " << true_ms.size() << " latencies";
  LatencyMetrics m;
  const Eigen::ArrayXd err = (predicted_ms.array() / true_ms.array() - 1).abs();
  const double n = static_cast<double>(true_ms.size());
  // A hair of slack so that exact 10% errors (integer-millisecond devices) count as within.
  m.within_1pct = (err <= 0.01 + 1e-12).cast<double>().sum() / n;
  m.within_5pct = (err <= 0.05 + 1e-12).cast<double>().sum() / n;
  m.within_10pct = (err <= 0.10 + 1e-12).cast<double>().sum() / n;
  m.spearman = SpearmanRho(predicted_ms, true_ms);
  m.kendall = KendallTauB(predicted_ms, true_ms);
  return m;
}

namespace {
constexpr EnumNames<LatencyEvalMethod, 10> kLatencyEvalMethodNames = {{
    {LatencyEvalMethod::kAuto, "auto"},
    {LatencyEvalMethod::kAutoSelect, "auto_select"},
    {LatencyEvalMethod::kAffineSource, "affine_source"},
    {LatencyEvalMethod::kSourceMix, "source_mix"},
    {LatencyEvalMethod::kMapHead, "map_head"},
    {LatencyEvalMethod::kMapleMix, "maple_mix"},
    {LatencyEvalMethod::kCalibrated, "calibrated_no_descriptor"},
    {LatencyEvalMethod::kSamplesOnly, "samples_only"},
    {LatencyEvalMethod::kNearestDevice, "nearest_device"},
    {LatencyEvalMethod::kBestAffineDevice, "best_affine_device"},
}};
}  // namespace

std::string_view LatencyEvalMethodToString(LatencyEvalMethod m) {
  return EnumToName(kLatencyEvalMethodNames, m);
}
bool StringToLatencyEvalMethod(std::string_view name, LatencyEvalMethod* m) {
  return NameToEnum(kLatencyEvalMethodNames, name, m);
}

std::vector<LatencyEvalMethod> AllLatencyEvalMethods() {
  return {LatencyEvalMethod::kAuto,
          LatencyEvalMethod::kMapHead,
          LatencyEvalMethod::kMapleMix,
          LatencyEvalMethod::kCalibrated,
          LatencyEvalMethod::kSamplesOnly,
          LatencyEvalMethod::kNearestDevice,
          LatencyEvalMethod::kBestAffineDevice,
          LatencyEvalMethod::kAutoSelect,
          LatencyEvalMethod::kAffineSource,
          LatencyEvalMethod::kSourceMix};
}

Status LatencyEvalOptions::Validate() const {
  auto bad = [](const std::string& m) { return InvalidArgumentError("LatencyEvalOptions." + m); };
  if (test_devices.empty()) return bad("test_devices must name at least one device");
  if (shots.empty()) return bad("shots must list at least one k");
  for (int k : shots) {
    if (k < 0) return bad("shots must be >= 0");
  }
  if (repeats < 1) return bad("repeats must be >= 1");
  if (methods.empty()) return bad("methods must not be empty");
  if (!(ceiling_train_fraction > 0 && ceiling_train_fraction < 1)) {
    return bad("ceiling_train_fraction must be in (0, 1)");
  }
  if (ceiling_epochs < 1) return bad("ceiling_epochs must be >= 1");
  if (threads < 1) return bad("threads must be >= 1");
  return predictor.Validate();
}

LatencyTrainingSet MakeLatencyTrainingSet(const LatencyTable& table,
                                          const std::vector<int>& source_columns,
                                          const std::vector<int64_t>& reference_arch_idx) {
  LatencyTrainingSet set;
  set.space = std::string(LatencySpaceToString(table.space));
  set.architectures = table.encodings;
  set.latency_ms.resize(table.num_archs(), static_cast<Eigen::Index>(source_columns.size()));
  for (size_t s = 0; s < source_columns.size(); ++s) {
    set.latency_ms.col(static_cast<Eigen::Index>(s)) = table.latency_ms.col(source_columns[s]);
    set.devices.push_back(table.Descriptor(source_columns[s], reference_arch_idx));
  }
  std::vector<int> rows;
  for (int64_t a : reference_arch_idx) {
    const int row = table.ArchRow(a);
    if (row < 0) continue;
    set.reference_names.push_back(ReferenceFeatureName(a));
    rows.push_back(row);
  }
  set.reference_architectures.resize(static_cast<Eigen::Index>(rows.size()),
                                     table.encodings.cols());
  for (size_t i = 0; i < rows.size(); ++i) {
    set.reference_architectures.row(static_cast<Eigen::Index>(i)) = table.encodings.row(rows[i]);
  }
  return set;
}

StatusOr<Eigen::VectorXd> PredictTargetLogMs(const LatencyTable& table,
                                             const std::vector<int64_t>& reference_arch_idx,
                                             const LatencyPredictor& trained,
                                             const std::vector<int>& source_columns, int target,
                                             const std::vector<int>& sample_rows,
                                             LatencyEvalMethod method) {
  SONAR_CHECK(target >= 0 && target < table.num_devices()) << "target column " << target;
  // Everything this function learns about the target device: k samples and the descriptor.
  const Eigen::Index k = static_cast<Eigen::Index>(sample_rows.size());
  Eigen::MatrixXd kx(k, table.encodings.cols());
  Eigen::VectorXd kms(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    kx.row(i) = table.encodings.row(sample_rows[i]);
    kms(i) = table.latency_ms(sample_rows[i], target);
  }
  const HardwareDescriptor descriptor = table.Descriptor(target, reference_arch_idx);
  const Eigen::Index n = table.num_archs();

  // Target observations in ln(ms) with the rows they came from: references, then samples.
  std::vector<int> obs_rows;
  std::vector<double> obs_y;
  for (size_t r = 0; r < reference_arch_idx.size(); ++r) {
    const int row = table.ArchRow(reference_arch_idx[r]);
    const double v = descriptor.features(static_cast<Eigen::Index>(r));
    if (row >= 0 && std::isfinite(v)) {
      obs_rows.push_back(row);
      obs_y.push_back(v);
    }
  }
  for (Eigen::Index i = 0; i < k; ++i) {
    obs_rows.push_back(sample_rows[i]);
    obs_y.push_back(std::log(kms(i)));
  }

  switch (method) {
    case LatencyEvalMethod::kAuto:
    case LatencyEvalMethod::kAutoSelect:
    case LatencyEvalMethod::kAffineSource:
    case LatencyEvalMethod::kSourceMix:
    case LatencyEvalMethod::kMapHead:
    case LatencyEvalMethod::kMapleMix:
    case LatencyEvalMethod::kCalibrated: {
      LatencyPredictor p = trained;
      HardwareDescriptor d = descriptor;
      LatencyAdaptation a = LatencyAdaptation::kMapHead;
      if (method == LatencyEvalMethod::kAuto) a = LatencyAdaptation::kAuto;
      if (method == LatencyEvalMethod::kAutoSelect) a = LatencyAdaptation::kAutoSelect;
      if (method == LatencyEvalMethod::kAffineSource) a = LatencyAdaptation::kAffineSource;
      if (method == LatencyEvalMethod::kSourceMix) a = LatencyAdaptation::kSourceMix;
      if (method == LatencyEvalMethod::kMapleMix) a = LatencyAdaptation::kMapleMix;
      if (method == LatencyEvalMethod::kCalibrated) {
        a = LatencyAdaptation::kCalibrate;
        d = HardwareDescriptor();  // descriptor-free
        d.device_name = descriptor.device_name;
      }
      SONAR_RETURN_IF_ERROR(p.Adapt(d, kx, kms, a));
      return p.PredictLogMs(table.encodings);
    }
    case LatencyEvalMethod::kSamplesOnly: {
      // Ridge on [1, x] from the k samples alone (intercept unpenalized).
      if (k == 0) return InvalidArgumentError("samples_only needs k >= 1");
      Eigen::VectorXd y(k);
      for (Eigen::Index i = 0; i < k; ++i) y(i) = std::log(kms(i));
      const double ybar = y.mean();
      const Eigen::RowVectorXd xbar = kx.colwise().mean();
      const Eigen::MatrixXd xc = kx.rowwise() - xbar;
      Eigen::MatrixXd a = xc.transpose() * xc;
      a.diagonal().array() += 1.0;
      const Eigen::VectorXd beta = a.ldlt().solve(xc.transpose() * (y.array() - ybar).matrix());
      return Eigen::VectorXd(((table.encodings.rowwise() - xbar) * beta).array() + ybar);
    }
    case LatencyEvalMethod::kNearestDevice: {
      // Nearest source by Euclidean distance of the descriptors (ln ms of the references), then
      // shifted by the mean log ratio on the references the target has.
      int best = -1;
      double best_dist = std::numeric_limits<double>::infinity(), best_shift = 0;
      for (int s : source_columns) {
        const HardwareDescriptor ds = table.Descriptor(s, reference_arch_idx);
        double dist = 0, shift = 0;
        int count = 0;
        for (Eigen::Index f = 0; f < descriptor.features.size(); ++f) {
          const double a = descriptor.features(f), b = ds.features(f);
          if (!std::isfinite(a) || !std::isfinite(b)) continue;
          dist += (a - b) * (a - b);
          shift += a - b;
          ++count;
        }
        if (count == 0) continue;
        if (dist < best_dist) {
          best_dist = dist;
          best = s;
          best_shift = shift / count;
        }
      }
      if (best < 0) return InvalidArgumentError("no source device shares a descriptor feature");
      Eigen::VectorXd out(n);
      for (Eigen::Index i = 0; i < n; ++i)
        out(i) = std::log(table.latency_ms(i, best)) + best_shift;
      return out;
    }
    case LatencyEvalMethod::kBestAffineDevice: {
      // ln t = a + b ln s fitted by least squares on the target observations; best SSE wins.
      const size_t m = obs_rows.size();
      if (m == 0) return InvalidArgumentError("best_affine_device needs target observations");
      int best = -1;
      double best_sse = std::numeric_limits<double>::infinity(), best_a = 0, best_b = 1;
      for (int s : source_columns) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        bool ok = true;
        for (size_t i = 0; i < m; ++i) {
          const double x = std::log(table.latency_ms(obs_rows[i], s));
          if (!std::isfinite(x)) ok = false;
          sx += x;
          sy += obs_y[i];
          sxx += x * x;
          sxy += x * obs_y[i];
        }
        if (!ok) continue;
        const double mx = sx / m, my = sy / m, vxx = sxx / m - mx * mx;
        const double b = (m >= 2 && vxx > 1e-12) ? (sxy / m - mx * my) / vxx : 1.0;
        const double a = my - b * mx;
        double sse = 0;
        for (size_t i = 0; i < m; ++i) {
          const double e = obs_y[i] - a - b * std::log(table.latency_ms(obs_rows[i], s));
          sse += e * e;
        }
        if (sse < best_sse) {
          best_sse = sse;
          best = s;
          best_a = a;
          best_b = b;
        }
      }
      if (best < 0) return InvalidArgumentError("no source device has latencies on the samples");
      Eigen::VectorXd out(n);
      for (Eigen::Index i = 0; i < n; ++i)
        out(i) = best_a + best_b * std::log(table.latency_ms(i, best));
      return out;
    }
  }
  return InternalError("unknown method");
}

namespace {

struct Accumulator {
  std::vector<LatencyMetrics> draws;
  void Add(const LatencyMetrics& m) { draws.push_back(m); }
  void Finish(LatencyMetrics* mean, LatencyMetrics* sd) const {
    auto stat = [&](double LatencyMetrics::*f, double* mu, double* s) {
      const size_t n = draws.size();
      double sum = 0;
      for (const auto& d : draws) sum += d.*f;
      *mu = sum / n;
      double ss = 0;
      for (const auto& d : draws) ss += (d.*f - *mu) * (d.*f - *mu);
      *s = n > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
    };
    stat(&LatencyMetrics::within_1pct, &mean->within_1pct, &sd->within_1pct);
    stat(&LatencyMetrics::within_5pct, &mean->within_5pct, &sd->within_5pct);
    stat(&LatencyMetrics::within_10pct, &mean->within_10pct, &sd->within_10pct);
    stat(&LatencyMetrics::spearman, &mean->spearman, &sd->spearman);
    stat(&LatencyMetrics::kendall, &mean->kendall, &sd->kendall);
  }
};

// Ceiling: the trunk-shaped network trained on a share of the device's own data.
LatencyMetrics FitCeiling(const LatencyTable& table, int column, const std::vector<int>& candidates,
                          const LatencyEvalOptions& o, uint64_t stream, int* test_count) {
  Rng rng = MakeRng(o.seed, stream);
  std::vector<int> perm = internal::Permutation(static_cast<int>(candidates.size()), rng);
  const int n_train = static_cast<int>(std::lround(o.ceiling_train_fraction * candidates.size()));
  Eigen::MatrixXf x(n_train, table.encodings.cols()), y(n_train, 1);
  double mu = 0;
  for (int i = 0; i < n_train; ++i) mu += std::log(table.latency_ms(candidates[perm[i]], column));
  mu /= std::max(1, n_train);
  double var = 0;
  for (int i = 0; i < n_train; ++i) {
    const double v = std::log(table.latency_ms(candidates[perm[i]], column)) - mu;
    var += v * v;
  }
  const double sd = std::sqrt(std::max(1e-12, var / std::max(1, n_train)));
  for (int i = 0; i < n_train; ++i) {
    x.row(i) = table.encodings.row(candidates[perm[i]]).cast<float>();
    y(i, 0) =
        static_cast<float>((std::log(table.latency_ms(candidates[perm[i]], column)) - mu) / sd);
  }
  std::vector<int> hidden = o.predictor.hidden;
  hidden.push_back(o.predictor.feature_size);
  internal::Mlp net(static_cast<int>(table.encodings.cols()), hidden, 1, rng);
  internal::MlpTrainOptions t;
  t.epochs = o.ceiling_epochs;
  t.batch_size = o.predictor.batch_size;
  t.learning_rate = o.predictor.learning_rate;
  t.weight_decay = o.predictor.weight_decay;
  internal::TrainMlp(net, x, y, Eigen::VectorXf(), t, rng);
  const int n_test = static_cast<int>(candidates.size()) - n_train;
  Eigen::MatrixXf xt(n_test, table.encodings.cols());
  Eigen::VectorXd truth(n_test);
  for (int i = 0; i < n_test; ++i) {
    xt.row(i) = table.encodings.row(candidates[perm[n_train + i]]).cast<float>();
    truth(i) = table.latency_ms(candidates[perm[n_train + i]], column);
  }
  const Eigen::VectorXd pred =
      (net.Forward(xt).col(0).cast<double>().array() * sd + mu).exp().matrix();
  *test_count = n_test;
  return ComputeLatencyMetrics(pred, truth);
}

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

}  // namespace

StatusOr<LatencyEvalSummary> EvaluateLatencyPredictor(
    const LatencyTable& table, const std::vector<int64_t>& reference_arch_idx,
    const LatencyEvalOptions& options) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  const auto start = std::chrono::steady_clock::now();
  const int num_dev = static_cast<int>(options.test_devices.size());
  std::vector<int> targets;
  for (const std::string& name : options.test_devices) {
    const int c = table.DeviceColumn(name);
    if (c < 0)
      return InvalidArgumentError("test device '" + name + "' is not a column of the data");
    targets.push_back(c);
  }
  std::vector<int> listed_sources;
  for (const std::string& name : options.source_devices) {
    const int c = table.DeviceColumn(name);
    if (c < 0)
      return InvalidArgumentError("source device '" + name + "' is not a column of the data");
    listed_sources.push_back(c);
  }
  std::set<int> ref_rows;
  for (int64_t a : reference_arch_idx) {
    if (table.ArchRow(a) >= 0) ref_rows.insert(table.ArchRow(a));
  }
  // Source set of each test device; distinct sets are trained once.
  std::vector<std::vector<int>> source_sets;
  std::vector<int> set_of_device(num_dev);
  for (int t = 0; t < num_dev; ++t) {
    std::vector<int> src;
    const std::vector<int>& pool = listed_sources;
    if (pool.empty()) {
      for (int c = 0; c < table.num_devices(); ++c) {
        if (c != targets[t]) src.push_back(c);
      }
    } else {
      for (int c : pool) {
        if (c != targets[t]) src.push_back(c);
      }
    }
    if (src.size() < 2) {
      return InvalidArgumentError("test device '" + options.test_devices[t] +
                                  "' has fewer than 2 source devices to learn from");
    }
    auto it = std::find(source_sets.begin(), source_sets.end(), src);
    set_of_device[t] = static_cast<int>(it - source_sets.begin());
    if (it == source_sets.end()) source_sets.push_back(src);
  }
  // Candidate rows of each target: a latency, not a reference architecture.
  std::vector<std::vector<int>> candidates(num_dev);
  int max_k = 0;
  for (int k : options.shots) max_k = std::max(max_k, k);
  for (int t = 0; t < num_dev; ++t) {
    for (int i = 0; i < table.num_archs(); ++i) {
      const double v = table.latency_ms(i, targets[t]);
      if (std::isfinite(v) && v > 0 && !ref_rows.count(i)) candidates[t].push_back(i);
    }
    if (static_cast<int>(candidates[t].size()) < max_k + 10) {
      return InvalidArgumentError("test device '" + options.test_devices[t] + "' has only " +
                                  std::to_string(candidates[t].size()) + " usable latencies");
    }
  }

  // Phase 1: train the predictors.
  std::vector<LatencyPredictor> trained(source_sets.size(), LatencyPredictor(options.predictor));
  std::vector<Status> train_status(source_sets.size());
  bool need_predictor = false;
  for (LatencyEvalMethod m : options.methods) {
    if (m != LatencyEvalMethod::kSamplesOnly && m != LatencyEvalMethod::kNearestDevice &&
        m != LatencyEvalMethod::kBestAffineDevice) {
      need_predictor = true;
    }
  }
  LatencyPredictorOptions popts = options.predictor;
  popts.train_maple = std::find(options.methods.begin(), options.methods.end(),
                                LatencyEvalMethod::kMapleMix) != options.methods.end();
  std::mutex log_mu;
  auto log = [&](const std::string& line) {
    if (!options.log) return;
    std::lock_guard<std::mutex> lock(log_mu);
    options.log(line);
  };
  if (need_predictor) {
    ParallelForEach(static_cast<int>(source_sets.size()), options.threads, [&](int s) {
      const auto t0 = std::chrono::steady_clock::now();
      trained[s] = LatencyPredictor(popts);
      train_status[s] =
          trained[s].Train(MakeLatencyTrainingSet(table, source_sets[s], reference_arch_idx));
      log("trained on " + std::to_string(source_sets[s].size()) + " source devices in " +
          Fmt("%.1f", Seconds(t0)) + " s");
    });
    for (const Status& s : train_status) SONAR_RETURN_IF_ERROR(s);
  }

  // Phase 2: per device, the ceiling and the draws.
  LatencyEvalSummary summary;
  summary.space = std::string(LatencySpaceToString(table.space));
  summary.devices.resize(num_dev);
  std::vector<std::vector<LatencyEvalRow>> rows(num_dev);
  std::vector<Status> dev_status(num_dev);
  ParallelForEach(num_dev, options.threads, [&](int t) {
    const auto t0 = std::chrono::steady_clock::now();
    const int target = targets[t];
    LatencyDeviceReport& rep = summary.devices[t];
    rep.device = options.test_devices[t];
    for (int c : source_sets[set_of_device[t]]) rep.sources.push_back(table.devices[c]);
    if (options.ceilings) {
      rep.ceiling =
          FitCeiling(table, target, candidates[t], options, 1000 + target, &rep.ceiling_test_archs);
    }
    const LatencyPredictor& model = trained[set_of_device[t]];
    for (int k : options.shots) {
      std::vector<Accumulator> acc(options.methods.size());
      int num_test = 0;
      for (int r = 0; r < options.repeats; ++r) {
        Rng rng =
            MakeRng(options.seed, (static_cast<uint64_t>(target) << 32) ^
                                      (static_cast<uint64_t>(k) << 16) ^ static_cast<uint64_t>(r));
        std::vector<int> pool = candidates[t];
        std::vector<int> sample;
        for (int i = 0; i < k; ++i) {
          const int64_t j = UniformInt(rng, i, static_cast<int64_t>(pool.size()) - 1);
          std::swap(pool[i], pool[j]);
          sample.push_back(pool[i]);
        }
        // Test rows: the candidates minus the samples, in table order.
        std::vector<int> test(pool.begin() + k, pool.end());
        std::sort(test.begin(), test.end());
        num_test = static_cast<int>(test.size());
        Eigen::VectorXd truth(num_test);
        for (int i = 0; i < num_test; ++i) truth(i) = table.latency_ms(test[i], target);
        for (size_t mi = 0; mi < options.methods.size(); ++mi) {
          const LatencyEvalMethod m = options.methods[mi];
          if (k == 0 && (m == LatencyEvalMethod::kSamplesOnly)) continue;
          StatusOr<Eigen::VectorXd> pred = PredictTargetLogMs(
              table, reference_arch_idx, model, source_sets[set_of_device[t]], target, sample, m);
          if (!pred.ok()) {
            dev_status[t] = pred.status();
            return;
          }
          Eigen::VectorXd p(num_test);
          for (int i = 0; i < num_test; ++i) p(i) = std::exp((*pred)(test[i]));
          acc[mi].Add(ComputeLatencyMetrics(p, truth));
        }
      }
      for (size_t mi = 0; mi < options.methods.size(); ++mi) {
        if (acc[mi].draws.empty()) continue;
        LatencyEvalRow row;
        row.device = rep.device;
        row.shots = k;
        row.method = options.methods[mi];
        row.num_test_archs = num_test;
        acc[mi].Finish(&row.mean, &row.sd);
        rows[t].push_back(row);
      }
    }
    rep.seconds = Seconds(t0);
    log(rep.device + ": done in " + Fmt("%.1f", rep.seconds) + " s");
  });
  for (const Status& s : dev_status) SONAR_RETURN_IF_ERROR(s);
  for (auto& r : rows) summary.rows.insert(summary.rows.end(), r.begin(), r.end());
  summary.seconds = Seconds(start);
  return summary;
}

const LatencyEvalRow* LatencyEvalSummary::Find(const std::string& device, int shots,
                                               LatencyEvalMethod m) const {
  for (const LatencyEvalRow& r : rows) {
    if (r.device == device && r.shots == shots && r.method == m) return &r;
  }
  return nullptr;
}

const LatencyDeviceReport* LatencyEvalSummary::Device(const std::string& device) const {
  for (const LatencyDeviceReport& d : devices) {
    if (d.device == device) return &d;
  }
  return nullptr;
}

std::string LatencyEvalSummary::BriefReport() const {
  std::map<int, std::pair<double, int>> by_k;
  const LatencyEvalMethod first = rows.empty() ? LatencyEvalMethod::kAuto : rows.front().method;
  for (const LatencyEvalRow& r : rows) {
    if (r.method != first) continue;
    by_k[r.shots].first += r.mean.within_10pct;
    by_k[r.shots].second += 1;
  }
  std::string s = space + ": ";
  s += std::to_string(devices.size()) + " test devices; " +
       std::string(LatencyEvalMethodToString(first)) + " mean +-10% accuracy:";
  for (const auto& [k, v] : by_k)
    s += " k=" + std::to_string(k) + " " + Fmt("%.3f", v.first / v.second);
  s += " (" + Fmt("%.1f", seconds) + " s)";
  return s;
}

bool LatencyEvalSummary::HasCeilings() const {
  for (const LatencyDeviceReport& d : devices) {
    if (d.ceiling_test_archs > 0) return true;
  }
  return false;
}

std::string LatencyEvalSummary::FullReport() const {
  std::ostringstream o;
  o << "| device | k | method | within 1% | within 5% | within 10% | Spearman | Kendall |\n"
    << "|---|---|---|---|---|---|---|---|\n";
  auto cell = [](double m, double sd) { return Fmt("%.3f", m) + " ± " + Fmt("%.3f", sd); };
  for (const LatencyEvalRow& r : rows) {
    o << "| " << r.device << " | " << r.shots << " | " << LatencyEvalMethodToString(r.method)
      << " | " << cell(r.mean.within_1pct, r.sd.within_1pct) << " | "
      << cell(r.mean.within_5pct, r.sd.within_5pct) << " | "
      << cell(r.mean.within_10pct, r.sd.within_10pct) << " | "
      << cell(r.mean.spearman, r.sd.spearman) << " | " << cell(r.mean.kendall, r.sd.kendall)
      << " |\n";
  }
  if (!HasCeilings()) return o.str();  // eval --no-ceilings: none were fitted
  o << "\nCeilings (model trained on "
    << "most of the device's own data, tested on the rest):\n\n"
    << "| device | within 1% | within 5% | within 10% | Spearman | Kendall | test archs |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const LatencyDeviceReport& d : devices) {
    o << "| " << d.device << " | " << Fmt("%.3f", d.ceiling.within_1pct) << " | "
      << Fmt("%.3f", d.ceiling.within_5pct) << " | " << Fmt("%.3f", d.ceiling.within_10pct) << " | "
      << Fmt("%.3f", d.ceiling.spearman) << " | " << Fmt("%.3f", d.ceiling.kendall) << " | "
      << d.ceiling_test_archs << " |\n";
  }
  return o.str();
}

std::string LatencyEvalSummary::CompactReport() const {
  std::vector<LatencyEvalMethod> methods;
  std::vector<int> shots;
  for (const LatencyEvalRow& r : rows) {
    if (std::find(methods.begin(), methods.end(), r.method) == methods.end())
      methods.push_back(r.method);
    if (std::find(shots.begin(), shots.end(), r.shots) == shots.end()) shots.push_back(r.shots);
  }
  std::ostringstream o;
  o << "| device | k |";
  for (LatencyEvalMethod m : methods) o << " " << LatencyEvalMethodToString(m) << " |";
  const bool ceilings = HasCeilings();
  o << (ceilings ? " ceiling |" : "") << "\n|---|---|";
  for (size_t i = 0; i < methods.size() + (ceilings ? 1 : 0); ++i) o << "---|";
  o << "\n";
  for (const LatencyDeviceReport& d : devices) {
    for (int k : shots) {
      o << "| " << d.device << " | " << k << " |";
      for (LatencyEvalMethod m : methods) {
        const LatencyEvalRow* r = Find(d.device, k, m);
        if (!r) {
          o << " - |";
        } else {
          o << " " << Fmt("%.3f", r->mean.within_10pct) << " / " << Fmt("%.3f", r->mean.spearman)
            << " |";
        }
      }
      if (ceilings) {
        o << " " << Fmt("%.3f", d.ceiling.within_10pct) << " / " << Fmt("%.3f", d.ceiling.spearman)
          << " |";
      }
      o << "\n";
    }
  }
  return o.str();
}

}  // namespace sonar
