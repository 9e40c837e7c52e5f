// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Genetic search after AutoTVM's GATuner: a population of genes (one candidate index per knob),
// fitness = 1 / cost (AutoTVM uses FLOPs / cost; the FLOPs of a task are constant, and fitness
// is normalised by its maximum, so the selection probabilities are the same), elites carried
// over, one-point crossover of two parents drawn with probability proportional to fitness, and
// per-knob mutation. Failed configs have fitness 0. Departures from AutoTVM, all because Sonar's
// spaces have whole-config constraints and AutoTVM's do not: a child that is invalid or already
// visited is mutated again (a bounded number of times) and then replaced by a random unvisited
// valid config; configs observed without being proposed (resume) join the parent pool of the
// next generation.
#include <algorithm>
#include <cmath>

#include "tuner/internal.h"

namespace sonar::internal {
namespace {

class GeneticTuner final : public Tuner {
 public:
  GeneticTuner(const Task& task, const TunerOptions& options)
      : task_(task),
        options_(options.genetic),
        rng_(MakeRng(options.seed, 2)),
        sampler_(task_.space, MakeRng(options.seed, 3)) {
    const uint64_t size = task_.space.size();
    population_ = static_cast<int>(std::min<uint64_t>(options_.population, size));
    elites_ = std::min(options_.elites, population_);
    sampler_.Fill(static_cast<size_t>(population_), &visited_, &genes_);
  }

  std::vector<Config> Propose(int max_configs) override {
    std::vector<Config> out;
    while (static_cast<int>(out.size()) < max_configs) {
      if (next_ < genes_.size()) {
        // A gene measured already (observed without being proposed, e.g. on resume) keeps its
        // score but is not proposed again.
        if (!observed_.count(genes_[next_])) out.push_back(genes_[next_]);
        ++next_;
        continue;
      }
      // The generation is out; until its results are in, fill with random unvisited configs.
      std::optional<Config> c = sampler_.Take(&visited_);
      if (!c) break;
      extra_proposed_.insert(*c);
      out.push_back(std::move(*c));
    }
    return out;
  }

  void Observe(const std::vector<Observation>& observations) override {
    for (const Observation& o : observations) {
      visited_.insert(o.config);
      observed_.insert(o.config);
      const std::optional<double> cost = UsableCost(o);
      const double fitness = cost ? 1.0 / *cost : 0.0;
      auto it = std::find(genes_.begin(), genes_.end(), o.config);
      if (it != genes_.end()) {
        scores_[static_cast<size_t>(it - genes_.begin())] = fitness;
      } else {
        extra_.push_back({o.config, fitness});
      }
    }
    if (!genes_.empty() && scores_.size() >= genes_.size()) Evolve();
  }

  std::string_view name() const override { return "ga"; }

 private:
  struct Scored {
    Config gene;
    double fitness;
  };

  void Evolve() {
    std::vector<Scored> pool;
    for (size_t i = 0; i < genes_.size(); ++i) pool.push_back({genes_[i], scores_[i]});
    for (Scored& e : elite_list_) pool.push_back(e);
    for (Scored& e : extra_) pool.push_back(e);
    extra_.clear();
    // Elites: the best `elites_` of the pool.
    std::vector<size_t> order(pool.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return pool[a].fitness > pool[b].fitness; });
    elite_list_.clear();
    for (int i = 0; i < elites_ && i < static_cast<int>(order.size()); ++i) {
      elite_list_.push_back(pool[order[static_cast<size_t>(i)]]);
    }
    // Selection probabilities proportional to normalised fitness (+1e-8 as AutoTVM).
    double max_fit = 0;
    for (const Scored& s : pool) max_fit = std::max(max_fit, s.fitness + 1e-8);
    std::vector<double> cumulative;
    double total = 0;
    for (const Scored& s : pool) {
      total += (s.fitness + 1e-8) / max_fit;
      cumulative.push_back(total);
    }
    auto pick = [&]() {
      const double u = UniformDouble(rng_) * total;
      return static_cast<size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), u) -
                                 cumulative.begin());
    };
    const int num_knobs = task_.space.num_knobs();
    std::vector<Config> next;
    for (int g = 0; g < population_; ++g) {
      size_t a = std::min(pick(), pool.size() - 1);
      size_t b = std::min(pick(), pool.size() - 1);
      if (pool.size() > 1) {
        for (int t = 0; t < 16 && b == a; ++t) b = std::min(pick(), pool.size() - 1);
      }
      Config child = pool[a].gene;
      if (num_knobs > 0) {
        const int point = static_cast<int>(UniformInt(rng_, 0, num_knobs - 1));
        for (int k = point; k < num_knobs; ++k) child.choice[k] = pool[b].gene.choice[k];
        for (int k = 0; k < num_knobs; ++k) {
          if (UniformDouble(rng_) < options_.mutation_prob) child.choice[k] = RandomValue(k);
        }
      }
      bool ok = Acceptable(child);
      for (int t = 0; t < 64 && !ok && num_knobs > 0; ++t) {
        const int k = static_cast<int>(UniformInt(rng_, 0, num_knobs - 1));
        child.choice[k] = RandomValue(k);
        ok = Acceptable(child);
      }
      if (!ok) {
        std::optional<Config> c = sampler_.Take(&visited_);
        if (!c) break;
        child = std::move(*c);
      }
      visited_.insert(child);
      next.push_back(std::move(child));
    }
    genes_ = std::move(next);
    scores_.clear();
    next_ = 0;
  }

  int32_t RandomValue(int k) {
    return static_cast<int32_t>(UniformInt(rng_, 0, task_.space.knob(k).size() - 1));
  }

  bool Acceptable(const Config& c) const { return !visited_.count(c) && task_.space.Satisfies(c); }

  // Scores by gene position; a gene counts as scored once its position is filled.
  struct ScoreMap {
    std::vector<double> values;
    std::vector<bool> filled;
    size_t count = 0;
    double& operator[](size_t i) {
      if (i >= values.size()) {
        values.resize(i + 1, 0.0);
        filled.resize(i + 1, false);
      }
      if (!filled[i]) {
        filled[i] = true;
        ++count;
      }
      return values[i];
    }
    double operator[](size_t i) const { return values[i]; }
    size_t size() const { return count; }
    void clear() {
      values.clear();
      filled.clear();
      count = 0;
    }
  };

  Task task_;
  GeneticOptions options_;
  Rng rng_;
  IndexSampler sampler_;
  int population_ = 0;
  int elites_ = 0;
  VisitedSet visited_;
  VisitedSet observed_;
  VisitedSet extra_proposed_;
  std::vector<Config> genes_;
  ScoreMap scores_;
  size_t next_ = 0;
  std::vector<Scored> elite_list_;
  std::vector<Scored> extra_;
};

}  // namespace

std::unique_ptr<Tuner> MakeGeneticTuner(const Task& task, const TunerOptions& options) {
  return std::make_unique<GeneticTuner>(task, options);
}

}  // namespace sonar::internal
