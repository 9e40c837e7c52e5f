// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// Import speed, measured against the baseline in the same run:
//   1. Builds a file of N AutoTVM v0.2 lines (default 1,000,000) by repeating the real lines of
//      ../shared/datasets/autotvm_cuda_v100_nnfusion and autotvm_tophub.
//   2. Times Sonar's import of that file into Records (read + parse + convert): streamed to a
//      sink, as `sonar import` reads a file; the same with the AutoTVM fast reader off; and
//      into memory (a vector of all records).
//   3. Times Python's json.loads on the same lines (what TVM's own loader does per line), in a
//      child python3 started without a shell; only the json.loads loop is timed there.
//   4. Times appending the records to a RecordStore and reading the log back.
// Prints the per-record ratio Python/Sonar (goal >= 10) and the read-back seconds (goal < 5).
//
// Usage: import_benchmark [--lines N] [--python PATH] [--keep DIR]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "measure/history_io.h"
#include "measure/record_store.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The real lines of the AutoTVM histories, verbatim (comments dropped).
std::vector<std::string> RealLines(const std::string& datasets) {
  std::vector<std::string> lines;
  for (const char* rel : {"autotvm_cuda_v100_nnfusion/conv2d_records_v0.2.jsonl.gz",
                          "autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz",
                          "autotvm_cuda_v100_nnfusion/matmul_records_v0.2.jsonl.gz",
                          "autotvm_tophub/cuda_v0.10.log", "autotvm_tophub/llvm_v0.04.log"}) {
    const std::string path = datasets + "/" + rel;
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "cannot open %s\n", path.c_str());
      std::exit(1);
    }
    std::string text;
    char buf[1 << 16];
    int got;
    while ((got = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(got));
    gzclose(f);
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '#') lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 1000000;
  std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--lines")
      n = std::atoll(argv[i + 1]);
    else if (flag == "--python")
      python = argv[i + 1];
    else if (flag == "--keep")
      keep = argv[i + 1];
  }
  const std::string datasets = std::string(SONAR_SHARED_DIR) + "/datasets";
  if (!std::filesystem::is_directory(datasets)) {
    std::printf("SKIP: %s is absent; this benchmark repeats real AutoTVM lines from it\n",
                datasets.c_str());
    return 0;
  }
  const std::vector<std::string> real = RealLines(datasets);
  const std::string dir = keep.empty() ? std::filesystem::temp_directory_path().string() : keep;
  const std::string log_path = dir + "/sonar_import_bench.log";
  const std::string store_path = dir + "/sonar_import_bench.sonar";
  {
    std::ofstream out(log_path, std::ios::trunc);
    for (int64_t i = 0; i < n; ++i) out << real[static_cast<size_t>(i) % real.size()] << '\n';
  }
  const double mb = static_cast<double>(std::filesystem::file_size(log_path)) / 1e6;
  std::printf("input: %lld AutoTVM v0.2 lines (%zu distinct real lines repeated), %.0f MB\n",
              static_cast<long long>(n), real.size(), mb);

  // Sonar, streaming (as TVM's load_from_file yields records one by one and the Python loop
  // below drops each parsed line): read + parse + build every Record, handed to a sink that
  // reads it. Then the same into memory (a vector of all records), which the store phase uses.
  sonar::ImportOptions options;
  options.log_skips = false;
  sonar::ImportReport report;
  double checksum = 0;
  auto t0 = Clock::now();
  sonar::Status streamed = sonar::ImportHistory(
      log_path, options,
      [&](sonar::Record&& r) {
        checksum += r.result.run_seconds.empty() ? 0 : r.result.run_seconds[0];
      },
      &report);
  auto t1 = Clock::now();
  if (!streamed.ok() || report.records != n) {
    std::fprintf(stderr, "streaming import failed or miscounted\n");
    return 1;
  }
  const double sonar_s = Seconds(t0, t1);
  // The same with the AutoTVM fast reader off: every line through the general (DOM) reader.
  sonar::ImportOptions general_options = options;
  general_options.autotvm_fast_path = false;
  double general_checksum = 0;
  auto t0g = Clock::now();
  sonar::Status general = sonar::ImportHistory(
      log_path, general_options,
      [&](sonar::Record&& r) {
        general_checksum += r.result.run_seconds.empty() ? 0 : r.result.run_seconds[0];
      },
      &report);
  auto t1g = Clock::now();
  if (!general.ok() || report.records != n || general_checksum != checksum) {
    std::fprintf(stderr, "general-reader import failed or disagrees with the fast one\n");
    return 1;
  }
  const double general_s = Seconds(t0g, t1g);
  auto t0m = Clock::now();
  auto records = sonar::ImportHistoryFile(log_path, options, &report);
  auto t1m = Clock::now();
  if (!records.ok() || report.records != n) {
    std::fprintf(stderr, "import failed or miscounted: %lld of %lld\n",
                 static_cast<long long>(report.records), static_cast<long long>(n));
    return 1;
  }
  const double sonar_memory_s = Seconds(t0m, t1m);

  // Python json.loads on the same lines (only the loop is timed, in the child).
  const std::string script =
      "import json,sys,time\n"
      "lines=open(sys.argv[1]).read().splitlines()\n"
      "t=time.perf_counter()\n"
      "for l in lines: json.loads(l)\n"
      "print(time.perf_counter()-t, len(lines))\n";
  const std::string out_path = dir + "/sonar_import_bench_py.txt";
  std::vector<std::string> args = {python, "-c", script, log_path};
  std::vector<char*> argvp;
  for (std::string& a : args) argvp.push_back(a.data());
  argvp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  pid_t pid;
  double python_s = -1;
  long long python_lines = 0;
  if (posix_spawnp(&pid, python.c_str(), &actions, nullptr, argvp.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    std::ifstream in(out_path);
    in >> python_s >> python_lines;
  }
  posix_spawn_file_actions_destroy(&actions);

  // RecordStore: append everything, then read the log back.
  std::filesystem::remove(store_path);
  auto t2 = Clock::now();
  {
    auto store = sonar::RecordStore::Open(store_path, {});
    if (!store.ok()) return 1;
    const size_t chunk = 65536;
    for (size_t i = 0; i < records->size(); i += chunk) {
      std::vector<sonar::Record> part(
          records->begin() + static_cast<std::ptrdiff_t>(i),
          records->begin() + static_cast<std::ptrdiff_t>(std::min(records->size(), i + chunk)));
      if (!store->AppendBatch(part).ok()) return 1;
    }
  }
  auto t3 = Clock::now();
  sonar::RecordLogStats stats;
  auto back = sonar::ReadRecordLog(store_path, &stats);
  auto t4 = Clock::now();
  const double store_mb = static_cast<double>(std::filesystem::file_size(store_path)) / 1e6;
  if (!back.ok() || static_cast<int64_t>(back->size()) != n) return 1;

  std::printf("sonar import, streamed: %8.3f s  %7.3f us/record  (checksum %.6g)\n", sonar_s,
              1e6 * sonar_s / n, checksum);
  std::printf("sonar import, into memory: %8.3f s  %7.3f us/record\n", sonar_memory_s,
              1e6 * sonar_memory_s / n);
  std::printf("sonar import, streamed, general reader only: %8.3f s  %7.3f us/record\n", general_s,
              1e6 * general_s / n);
  if (python_s > 0 && python_lines == n) {
    std::printf("python json.loads:    %8.3f s  %7.3f us/record  (%s)\n", python_s,
                1e6 * python_s / n, python.c_str());
    std::printf("ratio python/sonar (streamed):   %6.1fx   (goal >= 10x)\n", python_s / sonar_s);
    std::printf("ratio python/sonar (into memory): %6.1fx\n", python_s / sonar_memory_s);
    std::printf("ratio python/sonar (streamed, general reader only): %6.1fx\n",
                python_s / general_s);
  } else {
    std::printf("python json.loads:    not run (could not start %s)\n", python.c_str());
  }
  std::printf("record log append:    %8.3f s  (%.0f MB)\n", Seconds(t2, t3), store_mb);
  std::printf("record log read back: %8.3f s  %7.3f us/record  (goal < 5 s)\n", Seconds(t3, t4),
              1e6 * Seconds(t3, t4) / n);
  if (keep.empty()) {
    std::filesystem::remove(log_path);
    std::filesystem::remove(store_path);
    std::filesystem::remove(out_path);
  }
  return 0;
}
