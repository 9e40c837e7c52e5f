// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the one home of Sonar's parallel loops, both running on up to
// `threads` threads (the calling thread included) and returning when all work is done:
//   - ParallelFor: [0, n) split into contiguous ranges, one per thread (cheap, even work);
//   - ParallelForEach: items 0..n-1 handed out one at a time to whichever thread is free (uneven
//     work: builds, model fits, tuning runs).
//
// Example:
//   std::vector<double> y(x.size());
//   ParallelFor(x.size(), 0, [&](size_t begin, size_t end) {
//     for (size_t i = begin; i < end; ++i) y[i] = f(x[i]);
//   });
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace sonar {

// Runs fn(begin, end) over contiguous ranges covering [0, n), one range per thread. `threads` <= 0
// means one per core. Ranges are equal in size (the last may be shorter); with n below
// `min_per_thread` per thread fewer threads are used, and with one range fn runs on the caller.
// Thread safety: fn is called concurrently on disjoint ranges.
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn, size_t min_per_thread = 1) {
  if (n == 0) return;
  size_t t = threads > 0 ? static_cast<size_t>(threads)
                         : std::max<size_t>(1, std::thread::hardware_concurrency());
  t = std::clamp<size_t>(std::min(t, n / std::max<size_t>(min_per_thread, 1)), 1, 64);
  if (t == 1) {
    fn(size_t{0}, n);
    return;
  }
  const size_t per = (n + t - 1) / t;
  std::vector<std::thread> pool;
  for (size_t i = 1; i < t && i * per < n; ++i) {
    pool.emplace_back([&fn, i, per, n] { fn(i * per, std::min(n, (i + 1) * per)); });
  }
  fn(size_t{0}, std::min(n, per));
  for (std::thread& th : pool) th.join();
}

// Runs fn(i) for every i in [0, n), each once, on up to `threads` threads (<= 0: one per core;
// never more than n), items taken in index order by whichever thread is free. Results must not
// depend on which thread runs an item. Thread safety: fn is called concurrently on distinct i.
template <typename Fn>
void ParallelForEach(size_t n, int threads, Fn&& fn) {
  if (n == 0) return;
  size_t t = threads > 0 ? static_cast<size_t>(threads)
                         : std::max<size_t>(1, std::thread::hardware_concurrency());
  t = std::clamp<size_t>(t, 1, n);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t i = 1; i < t; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
}

}  // namespace sonar
