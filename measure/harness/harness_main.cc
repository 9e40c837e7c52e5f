// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The main() of every measured kernel binary. Sonar compiles it (once per compiler and flags,
// into a cached object) and links it with one generated (or user) kernel translation unit that
// defines the functions of the harness contract:
//
//   extern "C" void* sonar_init(unsigned long long seed);  // allocate, fill inputs from `seed`
//   extern "C" void sonar_run(void* state);                // the timed call
//   extern "C" double sonar_check(void* state);            // optional: after a run, the max
//                                                          // relative error |y-ref|/(|ref|+1)
//                                                          // against a reference, or a negative
//                                                          // value when it has no reference
//   extern "C" const float* sonar_output(void* state,      // optional: the output buffer and
//                                        unsigned long long* n);  // its length in floats
//
// sonar_check and sonar_output are weak here: a kernel may leave them out. When the parent
// passes OUTPUT_FILE, the output of sonar_output after the first run is written there (raw
// native floats) so the parent can compare configs with each other (user kernels without a
// reference function are checked against the first config that ran).
//
// Usage: kernel WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED [OUTPUT_FILE]
// Prints one JSON line on stdout (the last line that starts with {"sonar":):
//   {"sonar": 1, "max_error": E, "number": N, "output_floats": F, "run_seconds": [s, ...]}
// (seconds per call, one per repeat; E is null when the check produced NaN). A crash, a hang or a
// wrong answer is classified by the parent from the exit status, the timeout and max_error; this
// program decides none of them itself. It exits 3 with a message when memory runs out
// (std::bad_alloc, e.g. under the parent's address-space limit).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

extern "C" void* sonar_init(unsigned long long seed);
extern "C" void sonar_run(void* state);
extern "C" __attribute__((weak)) double sonar_check(void* state);
extern "C" __attribute__((weak)) const float* sonar_output(void* state, unsigned long long* n);

namespace {

int RunHarness(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: %s WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED [OUTPUT_FILE]\n",
                 argv[0]);
    return 64;
  }
  const int warmup = std::atoi(argv[1]);
  long long number = std::atoll(argv[2]);
  const int repeat = std::atoi(argv[3]);
  const double min_repeat_s = std::atof(argv[4]) * 1e-3;
  const bool check = std::atoi(argv[5]) != 0;
  const unsigned long long seed = std::strtoull(argv[6], nullptr, 10);
  const char* output_file = argc == 8 ? argv[7] : nullptr;
  if (number < 1) number = 1;

  void* state = sonar_init(seed);
  sonar_run(state);
  double max_error = -1;
  if (check && sonar_check != nullptr) max_error = sonar_check(state);
  unsigned long long output_floats = 0;
  if (output_file != nullptr && sonar_output != nullptr) {
    const float* out = sonar_output(state, &output_floats);
    std::FILE* f = std::fopen(output_file, "wb");
    if (f == nullptr || (output_floats > 0 && out != nullptr &&
                         std::fwrite(out, sizeof(float), output_floats, f) != output_floats)) {
      std::fprintf(stderr, "sonar harness: cannot write the output to %s\n", output_file);
      return 4;
    }
    std::fclose(f);
  }
  for (int i = 0; i < warmup; ++i) sonar_run(state);

  using Clock = std::chrono::steady_clock;
  auto time_calls = [&](long long n) {
    const auto t0 = Clock::now();
    for (long long i = 0; i < n; ++i) sonar_run(state);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  // Scale `number` until one repeat lasts at least min_repeat_s (TVM's min_repeat_ms rule).
  double elapsed = time_calls(number);
  while (elapsed < min_repeat_s && number < (1LL << 40)) {
    const double factor = elapsed > 0 ? 1.2 * min_repeat_s / elapsed : 16.0;
    number = static_cast<long long>(std::ceil(number * std::min(std::max(factor, 2.0), 1024.0)));
    elapsed = time_calls(number);
  }
  std::vector<double> seconds;
  for (int r = 0; r < repeat; ++r) {
    seconds.push_back(time_calls(number) / static_cast<double>(number));
  }

  std::printf("{\"sonar\": 1, \"max_error\": ");
  if (std::isnan(max_error)) {
    std::printf("null");
  } else if (std::isinf(max_error)) {
    std::printf("1e308");
  } else {
    std::printf("%.9g", max_error);
  }
  std::printf(", \"number\": %lld, \"output_floats\": %llu, \"run_seconds\": [", number,
              output_floats);
  for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.9g", i ? ", " : "", seconds[i]);
  std::printf("]}\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return RunHarness(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "sonar harness: out of memory (std::bad_alloc)\n");
    return 3;
  }
}
