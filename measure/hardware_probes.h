// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the CPUID reader and the probe kernels behind DescribeThisMachine
// (FMA throughput, triad bandwidth, pointer chasing). The kernels carry their own target
// attributes (so they exist whatever the build's -march; SONAR_NATIVE may be off) and are picked at
// run time from CPUID. Internal to measure/hardware*.cc; not installed API.
//
// Example:
//   internal::CpuidFacts f = internal::ReadCpuid();
//   internal::FmaVariant v = internal::BestFmaVariant(f);
//   float sink = internal::RunFmaKernel(v, /*iterations=*/1 << 20);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sonar::internal {

// One cache reported by CPUID leaf 4 (Intel) or 0x8000001D (AMD).
struct CpuidCache {
  int level = 0;
  std::string type;  // "data", "instruction", "unified"
  int64_t size_bytes = 0;
  int line_bytes = 0;
};

// What CPUID says. `valid` is false on non-x86 builds; then every other field is unknown.
// A SIMD flag is true only when the CPU reports it and the OS saves its registers (XCR0).
struct CpuidFacts {
  bool valid = false;
  std::string vendor;
  std::string brand;
  int family = 0, model = 0, stepping = 0;
  bool sse = false, sse2 = false, sse3 = false, ssse3 = false, sse4_1 = false, sse4_2 = false;
  bool avx = false, avx2 = false, fma = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false, avx512_vnni = false;
  std::vector<CpuidCache> caches;
};

CpuidFacts ReadCpuid();

enum class FmaVariant { kScalar, kSse, kAvxFma, kAvx512 };
const char* FmaVariantName(FmaVariant v);
FmaVariant BestFmaVariant(const CpuidFacts& f);
// fp32 floating-point operations one iteration of RunFmaKernel performs (an FMA counts 2).
int64_t FmaFlopsPerIteration(FmaVariant v);
// Runs `iterations` iterations of independent accumulator chains; returns a value that depends
// on all of them (so the work cannot be optimized away).
float RunFmaKernel(FmaVariant v, int64_t iterations);

// a[i] = b[i] + s * c[i] for i < n.
void TriadKernel(double* a, const double* b, const double* c, double s, int64_t n);

// Follows `loads` dependent loads p = next[p] starting at `start`; returns the last p.
uint64_t ChaseKernel(const uint64_t* next, int64_t loads, uint64_t start);

}  // namespace sonar::internal
