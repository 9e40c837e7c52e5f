// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "tuner/search/search_outputs.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/statistics.h"
#include "measure/child_process.h"

namespace sonar {
namespace {

Status MakeDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InvalidArgumentError("cannot create " + dir + ": " + ec.message());
  return OkStatus();
}

// Writes the gnuplot script and runs it; adds the SVG to `written` when it was made.
void Plot(const std::string& script_path, const std::string& script, const std::string& svg,
          std::vector<std::string>* written) {
  std::ofstream(script_path) << script;
  if (RunGnuplot(script_path) && std::filesystem::exists(svg)) written->push_back(svg);
}

}  // namespace

StatusOr<std::vector<std::string>> WriteSearchOutputs(const SearchProblem& problem,
                                                      const SearchSummary& summary,
                                                      const SearchTrace& trace,
                                                      const std::string& dir) {
  SONAR_RETURN_IF_ERROR(MakeDir(dir));
  std::vector<std::string> written;
  const SearchState& st = summary.state;
  const std::vector<int> front = summary.front;
  {
    const std::string path = dir + "/candidates.csv";
    std::ofstream out(path);
    out << "architecture,epochs,accuracy,latency_seconds,alive,failed,on_front\n";
    for (size_t c = 0; c < st.candidates.size(); ++c) {
      const int ci = static_cast<int>(c);
      const double acc = st.Accuracy(ci), lat = st.Latency(ci);
      out << problem.architecture(ci).Name() << ',' << st.candidates[c].accuracy.size() << ',';
      if (!std::isnan(acc)) out << acc;
      out << ',';
      if (std::isfinite(lat)) out << lat;
      out << ',' << st.candidates[c].alive << ',' << st.candidates[c].failed << ','
          << (std::find(front.begin(), front.end(), ci) != front.end()) << '\n';
    }
    if (!out) return InternalError("cannot write " + path);
    written.push_back(path);
  }
  {
    const std::string path = dir + "/time.csv";
    std::ofstream out(path);
    out << "step,train_seconds,tune_seconds,front_size\n";
    for (size_t i = 0; i < trace.train_seconds.size(); ++i) {
      out << i + 1 << ',' << trace.train_seconds[i] << ',' << trace.tune_seconds[i] << ','
          << trace.front_size[i] << '\n';
    }
    if (!out) return InternalError("cannot write " + path);
    written.push_back(path);
  }
  {
    // Front data: every candidate with both estimates (grey), the front (line, labels).
    std::ofstream all(dir + "/front_all.dat"), on(dir + "/front.dat");
    for (size_t c = 0; c < st.candidates.size(); ++c) {
      const double acc = st.Accuracy(static_cast<int>(c)), lat = st.Latency(static_cast<int>(c));
      if (!std::isnan(acc) && std::isfinite(lat)) all << lat * 1e6 << ' ' << acc << '\n';
    }
    for (int c : front) {
      on << st.Latency(c) * 1e6 << ' ' << st.Accuracy(c) << ' ' << problem.architecture(c).Name()
         << '\n';
    }
  }
  Plot(dir + "/front.gp",
       "set terminal svg size 900,600\nset output '" + dir +
           "/front.svg'\nset title 'Accuracy / latency front'\nset xlabel 'latency on this "
           "machine, sum of tuned layers (us)'\nset ylabel 'validation accuracy'\nset logscale "
           "x\nset key bottom right\nplot '" +
           dir +
           "/front_all.dat' using 1:2 with points pt 7 ps 0.4 lc rgb '#aaaaaa' title "
           "'candidates (latency so far)', '" +
           dir +
           "/front.dat' using 1:2 with linespoints pt 7 lw 2 title 'front', '' using "
           "1:2:3 with labels offset 1,0.5 left font ',8' notitle\n",
       dir + "/front.svg", &written);
  Plot(dir + "/time.gp",
       "set terminal svg size 900,500\nset output '" + dir +
           "/time.svg'\nset title 'Where the search spent its time'\nset xlabel 'step (an "
           "epoch or a batch of trials)'\nset ylabel 'charged seconds'\nset datafile separator "
           "','\nset key top left\nplot '" +
           dir +
           "/time.csv' every ::1 using 1:2 with lines lw 2 title 'training', '' every ::1 "
           "using 1:3 with lines lw 2 title 'measuring'\n",
       dir + "/time.svg", &written);
  return written;
}

StatusOr<std::vector<std::string>> WriteReplayOutputs(const ReplayResult& result,
                                                      const std::string& dir) {
  SONAR_RETURN_IF_ERROR(MakeDir(dir));
  std::vector<std::string> written;
  {
    const std::string path = dir + "/summary.json";
    std::ofstream(path) << ReplaySummaryJson(result) << '\n';
    written.push_back(path);
  }
  {
    const std::string path = dir + "/seconds_to_front.csv";
    std::ofstream out(path);
    out << "method,seed,seconds,reached\n";
    for (const ReplayMethodResult& m : result.methods) {
      for (size_t s = 0; s < m.seconds_to_front.size(); ++s) {
        out << SearchMethodToString(m.method) << ',' << s << ',' << m.seconds_to_front[s] << ','
            << m.reached[s] << '\n';
      }
    }
    written.push_back(path);
  }
  {
    const std::string path = dir + "/hypervolume.csv";
    std::ofstream out(path);
    out << "method,seed,seconds,hypervolume_ratio\n";
    for (const ReplayMethodResult& m : result.methods) {
      for (size_t s = 0; s < m.hypervolume_curve.size(); ++s) {
        for (const auto& [t, hv] : m.hypervolume_curve[s]) {
          out << SearchMethodToString(m.method) << ',' << s << ',' << t << ',' << hv << '\n';
        }
      }
    }
    written.push_back(path);
  }
  // Median over seeds of the hypervolume ratio on a log grid of charged seconds.
  const double end = std::max(1.0, result.brute_force_seconds);
  std::string plots;
  for (const ReplayMethodResult& m : result.methods) {
    const std::string name(SearchMethodToString(m.method));
    std::ofstream data(dir + "/hv_" + name + ".dat");
    for (int i = 0; i <= 60; ++i) {
      const double t = end * std::pow(10.0, -3.0 + 3.0 * i / 60);
      std::vector<double> at;
      for (size_t s = 0; s < m.hypervolume_curve.size(); ++s) {
        double v = 0;
        for (const auto& [ts, hv] : m.hypervolume_curve[s]) {
          if (ts <= t) v = hv;
        }
        // A run that reached the front stopped there; it keeps its value.
        at.push_back(v);
      }
      data << t << ' ' << Median(at) << '\n';
    }
    plots += std::string(plots.empty() ? "" : ", ") + "'" + dir + "/hv_" + name +
             ".dat' using 1:2 with lines lw 2 title '" + name + "'";
  }
  Plot(dir + "/hypervolume.gp",
       "set terminal svg size 900,550\nset output '" + dir +
           "/hypervolume.svg'\nset title 'Replay: hypervolume of the answer (median over "
           "seeds)'\nset xlabel 'charged seconds'\nset ylabel 'fraction of the true front''s "
           "hypervolume'\nset logscale x\nset yrange [0:1.05]\nset key bottom right\nplot " +
           plots + "\n",
       dir + "/hypervolume.svg", &written);
  return written;
}

}  // namespace sonar
