// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/compare.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/parallel.h"
#include "common/statistics.h"
#include "measure/child_process.h"
#include "measure/measurer.h"
#include "space/task.h"

namespace sonar {
namespace {

using Json = nlohmann::ordered_json;
constexpr double kInf = std::numeric_limits<double>::infinity();

Json NumberOrNull(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

}  // namespace

std::vector<CompareTable> TablesFromRecords(const std::vector<Record>& records,
                                            const std::string& source, int min_configs) {
  std::vector<CompareTable> tables;
  std::unordered_map<uint64_t, size_t> where;
  for (const Record& r : records) {
    auto [it, inserted] = where.emplace(r.workload_key, tables.size());
    if (inserted) {
      CompareTable t;
      t.workload_key = r.workload_key;
      t.name = source + ":" + r.task.name;
      tables.push_back(std::move(t));
    }
    tables[it->second].records.push_back(r);
  }
  // Disambiguate equal names (several workloads of one template) with the key.
  std::unordered_map<std::string, int> name_count;
  for (const CompareTable& t : tables) ++name_count[t.name];
  std::vector<CompareTable> out;
  for (CompareTable& t : tables) {
    if (name_count[t.name] > 1) t.name += ":" + WorkloadKeyToHex(t.workload_key).substr(0, 8);
    int ok = 0;
    for (const Record& r : t.records) ok += r.result.ok();
    if (ok >= min_configs) out.push_back(std::move(t));
  }
  return out;
}

Status CompareOptions::Validate() const {
  if (tuners.empty()) return InvalidArgumentError("CompareOptions::tuners is empty");
  if (seeds < 1) return InvalidArgumentError("CompareOptions::seeds must be >= 1");
  if (trials < 1) return InvalidArgumentError("CompareOptions::trials must be >= 1");
  if (batch_size < 1) return InvalidArgumentError("CompareOptions::batch_size must be >= 1");
  if (threads < 0) return InvalidArgumentError("CompareOptions::threads must be >= 0");
  if (async_workers < 1) return InvalidArgumentError("CompareOptions::async_workers must be >= 1");
  SONAR_RETURN_IF_ERROR(replay_timing.Validate());
  if (!(stop_within >= 0 && stop_within < 1)) {
    return InvalidArgumentError("CompareOptions::stop_within must be in [0, 1), got " +
                                std::to_string(stop_within));
  }
  return tuner_options.Validate();
}

StatusOr<CompareResult> CompareTuners(const std::vector<CompareTable>& tables,
                                      const CompareOptions& options,
                                      const std::function<void(int done, int total)>& on_run) {
  SONAR_RETURN_IF_ERROR(options.Validate());
  const auto start = std::chrono::steady_clock::now();
  CompareResult result;
  result.baseline = options.baseline;
  // The tuners run: those asked for, and the baseline when it is not among them.
  std::vector<TunerKind> kinds = options.tuners;
  if (std::find(kinds.begin(), kinds.end(), options.baseline) == kinds.end()) {
    kinds.push_back(options.baseline);
  }
  std::vector<Task> tasks;
  bool any_live = false;
  for (const CompareTable& table : tables) {
    StatusOr<Task> task = table.live_task ? StatusOr<Task>(*table.live_task)
                                          : TaskFromRecords(table.records, table.workload_key);
    if (!task.ok()) return task.status().WithContext("table " + table.name);
    CompareTableResult tr;
    tr.name = table.name;
    tr.workload_key = table.live_task ? table.live_task->WorkloadKey() : table.workload_key;
    tr.best_seconds = kInf;
    for (const Record& r : table.records)
      tr.best_seconds = std::min(tr.best_seconds, RecordCost(r));
    if (table.live_task) {
      any_live = true;
      if (options.stop_within > 0) {
        return InvalidArgumentError("table " + table.name +
                                    " is live: its best is unknown, so stop_within cannot be used");
      }
      if (!options.live_measurer) {
        return InvalidArgumentError("table " + table.name +
                                    " is live but no live_measurer was given");
      }
    } else if (!std::isfinite(tr.best_seconds)) {
      return InvalidArgumentError("table " + table.name + " has no successful record");
    }
    tr.size = static_cast<int64_t>(task->space.size());
    tr.trials = static_cast<int>(std::min<int64_t>(options.trials, tr.size));
    for (TunerKind k : kinds) {
      CompareTunerResult t;
      t.tuner = k;
      t.curves.assign(static_cast<size_t>(options.seeds), {});
      tr.tuners.push_back(std::move(t));
    }
    tasks.push_back(std::move(*task));
    result.tables.push_back(std::move(tr));
  }
  // Transfer records per table: everything but the table's own workload.
  std::vector<std::vector<Record>> transfer(tables.size());
  if (!options.transfer_records.empty()) {
    for (size_t t = 0; t < tables.size(); ++t) {
      for (const Record& r : options.transfer_records) {
        if (r.workload_key != result.tables[t].workload_key) transfer[t].push_back(r);
      }
    }
  }
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);
  // Transfer priors (transfer-bo, rgpe): learned once per table, in parallel over tables.
  std::vector<std::vector<std::unique_ptr<TransferPrior>>> priors(tables.size());
  for (auto& row : priors) row.resize(kinds.size());
  {
    std::vector<std::pair<size_t, size_t>> prior_jobs;
    for (size_t t = 0; t < tables.size(); ++t) {
      for (size_t k = 0; k < kinds.size(); ++k) {
        const TunerKind kind = kinds[k];
        if (kind == TunerKind::kTransferBayesOpt || kind == TunerKind::kRgpe)
          prior_jobs.push_back({t, k});
      }
    }
    std::mutex mu;
    Status error;
    auto build = [&](size_t j) {
      const auto [t, k] = prior_jobs[j];
      StatusOr<std::unique_ptr<TransferPrior>> prior =
          BuildTransferPrior(tasks[t], transfer[t], kinds[k], options.tuner_options.transfer,
                             options.tuner_options.seed);
      if (!prior.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        error = prior.status().WithContext("table " + tables[t].name);
        return;
      }
      priors[t][k] = std::move(*prior);
      const TransferPrior& built = *priors[t][k];
      // The model before any target measurement, against the table's true costs.
      std::vector<Config> configs;
      std::vector<double> y;
      for (const Record& r : tables[t].records) {
        const double cost = RecordCost(r);
        if (!(std::isfinite(cost) && cost > 0)) continue;
        StatusOr<Config> c = tasks[t].space.FromValues(r.config.values);
        if (!c.ok()) continue;
        configs.push_back(std::move(*c));
        y.push_back(std::log(cost));
      }
      CompareTunerResult& tr = result.tables[t].tuners[k];
      tr.transfer_sources = static_cast<int>(built.sources.size());
      tr.transfer_seconds = built.build_seconds;
      if (configs.size() >= 2) {
        const Eigen::MatrixXd x = built.encoder.EncodeConfigs(configs);
        Eigen::VectorXd mean;
        if (kinds[k] == TunerKind::kTransferBayesOpt) {
          mean = built.dkgp.Predict(x).mean;
        } else {
          RgpeModel ensemble(&built.source_gps, options.tuner_options.bo.gp, 1, 0);
          mean = ensemble.Predict(x).mean;
        }
        tr.zero_shot_spearman = SpearmanRho(
            mean, Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Eigen::Index>(y.size())));
      }
    };
    ParallelForEach(prior_jobs.size(), threads, build);
    SONAR_RETURN_IF_ERROR(error);
  }
  // Check now that every tuner can be built, so a bad option fails before any work.
  for (size_t t = 0; t < tables.size(); ++t) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      TunerOptions o = options.tuner_options;
      o.kind = kinds[k];
      o.transfer_prior = priors[t][k].get();
      StatusOr<std::unique_ptr<Tuner>> tuner = MakeTuner(tasks[t], o);
      if (!tuner.ok()) return tuner.status().WithContext(std::string(TunerKindToString(o.kind)));
    }
  }

  struct Job {
    size_t table, tuner;
    int seed;
  };
  std::vector<Job> jobs;
  for (size_t t = 0; t < tables.size(); ++t) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      for (int s = 0; s < options.seeds; ++s) jobs.push_back({t, k, s});
    }
  }
  std::mutex error_mu, progress_mu;
  Status error;
  int runs_done = 0;
  // One run: the best-so-far curve, tr.trials long (empty on error, which is kept in `error`).
  auto run_one = [&](size_t j) -> std::vector<double> {
    const Job& job = jobs[j];
    const Task& task = tasks[job.table];
    const CompareTableResult& tr = result.tables[job.table];
    TunerOptions o = options.tuner_options;
    o.kind = kinds[job.tuner];
    o.seed = static_cast<uint64_t>(job.seed);
    o.transfer_prior = priors[job.table][job.tuner].get();
    if (o.transfer_prior == nullptr) o.transfer_records = transfer[job.table];
    StatusOr<std::unique_ptr<Tuner>> tuner = MakeTuner(task, o);
    if (!tuner.ok()) {
      std::lock_guard<std::mutex> lock(error_mu);
      error = tuner.status();
      return {};
    }
    std::unique_ptr<Measurer> measurer;
    if (tables[job.table].live_task) {
      StatusOr<std::unique_ptr<Measurer>> m = options.live_measurer();
      if (!m.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        error = m.status();
        return {};
      }
      measurer = std::move(*m);
    } else {
      measurer = MakeReplayMeasurer(tables[job.table].records, options.replay_timing);
    }
    std::vector<double> curve;
    double best = kInf;
    const double stop_at =
        options.stop_within > 0 ? tr.best_seconds * (1 + options.stop_within) : -kInf;
    auto done = [&] { return static_cast<int>(curve.size()) >= tr.trials || best <= stop_at; };
    if (options.async_workers > 1) {
      // Simulated asynchronous workers: results return oldest first.
      std::deque<Config> pending;
      bool exhausted = false;
      while (!done()) {
        const int budget =
            tr.trials - static_cast<int>(curve.size()) - static_cast<int>(pending.size());
        const int free = std::min(options.async_workers - static_cast<int>(pending.size()), budget);
        if (!exhausted && free > 0) {
          std::vector<Config> more = (*tuner)->Propose(free);
          if (more.empty()) exhausted = true;
          for (Config& c : more) pending.push_back(std::move(c));
        }
        if (pending.empty()) break;
        const Config c = pending.front();
        pending.pop_front();
        std::vector<MeasureResult> results = measurer->Measure(task, {c});
        std::vector<Observation> obs = {{c, results[0]}};
        best = std::min(best, ObservationCost(obs[0]));
        curve.push_back(best);
        (*tuner)->Observe(obs);
      }
    } else {
      while (!done()) {
        const int want = std::min(options.batch_size, tr.trials - static_cast<int>(curve.size()));
        std::vector<Config> batch = (*tuner)->Propose(want);
        if (batch.empty()) break;
        std::vector<MeasureResult> results = measurer->Measure(task, batch);
        std::vector<Observation> obs;
        for (size_t i = 0; i < batch.size(); ++i) {
          obs.push_back({batch[i], results[i]});
          best = std::min(best, ObservationCost(obs.back()));
          curve.push_back(best);
        }
        (*tuner)->Observe(obs);
      }
    }
    curve.resize(static_cast<size_t>(tr.trials), best);
    return curve;
  };
  auto store = [&](size_t j, std::vector<double> curve) {
    const Job& job = jobs[j];
    result.tables[job.table].tuners[job.tuner].curves[static_cast<size_t>(job.seed)] =
        std::move(curve);
    if (on_run) {
      std::lock_guard<std::mutex> lock(progress_mu);
      on_run(++runs_done, static_cast<int>(jobs.size()));
    }
  };
  threads = std::max(1, std::min<int>(threads, static_cast<int>(jobs.size())));
  if (any_live) threads = 1;  // live measurements never share the cores
  if (options.executor) {
    if (!options.executor(jobs.size(), run_one, store)) {
      SONAR_RETURN_IF_ERROR(error);
      return CompareResult{};  // a worker: the results are on another process
    }
    for (size_t t = 0; t < result.tables.size(); ++t) {
      for (CompareTunerResult& tu : result.tables[t].tuners) {
        for (std::vector<double>& c : tu.curves) {
          if (c.empty()) return InternalError("a comparison job returned no curve");
        }
      }
    }
  } else {
    ParallelForEach(jobs.size(), threads, [&](size_t j) { store(j, run_one(j)); });
  }
  SONAR_RETURN_IF_ERROR(error);

  // Live tables: the best is the best any run measured.
  for (size_t t = 0; t < tables.size(); ++t) {
    if (!tables[t].live_task) continue;
    for (const CompareTunerResult& tu : result.tables[t].tuners) {
      for (const std::vector<double>& c : tu.curves) {
        if (!c.empty())
          result.tables[t].best_seconds = std::min(result.tables[t].best_seconds, c.back());
      }
    }
    if (!std::isfinite(result.tables[t].best_seconds)) {
      return FailedPreconditionError("live table " + tables[t].name +
                                     ": no run measured a successful config");
    }
  }
  // Summaries.
  for (CompareTableResult& tr : result.tables) {
    const CompareTunerResult* baseline = nullptr;
    for (CompareTunerResult& t : tr.tuners) {
      for (int x = 0; x < 3; ++x) {
        std::vector<double> firsts;
        int never = 0;
        for (const std::vector<double>& c : t.curves) {
          const double goal = tr.best_seconds * (1 + kCompareThresholds[x]);
          int first = tr.trials + 1;
          for (size_t i = 0; i < c.size(); ++i) {
            if (c[i] <= goal) {
              first = static_cast<int>(i) + 1;
              break;
            }
          }
          firsts.push_back(first);
          never += first > tr.trials;
        }
        const int n = static_cast<int>(firsts.size());
        const bool measured = kCompareThresholds[x] >= options.stop_within;
        t.median_trials_to[x] =
            measured ? Median(firsts) : std::numeric_limits<double>::quiet_NaN();
        t.reached[x] = measured ? n - never : 0;
        // The median rests on a run that never got there when the upper middle one did not.
        t.censored[x] = measured && n > 0 && never >= n - n / 2;
      }
      for (int p = 0; p < 5; ++p) {
        std::vector<double> rel;
        const size_t at = static_cast<size_t>(std::min(kCompareCheckpoints[p], tr.trials)) - 1;
        for (const std::vector<double>& c : t.curves) rel.push_back(c[at] / tr.best_seconds);
        t.median_relative_at[p] = Median(rel);
      }
      if (t.tuner == options.baseline) baseline = &t;
    }
    for (CompareTunerResult& t : tr.tuners) {
      for (int x = 0; x < 3; ++x) {
        const bool known = baseline && !t.censored[x] && !baseline->censored[x];
        t.ratio_to_baseline[x] = known ? t.median_trials_to[x] / baseline->median_trials_to[x]
                                       : std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string CompareSummaryJson(const CompareResult& result) {
  Json tables = Json::array();
  std::unordered_map<std::string, std::vector<std::vector<double>>> ratios;  // tuner -> [x][..]
  std::vector<std::string> order;
  for (const CompareTableResult& tr : result.tables) {
    Json tuners = Json::array();
    for (const CompareTunerResult& t : tr.tuners) {
      const std::string name(TunerKindToString(t.tuner));
      if (!ratios.count(name)) {
        order.push_back(name);
        ratios[name].assign(3, {});
      }
      Json to, ratio, rel, censored, reached;
      for (int x = 0; x < 3; ++x) {
        const std::string key = std::to_string(static_cast<int>(kCompareThresholds[x] * 100 + 0.5));
        to[key] = NumberOrNull(t.median_trials_to[x]);
        censored[key] = t.censored[x];
        reached[key] = t.reached[x];
        ratio[key] = NumberOrNull(t.ratio_to_baseline[x]);
        if (std::isfinite(t.ratio_to_baseline[x]))
          ratios[name][static_cast<size_t>(x)].push_back(t.ratio_to_baseline[x]);
      }
      for (int p = 0; p < 5; ++p) {
        if (kCompareCheckpoints[p] > tr.trials) break;  // not measured by a shorter run
        rel[std::to_string(kCompareCheckpoints[p])] = NumberOrNull(t.median_relative_at[p]);
      }
      Json entry = {
          {"tuner", name},           {"median_trials_to", to},     {"censored", censored},
          {"reached", reached},      {"ratio_to_baseline", ratio}, {"median_relative_at", rel},
          {"seeds", t.curves.size()}};
      if (t.tuner == TunerKind::kTransferBayesOpt || t.tuner == TunerKind::kRgpe) {
        entry["transfer_sources"] = t.transfer_sources;
        entry["transfer_seconds"] = t.transfer_seconds;
        entry["zero_shot_spearman"] = NumberOrNull(t.zero_shot_spearman);
      }
      tuners.push_back(std::move(entry));
    }
    tables.push_back({{"table", tr.name},
                      {"workload", WorkloadKeyToHex(tr.workload_key)},
                      {"best_seconds", tr.best_seconds},
                      {"size", tr.size},
                      {"trials", tr.trials},
                      {"tuners", tuners}});
  }
  Json overall = Json::object();
  for (const std::string& name : order) {
    Json r;
    for (int x = 0; x < 3; ++x) {
      const std::string key = std::to_string(static_cast<int>(kCompareThresholds[x] * 100 + 0.5));
      r[key] = NumberOrNull(Median(ratios[name][static_cast<size_t>(x)]));
    }
    overall[name] = r;
  }
  // Pairwise: per table, tuner a's median trials-to over tuner b's; median over tables.
  Json pairwise = Json::object();
  for (const std::string& a : order) {
    Json row = Json::object();
    for (const std::string& b : order) {
      if (a == b) continue;
      Json r;
      for (int x = 0; x < 3; ++x) {
        std::vector<double> v;
        for (const CompareTableResult& tr : result.tables) {
          const CompareTunerResult *ta = nullptr, *tb = nullptr;
          for (const CompareTunerResult& t : tr.tuners) {
            if (TunerKindToString(t.tuner) == a) ta = &t;
            if (TunerKindToString(t.tuner) == b) tb = &t;
          }
          if (ta && tb && !ta->censored[x] && !tb->censored[x] && tb->median_trials_to[x] > 0 &&
              std::isfinite(ta->median_trials_to[x]))
            v.push_back(ta->median_trials_to[x] / tb->median_trials_to[x]);
        }
        r[std::to_string(static_cast<int>(kCompareThresholds[x] * 100 + 0.5))] =
            NumberOrNull(Median(v));
      }
      row[b] = r;
    }
    pairwise[a] = row;
  }
  Json j = {{"baseline", std::string(TunerKindToString(result.baseline))},
            {"tables", tables},
            {"median_ratio_to_baseline", overall},
            {"median_ratio_to", pairwise},
            {"wall_seconds", result.wall_seconds}};
  return j.dump();
}

namespace {

std::string SafeName(const std::string& s) {
  std::string out;
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out;
}

}  // namespace

StatusOr<std::vector<std::string>> WriteCompareOutputs(const CompareResult& result,
                                                       const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InvalidArgumentError("cannot create " + dir + ": " + ec.message());
  std::vector<std::string> written;
  {
    const std::string path = dir + "/curves.csv";
    std::ofstream out(path);
    out << "table,workload,tuner,seed,trial,best_seconds\n";
    for (const CompareTableResult& tr : result.tables) {
      for (const CompareTunerResult& t : tr.tuners) {
        for (size_t s = 0; s < t.curves.size(); ++s) {
          for (size_t i = 0; i < t.curves[s].size(); ++i) {
            out << tr.name << ',' << WorkloadKeyToHex(tr.workload_key) << ','
                << TunerKindToString(t.tuner) << ',' << s << ',' << i + 1 << ',';
            if (std::isfinite(t.curves[s][i])) out << t.curves[s][i];
            out << '\n';
          }
        }
      }
    }
    if (!out) return InternalError("cannot write " + path);
    written.push_back(path);
  }
  {
    const std::string path = dir + "/summary.csv";
    std::ofstream out(path);
    // A censored median (more than the budget) is written ">TRIALS"; a value that was not
    // measured (a threshold below stop_within, a checkpoint past the budget, a ratio with a
    // censored side) is left empty.
    out << "table,workload,size,best_seconds,tuner,median_trials_to_1,median_trials_to_5,"
           "median_trials_to_10,ratio_to_"
        << TunerKindToString(result.baseline) << "_1,ratio_to_"
        << TunerKindToString(result.baseline) << "_5,ratio_to_"
        << TunerKindToString(result.baseline)
        << "_10,rel_at_10,rel_at_25,rel_at_50,rel_at_100,rel_at_200\n";
    auto number = [&out](double v) {
      if (std::isfinite(v)) out << v;
    };
    for (const CompareTableResult& tr : result.tables) {
      for (const CompareTunerResult& t : tr.tuners) {
        out << tr.name << ',' << WorkloadKeyToHex(tr.workload_key) << ',' << tr.size << ','
            << tr.best_seconds << ',' << TunerKindToString(t.tuner);
        for (int x = 0; x < 3; ++x) {
          out << ',';
          if (t.censored[x]) {
            out << '>' << tr.trials;
          } else {
            number(t.median_trials_to[x]);
          }
        }
        for (double v : t.ratio_to_baseline) {
          out << ',';
          number(v);
        }
        for (int p = 0; p < 5; ++p) {
          out << ',';
          if (kCompareCheckpoints[p] <= tr.trials) number(t.median_relative_at[p]);
        }
        out << '\n';
      }
    }
    if (!out) return InternalError("cannot write " + path);
    written.push_back(path);
  }
  {
    const std::string path = dir + "/summary.json";
    std::ofstream out(path);
    out << CompareSummaryJson(result) << '\n';
    if (!out) return InternalError("cannot write " + path);
    written.push_back(path);
  }
  // Plots: median best-so-far / table best with the 25th-75th percentile band, per tuner.
  // Before a run finds any working config its value is missing (not a sentinel), so the axis
  // spans what the tuners reached.
  for (const CompareTableResult& tr : result.tables) {
    const std::string base = std::filesystem::absolute(dir + "/" + SafeName(tr.name)).string();
    std::ofstream data(base + ".dat");
    data << "# trial";
    for (const CompareTunerResult& t : tr.tuners) {
      data << ' ' << TunerKindToString(t.tuner) << "_q25 _median _q75";
    }
    data << '\n';
    for (int i = 0; i < tr.trials; ++i) {
      data << i + 1;
      for (const CompareTunerResult& t : tr.tuners) {
        std::vector<double> rel;
        for (const std::vector<double>& c : t.curves)
          rel.push_back(c[static_cast<size_t>(i)] / tr.best_seconds);
        for (double q : {0.25, 0.5, 0.75}) {
          const double v = Quantile(rel, q);
          data << ' ';
          if (std::isfinite(v)) {
            data << v;
          } else {
            data << "NaN";
          }
        }
      }
      data << '\n';
    }
    data.close();
    if (!data) return InternalError("cannot write " + base + ".dat");
    written.push_back(base + ".dat");
    const size_t seeds = tr.tuners.empty() ? 0 : tr.tuners[0].curves.size();
    std::ofstream gp(base + ".gp");
    gp << "# gnuplot " << base << ".gp (absolute paths: runs from any directory)\n"
       << "set terminal svg size 900,560 dynamic\n"
       << "set output '" << base << ".svg'\n"
       << "set title '" << tr.name << " (" << tr.size << " configs, " << seeds
       << " seeds)' noenhanced\n"
       << "set xlabel 'trial'\nset ylabel 'best so far / table best (median over seeds)'\n"
       << "set datafile missing 'NaN'\n"
       << "set logscale x\nset logscale y\nset xrange [1:" << std::max(2, tr.trials) << "]\n"
       << "set yrange [1:*]\nset key top right\n"
       << "set style fill transparent solid 0.2 noborder\nplot ";
    for (size_t k = 0; k < tr.tuners.size(); ++k) {
      const int col = 2 + static_cast<int>(k) * 3;
      const std::string name(TunerKindToString(tr.tuners[k].tuner));
      gp << (k ? ", " : "") << "'" << base << ".dat' using 1:" << col << ":" << col + 2
         << " with filledcurves lc " << k + 1 << " notitle, '" << base
         << ".dat' using 1:" << col + 1 << " with lines lw 2 lc " << k + 1 << " title '" << name
         << "'";
    }
    // The legend's last line says what the shaded bands are.
    gp << ", keyentry with filledcurves lc rgb '#c0c0c0' title '25th-75th percentile over seeds'\n";
    gp.close();
    if (!gp) return InternalError("cannot write " + base + ".gp");
    written.push_back(base + ".gp");
    if (RunGnuplot(base + ".gp")) written.push_back(base + ".svg");
  }
  return written;
}

}  // namespace sonar
