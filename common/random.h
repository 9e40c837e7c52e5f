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

#include <cstdint>
#include <random>

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

}  // namespace sonar
