// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/joint_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "common/enum_names.h"
#include "common/random.h"
#include "surrogate/latency/layer_latency_model.h"

namespace sonar {
namespace {

constexpr EnumNames<SearchMethod, 5> kSearchMethodNames = {{
    {SearchMethod::kSonar, "sonar"},
    {SearchMethod::kBruteForce, "brute-force"},
    {SearchMethod::kSequential, "sequential"},
    {SearchMethod::kRandom, "random"},
    {SearchMethod::kHyperband, "hyperband"},
}};

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

std::string_view SearchMethodToString(SearchMethod method) {
  return EnumToName(kSearchMethodNames, method);
}
bool StringToSearchMethod(std::string_view name, SearchMethod* method) {
  return NameToEnum(kSearchMethodNames, name, method);
}

SearchState::SearchState(const SearchProblem& p)
    : problem(&p), candidates(p.candidates.size()), layers(p.layers.size()) {}

double SearchState::Accuracy(int c) const {
  const Candidate& cand = candidates[c];
  if (cand.failed || cand.accuracy.empty()) return std::numeric_limits<double>::quiet_NaN();
  return *std::max_element(cand.accuracy.begin(), cand.accuracy.end());
}

double SearchState::Latency(int c) const {
  double sum = 0;
  for (int l : problem->layers_of[c]) {
    const Layer& layer = layers[l];
    double best = layer.best_so_far.empty() ? kInf : layer.best_so_far.back();
    if (!std::isfinite(best) && std::isfinite(layer.untuned)) best = layer.untuned;
    if (!std::isfinite(best)) return kInf;
    sum += best;
  }
  return sum;
}

std::vector<int> SearchState::Front() const {
  std::vector<int> known;
  std::vector<double> acc(candidates.size()), lat(candidates.size());
  for (size_t c = 0; c < candidates.size(); ++c) {
    if (!candidates[c].alive) continue;
    acc[c] = Accuracy(static_cast<int>(c));
    if (std::isnan(acc[c])) continue;
    lat[c] = Latency(static_cast<int>(c));
    if (!std::isfinite(lat[c])) continue;
    known.push_back(static_cast<int>(c));
  }
  // Ascending latency, then descending accuracy: a candidate is on the front when it is more
  // accurate than everything faster.
  std::sort(known.begin(), known.end(), [&](int a, int b) {
    return lat[a] != lat[b] ? lat[a] < lat[b] : acc[a] != acc[b] ? acc[a] > acc[b] : a < b;
  });
  std::vector<int> front;
  double best_acc = -kInf;
  for (int c : known) {
    if (acc[c] > best_acc) {
      front.push_back(c);
      best_acc = acc[c];
    }
  }
  return front;
}

Status JointSearchOptions::Validate() const {
  if (full_epochs < 1 || full_trials < 1) {
    return InvalidArgumentError("the full epoch and trial budgets must be >= 1");
  }
  if (eta < 2) return InvalidArgumentError("eta must be >= 2");
  if (batch_size < 1) return InvalidArgumentError("the batch size must be >= 1");
  if (pilot_candidates < 0) return InvalidArgumentError("pilot_candidates must be >= 0");
  if (model_layers < 3) return InvalidArgumentError("model_layers must be >= 3");
  if (!(latency_z >= 0)) return InvalidArgumentError("latency_z must be >= 0");
  if (!(accuracy_tolerance >= 0) || !(latency_tolerance >= 0)) {
    return InvalidArgumentError("the tolerances must be >= 0");
  }
  if (!(layer_gain_threshold >= 0 && layer_gain_threshold < 1)) {
    return InvalidArgumentError("layer_gain_threshold must be in [0, 1)");
  }
  if (!(budget_seconds >= 0)) return InvalidArgumentError("the budget must be >= 0 seconds");
  if (!(bounds.quantile > 0 && bounds.quantile <= 1) || bounds.min_peers < 1) {
    return InvalidArgumentError("bounds: quantile must be in (0, 1] and min_peers >= 1");
  }
  return OkStatus();
}

std::string SearchSummary::BriefReport() const {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%zu networks on the front after %d rounds; charged %.0f s (%.0f s training, "
                "%d epochs; %.0f s measuring, %lld trials)%s",
                front.size(), rounds, train_seconds + tune_seconds, train_seconds, epochs_trained,
                tune_seconds, static_cast<long long>(trials_measured),
                stopped_early ? "; stopped early" : "");
  return buf;
}

namespace {

class Runner {
 public:
  Runner(const JointSearchOptions& o, const SearchProblem& p, SearchEnvironment& env)
      : o_(o), p_(p), env_(env), st_(p) {}

  StatusOr<SearchSummary> Run() {
    switch (o_.method) {
      case SearchMethod::kBruteForce: SONAR_RETURN_IF_ERROR(BruteForce()); break;
      case SearchMethod::kRandom: SONAR_RETURN_IF_ERROR(RandomOrder()); break;
      case SearchMethod::kSequential: SONAR_RETURN_IF_ERROR(Sequential()); break;
      case SearchMethod::kHyperband: SONAR_RETURN_IF_ERROR(Hyperband()); break;
      case SearchMethod::kSonar: SONAR_RETURN_IF_ERROR(Sonar()); break;
    }
    summary_.front = st_.Front();
    summary_.train_seconds = env_.train_seconds();
    summary_.tune_seconds = env_.tune_seconds();
    summary_.stopped_early = stop_;
    summary_.state = std::move(st_);
    return std::move(summary_);
  }

 private:
  // After every charged call: the callback and the budget.
  void Step() {
    if (o_.on_step && !o_.on_step(st_, env_)) stop_ = true;
    if (o_.budget_seconds > 0 && env_.charged_seconds() >= o_.budget_seconds) stop_ = true;
  }
  void Log(const std::string& line) {
    if (o_.log) o_.log(line);
  }

  int Epochs(int c) const { return static_cast<int>(st_.candidates[c].accuracy.size()); }
  int Trials(int l) const { return static_cast<int>(st_.layers[l].best_so_far.size()); }

  void TrainTo(int c, int epochs) {
    SearchState::Candidate& cand = st_.candidates[c];
    while (!stop_ && !cand.failed && Epochs(c) < epochs) {
      StatusOr<EpochResult> r = env_.TrainEpoch(c);
      if (!r.ok()) {
        cand.failed = true;
        cand.alive = false;
        Log("candidate " + p_.architecture(c).Name() + " failed: " + r.status().message());
      } else {
        cand.accuracy.push_back(r->validation_accuracy);
        ++summary_.epochs_trained;
      }
      Step();
    }
  }

  Status TuneTo(int l, int trials) {
    SearchState::Layer& layer = st_.layers[l];
    trials = std::min(trials, o_.full_trials);
    while (!stop_ && !layer.exhausted && !layer.stopped && Trials(l) < trials) {
      const int n = std::min(o_.batch_size, trials - Trials(l));
      SONAR_ASSIGN_OR_RETURN(std::vector<double> costs, env_.TuneLayer(l, n));
      double best = layer.best_so_far.empty() ? kInf : layer.best_so_far.back();
      for (double cost : costs) {
        best = std::min(best, cost);
        layer.best_so_far.push_back(best);
      }
      summary_.trials_measured += static_cast<int64_t>(costs.size());
      if (static_cast<int>(costs.size()) < n) layer.exhausted = true;
      Step();
    }
    return OkStatus();
  }

  Status MeasureUntuned(int l) {
    if (!std::isnan(st_.layers[l].untuned)) return OkStatus();
    SONAR_ASSIGN_OR_RETURN(double seconds, env_.UntunedLatency(l));
    st_.layers[l].untuned = seconds;
    Step();
    return OkStatus();
  }

  Status TuneLayersOf(int c, int trials) {
    for (int l : p_.layers_of[c]) SONAR_RETURN_IF_ERROR(TuneTo(l, trials));
    return OkStatus();
  }

  std::vector<int> SeededOrder() const {
    std::vector<int> order(p_.candidates.size());
    std::iota(order.begin(), order.end(), 0);
    Rng rng(o_.seed);
    for (size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[UniformInt(rng, 0, static_cast<int64_t>(i) - 1)]);
    }
    return order;
  }

  Status BruteForce() {
    for (size_t l = 0; l < p_.layers.size() && !stop_; ++l) {
      SONAR_RETURN_IF_ERROR(TuneTo(static_cast<int>(l), o_.full_trials));
    }
    for (size_t c = 0; c < p_.candidates.size() && !stop_; ++c) {
      TrainTo(static_cast<int>(c), o_.full_epochs);
    }
    summary_.rounds = 1;
    return OkStatus();
  }

  Status RandomOrder() {
    for (int c : SeededOrder()) {
      if (stop_) break;
      TrainTo(c, o_.full_epochs);
      if (!st_.candidates[c].failed) SONAR_RETURN_IF_ERROR(TuneLayersOf(c, o_.full_trials));
    }
    summary_.rounds = 1;
    return OkStatus();
  }

  Status Sequential() {
    for (size_t c = 0; c < p_.candidates.size() && !stop_; ++c) {
      TrainTo(static_cast<int>(c), o_.full_epochs);
    }
    for (size_t l = 0; l < p_.layers.size() && !stop_; ++l) {
      SONAR_RETURN_IF_ERROR(MeasureUntuned(static_cast<int>(l)));
    }
    std::vector<int> chosen = st_.Front();
    Log("sequential: " + std::to_string(chosen.size()) + " networks chosen on untuned latency");
    for (int c : chosen) {
      if (stop_) break;
      SONAR_RETURN_IF_ERROR(TuneLayersOf(c, o_.full_trials));
    }
    summary_.rounds = 2;
    return OkStatus();
  }

  // Non-dominated sorting on (accuracy so far, untuned latency); returns `keep` candidates,
  // whole fronts first, ties in a front by accuracy.
  std::vector<int> TopByFronts(std::vector<int> pool, size_t keep) {
    std::vector<int> out;
    while (out.size() < keep && !pool.empty()) {
      std::vector<int> front, rest;
      for (int a : pool) {
        bool dominated = false;
        for (int b : pool) {
          if (a == b) continue;
          const double acc_a = st_.Accuracy(a), acc_b = st_.Accuracy(b);
          const double lat_a = st_.Latency(a), lat_b = st_.Latency(b);
          if (acc_b >= acc_a && lat_b <= lat_a && (acc_b > acc_a || lat_b < lat_a)) {
            dominated = true;
            break;
          }
        }
        (dominated ? rest : front).push_back(a);
      }
      std::sort(front.begin(), front.end(),
                [&](int a, int b) { return st_.Accuracy(a) > st_.Accuracy(b); });
      for (int c : front) {
        if (out.size() < keep) out.push_back(c);
      }
      pool = std::move(rest);
    }
    return out;
  }

  Status Hyperband() {
    const int R = o_.full_epochs, eta = o_.eta;
    const int s_max = static_cast<int>(std::floor(std::log(R) / std::log(eta) + 1e-9));
    std::vector<int> order = SeededOrder();
    size_t next = 0;
    while (next < order.size() && !stop_) {
      for (int s = s_max; s >= 0 && next < order.size() && !stop_; --s) {
        const int n = static_cast<int>(std::ceil((s_max + 1.0) / (s + 1.0) * std::pow(eta, s)));
        std::vector<int> bracket;
        while (static_cast<int>(bracket.size()) < n && next < order.size()) {
          bracket.push_back(order[next++]);
        }
        for (int c : bracket) {
          for (int l : p_.layers_of[c]) SONAR_RETURN_IF_ERROR(MeasureUntuned(l));
        }
        for (int i = 0; i <= s && !bracket.empty() && !stop_; ++i) {
          const int epochs =
              std::min(R, static_cast<int>(std::ceil(R * std::pow(eta, i - s) - 1e-9)));
          for (int c : bracket) TrainTo(c, epochs);
          std::vector<int> ok;
          for (int c : bracket) {
            if (!st_.candidates[c].failed) ok.push_back(c);
          }
          if (i == s) break;
          std::vector<int> kept = TopByFronts(ok, std::max<size_t>(1, ok.size() / eta));
          for (int c : ok) {
            if (std::find(kept.begin(), kept.end(), c) == kept.end()) {
              st_.candidates[c].alive = false;
            }
          }
          bracket = std::move(kept);
        }
        ++summary_.rounds;
      }
    }
    // Only candidates trained to the full budget stay in the answer.
    for (size_t c = 0; c < st_.candidates.size(); ++c) {
      if (Epochs(static_cast<int>(c)) < R) st_.candidates[c].alive = false;
    }
    for (int c : st_.Front()) {
      if (stop_) break;
      SONAR_RETURN_IF_ERROR(TuneLayersOf(c, o_.full_trials));
    }
    return OkStatus();
  }

  // ---- sonar ----

  std::vector<std::vector<double>> AccuracyPeers() const {
    std::vector<std::vector<double>> peers;
    for (const SearchState::Candidate& c : st_.candidates) {
      if (!c.failed && static_cast<int>(c.accuracy.size()) >= o_.full_epochs) {
        peers.push_back(c.accuracy);
      }
    }
    return peers;
  }
  std::vector<std::vector<double>> LayerPeers() const {
    std::vector<std::vector<double>> peers;
    for (const SearchState::Layer& l : st_.layers) {
      if (static_cast<int>(l.best_so_far.size()) >= o_.full_trials) peers.push_back(l.best_so_far);
    }
    return peers;
  }

  // Rule 2: stops layer l when its forecast gain is not worth more trials.
  void MaybeStopLayer(int l, const std::vector<std::vector<double>>& peers) {
    SearchState::Layer& layer = st_.layers[l];
    if (layer.stopped || layer.best_so_far.empty()) return;
    double fastest = kInf;
    for (int c : p_.layers[l].candidates) {
      if (st_.candidates[c].alive) fastest = std::min(fastest, st_.Latency(c));
    }
    if (!std::isfinite(fastest)) return;
    const double gain =
        ExpectedTuningGain(layer.best_so_far, o_.full_trials, peers, o_.batch_size, o_.bounds);
    if (gain < o_.layer_gain_threshold * fastest) layer.stopped = true;
  }

  // Rule 1 and the latency bounds: drops candidates that another live one surely covers.
  int Prune() {
    const std::vector<std::vector<double>> acc_peers = AccuracyPeers();
    const std::vector<std::vector<double>> lat_peers = LayerPeers();
    std::vector<int> live;
    for (size_t c = 0; c < st_.candidates.size(); ++c) {
      if (st_.candidates[c].alive && !st_.candidates[c].failed) live.push_back(static_cast<int>(c));
    }
    std::vector<double> lower_acc(st_.candidates.size()), upper_acc(st_.candidates.size());
    std::vector<double> lower_lat(st_.candidates.size()), upper_lat(st_.candidates.size());
    // Bounds of an untuned layer from the layer model: its prediction is of the latency after
    // the first rung's trials, which more trials lower by at most the peers' ratio.
    const int t0 = FirstRungTrials();
    const double ratio_low =
        lat_peers.empty()
            ? 0.0
            : LatencyLowerBound(std::vector<double>(t0, 1.0), o_.full_trials, lat_peers, o_.bounds);
    // The expected final latency of a layer: its best so far (or the model's prediction)
    // lowered by the peers' median gain of the remaining trials.
    auto expected = [&](const std::vector<double>& curve) {
      const double best = curve.back();
      const double gain =
          ExpectedTuningGain(curve, o_.full_trials, lat_peers, o_.batch_size, o_.bounds);
      return std::isfinite(gain) ? best - std::min(best, gain) : best;
    };
    std::vector<double> layer_low(p_.layers.size(), 0.0), layer_high(p_.layers.size(), kInf);
    for (size_t l = 0; l < p_.layers.size(); ++l) {
      const SearchState::Layer& layer = st_.layers[l];
      const bool done = layer.stopped || layer.exhausted;
      if (!layer.best_so_far.empty() && std::isfinite(layer.best_so_far.back())) {
        if (o_.latency_rule == LatencyRule::kEstimates) {
          layer_low[l] = layer_high[l] =
              done ? layer.best_so_far.back() : expected(layer.best_so_far);
          continue;
        }
        layer_high[l] = layer.best_so_far.back();
        const double b =
            done ? layer.best_so_far.back()
                 : LatencyLowerBound(layer.best_so_far, o_.full_trials, lat_peers, o_.bounds);
        layer_low[l] = std::isfinite(b) ? b : 0.0;
      } else if (layer.best_so_far.empty() && model_.fitted()) {
        const LayerLatencyPrediction pr = model_.Predict(p_.layers[l].task);
        if (o_.latency_rule == LatencyRule::kEstimates) {
          layer_low[l] = layer_high[l] = expected(std::vector<double>(t0, std::exp(pr.log_mean)));
          continue;
        }
        layer_high[l] = std::exp(pr.log_mean + o_.latency_z * pr.log_sd);
        layer_low[l] = std::exp(pr.log_mean - o_.latency_z * pr.log_sd) * ratio_low;
      }
    }
    for (int c : live) {
      const SearchState::Candidate& cand = st_.candidates[c];
      lower_acc[c] = cand.accuracy.empty() ? 0 : st_.Accuracy(c);
      upper_acc[c] = cand.accuracy.empty()
                         ? 1.0
                         : AccuracyUpperBound(cand.accuracy, o_.full_epochs, acc_peers, o_.bounds);
      double low = 0, high = 0;
      for (int l : p_.layers_of[c]) {
        low += layer_low[l];
        high += layer_high[l];
      }
      lower_lat[c] = low;
      upper_lat[c] = high;
    }
    // Most accurate first, so a candidate is checked against the ones most likely to cover it.
    std::sort(live.begin(), live.end(), [&](int a, int b) {
      return lower_acc[a] != lower_acc[b] ? lower_acc[a] > lower_acc[b] : a < b;
    });
    const double ea = o_.accuracy_tolerance / 2, el = o_.latency_tolerance / 2;
    int dropped = 0;
    for (int c : live) {
      for (int b : live) {
        if (b == c || !st_.candidates[b].alive || !std::isfinite(upper_lat[b])) continue;
        if (lower_acc[b] >= upper_acc[c] - ea && upper_lat[b] <= lower_lat[c] * (1 + el)) {
          st_.candidates[c].alive = false;
          ++dropped;
          break;
        }
      }
    }
    return dropped;
  }

  int Alive() const {
    int n = 0;
    for (const SearchState::Candidate& c : st_.candidates) n += c.alive && !c.failed;
    return n;
  }

  int FirstRungTrials() const {
    const int K = Rungs();
    return std::max(1, static_cast<int>(std::ceil(o_.full_trials / std::pow(o_.eta, K) - 1e-9)));
  }
  int Rungs() const {
    return std::max(
        0, static_cast<int>(std::ceil(std::log(o_.full_epochs) / std::log(o_.eta) - 1e-9)));
  }

  // The pilot: the most accurate candidates after the first rung, trained to the full epochs
  // (peers of the accuracy bound); the first one's layers tuned to the full trials (peers of
  // the latency bound).
  Status Pilot() {
    std::vector<int> order;
    for (size_t c = 0; c < st_.candidates.size(); ++c) {
      if (st_.candidates[c].alive && !st_.candidates[c].failed)
        order.push_back(static_cast<int>(c));
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return st_.Accuracy(a) > st_.Accuracy(b); });
    order.resize(std::min<size_t>(order.size(), o_.pilot_candidates));
    bool tuned = false;
    for (int c : order) {
      TrainTo(c, o_.full_epochs);
      if (!tuned && !st_.candidates[c].failed) {
        SONAR_RETURN_IF_ERROR(TuneLayersOf(c, o_.full_trials));
        tuned = true;
      }
    }
    return OkStatus();
  }

  // Tunes the first rung's trials on the layers shared by the most live candidates, until
  // model_layers layers have them (the layer model's training set).
  Status ModelLayers(int trials) {
    std::vector<std::pair<int, int>> by_use;  // (-users, layer)
    for (size_t l = 0; l < p_.layers.size(); ++l) {
      int users = 0;
      for (int c : p_.layers[l].candidates) users += st_.candidates[c].alive;
      if (users > 0) by_use.push_back({-users, static_cast<int>(l)});
    }
    std::sort(by_use.begin(), by_use.end());
    int have = 0;
    for (const SearchState::Layer& layer : st_.layers) have += Tuned(layer, trials);
    for (const auto& [users, l] : by_use) {
      if (have >= o_.model_layers || stop_) break;
      if (Tuned(st_.layers[l], trials)) continue;
      SONAR_RETURN_IF_ERROR(TuneTo(l, trials));
      have += Tuned(st_.layers[l], trials);
    }
    return OkStatus();
  }
  static bool Tuned(const SearchState::Layer& layer, int trials) {
    return static_cast<int>(layer.best_so_far.size()) >= trials &&
           std::isfinite(layer.best_so_far[trials - 1]);
  }

  // Refits the layer model on every layer's latency after the first rung's trials.
  void FitModel() {
    const int t0 = FirstRungTrials();
    std::vector<const Task*> tasks;
    std::vector<double> seconds;
    for (size_t l = 0; l < p_.layers.size(); ++l) {
      if (Tuned(st_.layers[l], t0)) {
        tasks.push_back(&p_.layers[l].task);
        seconds.push_back(st_.layers[l].best_so_far[t0 - 1]);
      }
    }
    if (tasks.size() >= 3 && tasks.size() != model_size_) {
      LayerLatencyModel model;
      if (model.Fit(tasks, seconds).ok()) {
        model_ = std::move(model);
        model_size_ = tasks.size();
      }
    }
  }

  Status Sonar() {
    const int E = o_.full_epochs, T = o_.full_trials;
    const int K = Rungs();
    auto rung = [&](int full, int k) {
      return std::max(1, static_cast<int>(std::ceil(full / std::pow(o_.eta, K - k) - 1e-9)));
    };
    for (int k = 0; k <= K && !stop_; ++k) {
      const int epochs = rung(E, k), trials = rung(T, k);  // this rung's budgets
      for (size_t c = 0; c < st_.candidates.size() && !stop_; ++c) {
        if (st_.candidates[c].alive) TrainTo(static_cast<int>(c), epochs);
      }
      if (k == 0) {
        SONAR_RETURN_IF_ERROR(Pilot());
        SONAR_RETURN_IF_ERROR(ModelLayers(trials));
      } else {
        const std::vector<std::vector<double>> peers = LayerPeers();
        for (size_t l = 0; l < p_.layers.size() && !stop_; ++l) {
          bool used = false;
          for (int c : p_.layers[l].candidates) used = used || st_.candidates[c].alive;
          if (!used) continue;
          MaybeStopLayer(static_cast<int>(l), peers);
          SONAR_RETURN_IF_ERROR(TuneTo(static_cast<int>(l), trials));
        }
      }
      FitModel();
      const int dropped = stop_ ? 0 : Prune();
      ++summary_.rounds;
      char line[256];
      const std::vector<int> front = st_.Front();
      std::snprintf(line, sizeof line,
                    "round %d: %d epochs, %d trials per layer; dropped %d, %d alive; charged %.0f "
                    "s training + %.0f s measuring; front (%zu):",
                    k + 1, epochs, trials, dropped, Alive(), env_.train_seconds(),
                    env_.tune_seconds(), front.size());
      std::string text = line;
      for (size_t i = 0; i < front.size() && i < 6; ++i) {
        char point[96];
        std::snprintf(point, sizeof point, " %s %.3f/%.3gus",
                      p_.architecture(front[i]).Name().c_str(), st_.Accuracy(front[i]),
                      st_.Latency(front[i]) * 1e6);
        text += point;
      }
      if (front.size() > 6) text += " ...";
      Log(text);
    }
    return OkStatus();
  }

  const JointSearchOptions& o_;
  const SearchProblem& p_;
  SearchEnvironment& env_;
  SearchState st_;
  SearchSummary summary_;
  bool stop_ = false;
  LayerLatencyModel model_;
  size_t model_size_ = 0;
};

}  // namespace

StatusOr<SearchSummary> RunJointSearch(const JointSearchOptions& options,
                                       const SearchProblem& problem, SearchEnvironment& env) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  Runner runner(options, problem, env);
  return runner.Run();
}

}  // namespace sonar
