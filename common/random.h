// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: Rng, the one random-number engine of Sonar, and seeding helpers.
// There is no global RNG and no std::random_device: every random component owns an Rng seeded
// from its options, so the same seed gives the same results on every machine.
//
// Example:
//   Rng rng = MakeRng(options.seed, /*stream=*/3);
//   int64_t i = UniformInt(rng, 0, 9);
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace sonar {

using Rng = std::mt19937_64;

// A well-mixed 64-bit value from `x` (splitmix64). Stable across platforms.
inline uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// An engine for sub-stream `stream` of `seed`: different streams are independent.
inline Rng MakeRng(uint64_t seed, uint64_t stream = 0) {
  return Rng(MixSeed(seed ^ MixSeed(stream + 1)));
}

// Uniform integer in [lo, hi], both inclusive. Implemented here (not with
// std::uniform_int_distribution) so the sequence is identical across standard libraries.
// requires: lo <= hi.
inline int64_t UniformInt(Rng& rng, int64_t lo, int64_t hi) {
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (range == UINT64_MAX) return static_cast<int64_t>(rng());
  const uint64_t n = range + 1;
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % n);  // reject to avoid modulo bias
  uint64_t r;
  do {
    r = rng();
  } while (r >= limit);
  return lo + static_cast<int64_t>(r % n);
}

// Uniform double in [0, 1), 53 random bits; identical across standard libraries.
inline double UniformDouble(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// A standard normal draw from two UniformDouble draws (Box-Muller); identical across standard
// libraries (std::normal_distribution is not).
inline double StandardNormal(Rng& rng) {
  double u1 = UniformDouble(rng);
  const double u2 = UniformDouble(rng);
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// min(n, k) distinct indices of 0..n-1 drawn uniformly (a partial Fisher-Yates shuffle), in
// increasing order; all of them when n <= k. requires: n >= 0, k >= 0.
inline std::vector<int64_t> RandomSubset(int64_t n, int64_t k, Rng& rng) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
  if (n <= k) return idx;
  for (int64_t i = 0; i < k; ++i) {
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(UniformInt(rng, i, n - 1))]);
  }
  idx.resize(static_cast<size_t>(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace sonar
