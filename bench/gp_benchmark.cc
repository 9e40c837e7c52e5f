// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// GP fit and prediction against scikit-learn (issue 5, item 6): the same synthetic data (a
// smooth function of d = 10 inputs in the unit cube, 4 of them irrelevant, Gaussian noise sd
// 0.05), the same kernel (Matern 5/2 ARD x constant + white noise, standardized targets), the
// same number of restarts and the same L-BFGS iteration cap per restart. For each n it fits
// Sonar's GaussianProcess in this process, then starts bench/gp_sklearn.py with
// /usr/bin/python3 through posix_spawn (an argv, no shell) on the same CSV files, and prints
// time ratios (sklearn / sonar) for fit and prediction, held-out NLPD and RMSE of both.
//
// Usage: gp_benchmark [--sizes 250,1000,2000] [--restarts 5,5,5] [--max-iterations 100]
//                     [--test 1000] [--threads 1] [--seed 0] [--python /usr/bin/python3]
//                     [--scale 1]   (0: skip the cost-per-iteration table at 3000 observations)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/random.h"
#include "surrogate/gaussian_process.h"

extern char** environ;

namespace sonar {
namespace {

constexpr int kDim = 10;

double Truth(const Eigen::RowVectorXd& x) {
  return std::sin(3.0 * x(0)) + 0.5 * std::cos(5.0 * x(1) * x(2)) + x(3) * x(3) - x(4) +
         0.3 * std::sin(7.0 * x(5));
}

double Normal(Rng& rng) {
  double u1 = UniformDouble(rng);
  while (u1 <= 0) u1 = UniformDouble(rng);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * UniformDouble(rng));
}

void MakeData(int n, Rng& rng, Eigen::MatrixXd* x, Eigen::VectorXd* y) {
  x->resize(n, kDim);
  y->resize(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < kDim; ++j) (*x)(i, j) = UniformDouble(rng);
    (*y)(i) = Truth(x->row(i)) + 0.05 * Normal(rng);
  }
}

void WriteCsv(const std::string& path, const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  std::ofstream out(path);
  out.precision(17);
  for (int i = 0; i < x.rows(); ++i) {
    for (int j = 0; j < x.cols(); ++j) out << x(i, j) << ',';
    out << y(i) << '\n';
  }
}

std::vector<int> ParseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

// Runs argv with posix_spawn, stdout to `out_path`; returns the exit status (or -1).
int Spawn(const std::vector<std::string>& args, const std::string& out_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Side {
  double fit = 0, predict = 0, nlpd = 0, rmse = 0;
};

struct Row {
  int n = 0, restarts = 0;
  Side map, ml;  // Sonar with default priors, and without priors
  double sk_fit = 0, sk_predict = 0, sk_nlpd = 0, sk_rmse = 0;
  bool sk_ok = false;
};

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What a BO iteration costs at 3000 observations with default GpOptions (hyperparameters on
// 1000 of them), and the subset-of-data approximation beyond.
void ScaleReport(uint64_t seed) {
  std::printf(
      "\nScale (d=%d, default GpOptions: 5 restarts, <= 200 iterations, hyperparameters "
      "on max_fit_samples=1000, exact up to 3000):\n\n| operation | seconds |\n|---|---|\n",
      kDim);
  Rng rng = MakeRng(seed, 7);
  Eigen::MatrixXd x, xc;
  Eigen::VectorXd y, yc;
  MakeData(3600, rng, &x, &y);
  MakeData(10000, rng, &xc, &yc);
  GpOptions options;
  options.seed = seed;
  GaussianProcess gp(options);
  auto t = std::chrono::steady_clock::now();
  if (!gp.Fit(x.topRows(3000), y.head(3000)).ok()) return;
  std::printf("| Fit, n = 3000 (5 restarts on 1000, factorization of 3000) | %.2f |\n", Seconds(t));
  std::fprintf(stderr, "scale: %s\n", gp.fit_summary().BriefReport().c_str());
  GaussianProcess warm(options);
  (void)warm.Fit(x.topRows(2990), y.head(2990));
  t = std::chrono::steady_clock::now();
  (void)warm.AddSamples(x.middleRows(2990, 10), y.segment(2990, 10));
  std::printf("| AddSamples, 10 points at n = 2990 (block Cholesky) | %.3f |\n", Seconds(t));
  t = std::chrono::steady_clock::now();
  (void)warm.Condition(x.topRows(3000), y.head(3000));
  std::printf("| Condition, n = 3000 (full refactorization, same hyperparameters) | %.3f |\n",
              Seconds(t));
  t = std::chrono::steady_clock::now();
  Prediction p = gp.Predict(xc);
  std::printf("| Predict 10000 candidates, n = 3000 (mean and variance) | %.3f |\n", Seconds(t));
  t = std::chrono::steady_clock::now();
  (void)gp.AddSamples(x.bottomRows(600), y.tail(600));
  std::printf("| AddSamples beyond 3000 (600 more: subset reselected, %d of %d kept) | %.3f |\n",
              gp.num_samples(), gp.num_observed(), Seconds(t));
  GaussianProcess sub(options);
  t = std::chrono::steady_clock::now();
  (void)sub.Fit(x, y);
  std::printf("| Fit, n = 3600 (subset of data: 3000 kept) | %.2f |\n", Seconds(t));
  GpOptions exact_options = options;
  exact_options.max_fit_samples = 3000;
  exact_options.restarts = 1;
  exact_options.max_iterations = 20;
  GaussianProcess exact(exact_options);
  t = std::chrono::steady_clock::now();
  (void)exact.Fit(x.topRows(3000), y.head(3000));
  const double s = Seconds(t);
  std::printf("| Fit, n = 3000 exact hyperparameters, 1 restart, <= 20 iterations (%d) | %.2f |\n",
              exact.fit_summary().total_iterations, s);
}

int Main(int argc, char** argv) {
  std::vector<int> sizes = {250, 1000, 2000};
  std::vector<int> restarts = {5, 5, 5};
  int max_iterations = 100, num_test = 1000, threads = 1, scale = 1;
  uint64_t seed = 0;
  std::string python = "/usr/bin/python3";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--sizes")
      sizes = ParseList(value);
    else if (flag == "--restarts")
      restarts = ParseList(value);
    else if (flag == "--max-iterations")
      max_iterations = std::stoi(value);
    else if (flag == "--test")
      num_test = std::stoi(value);
    else if (flag == "--threads")
      threads = std::stoi(value);
    else if (flag == "--seed")
      seed = std::stoull(value);
    else if (flag == "--python")
      python = value;
    else if (flag == "--scale")
      scale = std::stoi(value);
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  while (restarts.size() < sizes.size()) restarts.push_back(restarts.back());
  const std::string script = std::string(SONAR_SOURCE_DIR) + "/bench/gp_sklearn.py";
  char tmpl[] = "/tmp/sonar_gp_bench_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  Rng rng = MakeRng(seed, 0);
  Eigen::MatrixXd xt;
  Eigen::VectorXd yt;
  MakeData(num_test, rng, &xt, &yt);
  const std::string test_csv = dir + "/test.csv";
  WriteCsv(test_csv, xt, yt);

  std::vector<Row> rows;
  for (size_t s = 0; s < sizes.size(); ++s) {
    Row row;
    row.n = sizes[s];
    row.restarts = restarts[s];
    Eigen::MatrixXd x;
    Eigen::VectorXd y;
    Rng data_rng = MakeRng(seed, 100 + sizes[s]);
    MakeData(row.n, data_rng, &x, &y);
    const std::string train_csv = dir + "/train_" + std::to_string(row.n) + ".csv";
    WriteCsv(train_csv, x, y);

    // Sonar twice: default priors (MAP), and no priors (maximum likelihood, sklearn's objective).
    for (int variant = 0; variant < 2; ++variant) {
      GpOptions options;  // Matern 5/2, ARD
      options.restarts = row.restarts;
      options.max_iterations = max_iterations;
      options.max_fit_samples = row.n;  // exact hyperparameter fit, as sklearn
      options.max_exact_samples = std::max(options.max_exact_samples, row.n);
      options.num_threads = threads;
      options.seed = seed;
      if (variant == 1) {
        options.lengthscale_prior_sd = 0;
        options.signal_prior_sd = 0;
        options.noise_prior_sd = 0;
      }
      GaussianProcess gp(options);
      auto t0 = std::chrono::steady_clock::now();
      Status status = gp.Fit(x, y);
      auto t1 = std::chrono::steady_clock::now();
      if (!status.ok()) {
        std::cerr << "sonar fit failed: " << status.ToString() << "\n";
        return 1;
      }
      // Prediction: the median of 7 timed calls (one call lasts milliseconds: a single timing
      // is mostly noise on this machine); gp_sklearn.py does the same.
      Prediction p;
      std::vector<double> predict_s;
      for (int rep = 0; rep < 7; ++rep) {
        const auto p0 = std::chrono::steady_clock::now();
        p = gp.Predict(xt);
        predict_s.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count());
      }
      std::nth_element(predict_s.begin(), predict_s.begin() + 3, predict_s.end());
      Side& out = variant == 0 ? row.map : row.ml;
      out.fit = std::chrono::duration<double>(t1 - t0).count();
      out.predict = predict_s[3];
      out.nlpd = gp.NegativeLogPredictiveDensity(xt, yt);
      out.rmse = std::sqrt((p.mean - yt).squaredNorm() / yt.size());
      std::cerr << "n=" << row.n << (variant == 0 ? " sonar MAP: " : " sonar ML: ")
                << gp.fit_summary().BriefReport() << "\n";
    }

    const std::string out_json = dir + "/sklearn_" + std::to_string(row.n) + ".json";
    const int rc = Spawn({python, script, train_csv, test_csv, std::to_string(row.restarts),
                          std::to_string(seed), std::to_string(max_iterations)},
                         out_json);
    if (rc == 0) {
      std::ifstream in(out_json);
      std::string line, last;
      while (std::getline(in, line)) {
        if (!line.empty() && line[0] == '{') last = line;
      }
      const nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
      if (!j.is_discarded()) {
        row.sk_fit = j.value("fit_seconds", 0.0);
        row.sk_predict = j.value("predict_seconds", 0.0);
        row.sk_nlpd = j.value("nlpd", 0.0);
        row.sk_rmse = j.value("rmse", 0.0);
        row.sk_ok = true;
        std::cerr << "n=" << row.n << " sklearn: " << j.value("kernel", std::string()) << "\n";
      }
    }
    if (!row.sk_ok) std::cerr << "sklearn run failed (exit " << rc << "); see " << out_json << "\n";
    rows.push_back(row);
    std::cerr << "n=" << row.n << " sonar fit " << row.map.fit << " s, sklearn fit " << row.sk_fit
              << " s\n";
  }
  std::printf(
      "GP vs scikit-learn GaussianProcessRegressor: d=%d, %d test points, Matern 5/2 ARD, "
      "<= %d L-BFGS iterations per restart, sonar threads=%d\n\n",
      kDim, num_test, max_iterations, threads);
  std::printf(
      "Sonar MAP = default GpOptions (priors); Sonar ML = priors off (sklearn's objective). "
      "Ratios are sklearn time / Sonar time. NLPD: held-out mean negative log predictive "
      "density, noise included (lower is better).\n\n");
  std::printf(
      "| n | restarts | model | fit ratio | predict ratio | fit s | predict s | NLPD | "
      "RMSE |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    auto ratio = [&](double sk, double ours) {
      return r.sk_ok && ours > 0 ? std::to_string(sk / ours).substr(0, 5) + "x" : std::string("-");
    };
    std::printf("| %d | %d | Sonar MAP | %s | %s | %.2f | %.4f | %.4f | %.4f |\n", r.n, r.restarts,
                ratio(r.sk_fit, r.map.fit).c_str(), ratio(r.sk_predict, r.map.predict).c_str(),
                r.map.fit, r.map.predict, r.map.nlpd, r.map.rmse);
    std::printf("| %d | %d | Sonar ML | %s | %s | %.2f | %.4f | %.4f | %.4f |\n", r.n, r.restarts,
                ratio(r.sk_fit, r.ml.fit).c_str(), ratio(r.sk_predict, r.ml.predict).c_str(),
                r.ml.fit, r.ml.predict, r.ml.nlpd, r.ml.rmse);
    if (r.sk_ok) {
      std::printf("| %d | %d | sklearn | 1x | 1x | %.2f | %.4f | %.4f | %.4f |\n", r.n, r.restarts,
                  r.sk_fit, r.sk_predict, r.sk_nlpd, r.sk_rmse);
    }
  }
  std::filesystem::remove_all(dir);
  if (scale) ScaleReport(seed);
  return 0;
}

}  // namespace
}  // namespace sonar

int main(int argc, char** argv) { return sonar::Main(argc, argv); }
