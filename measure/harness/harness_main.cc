// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// The main() of every measured kernel binary. Sonar compiles it together with one generated
// (or user) kernel translation unit that defines the three functions of the harness contract:
//
//   extern "C" void* sonar_init(unsigned long long seed);  // allocate, fill inputs from `seed`
//   extern "C" void sonar_run(void* state);                // the timed call
//   extern "C" double sonar_check(void* state);            // after a run: max relative error
//                                                          // against a reference, or a negative
//                                                          // value when it has no reference
//
// Usage: kernel WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED
// Prints one JSON line on stdout:
//   {"max_error": E, "number": N, "run_seconds": [s, ...]}   (seconds per call, one per repeat)
// A crash, a hang or a wrong answer is classified by the parent from the exit status, the
// timeout and max_error; this program never decides them itself.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" void* sonar_init(unsigned long long seed);
extern "C" void sonar_run(void* state);
extern "C" double sonar_check(void* state);

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s WARMUP NUMBER REPEAT MIN_REPEAT_MS CHECK SEED\n", argv[0]);
    return 64;
  }
  const int warmup = std::atoi(argv[1]);
  long long number = std::atoll(argv[2]);
  const int repeat = std::atoi(argv[3]);
  const double min_repeat_s = std::atof(argv[4]) * 1e-3;
  const bool check = std::atoi(argv[5]) != 0;
  const unsigned long long seed = std::strtoull(argv[6], nullptr, 10);
  if (number < 1) number = 1;

  void* state = sonar_init(seed);
  sonar_run(state);
  double max_error = -1;
  if (check) max_error = sonar_check(state);
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
  for (int r = 0; r < repeat; ++r) seconds.push_back(time_calls(number) / static_cast<double>(number));

  std::printf("{\"max_error\": %.9g, \"number\": %lld, \"run_seconds\": [", max_error, number);
  for (size_t i = 0; i < seconds.size(); ++i) std::printf("%s%.9g", i ? ", " : "", seconds[i]);
  std::printf("]}\n");
  return 0;
}
