// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// CPUID decoding and the probe kernels. Each SIMD kernel is compiled for its own target with
// __attribute__((target(...))) and only called when CPUID (and XCR0) say the CPU runs it.
#include "measure/hardware_probes.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#define SONAR_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace sonar::internal {

#if defined(SONAR_X86)
namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs Cpuid(unsigned leaf, unsigned subleaf = 0) {
  Regs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

uint64_t Xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool Bit(unsigned reg, int bit) { return ((reg >> bit) & 1u) != 0; }

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

void ReadCacheLeaf(unsigned leaf, std::vector<CpuidCache>* out) {
  for (unsigned sub = 0; sub < 16; ++sub) {
    const Regs r = Cpuid(leaf, sub);
    const unsigned type = r.a & 0x1f;
    if (type == 0) break;
    CpuidCache c;
    c.level = static_cast<int>((r.a >> 5) & 0x7);
    c.type = type == 1 ? "data" : type == 2 ? "instruction" : "unified";
    const int64_t ways = ((r.b >> 22) & 0x3ff) + 1;
    const int64_t partitions = ((r.b >> 12) & 0x3ff) + 1;
    const int64_t line = (r.b & 0xfff) + 1;
    const int64_t sets = static_cast<int64_t>(r.c) + 1;
    c.line_bytes = static_cast<int>(line);
    c.size_bytes = ways * partitions * line * sets;
    if (type <= 3) out->push_back(c);
  }
}

}  // namespace

CpuidFacts ReadCpuid() {
  CpuidFacts f;
  f.valid = true;
  const Regs r0 = Cpuid(0);
  const unsigned max_leaf = r0.a;
  char vendor[13];
  std::memcpy(vendor, &r0.b, 4);
  std::memcpy(vendor + 4, &r0.d, 4);
  std::memcpy(vendor + 8, &r0.c, 4);
  vendor[12] = '\0';
  f.vendor = vendor;

  const Regs r1 = Cpuid(1);
  const int base_family = static_cast<int>((r1.a >> 8) & 0xf);
  const int base_model = static_cast<int>((r1.a >> 4) & 0xf);
  f.stepping = static_cast<int>(r1.a & 0xf);
  f.family = base_family == 0xf ? base_family + static_cast<int>((r1.a >> 20) & 0xff) : base_family;
  f.model = (base_family == 0x6 || base_family == 0xf)
                ? base_model | (static_cast<int>((r1.a >> 16) & 0xf) << 4)
                : base_model;
  f.sse = Bit(r1.d, 25);
  f.sse2 = Bit(r1.d, 26);
  f.sse3 = Bit(r1.c, 0);
  f.ssse3 = Bit(r1.c, 9);
  f.sse4_1 = Bit(r1.c, 19);
  f.sse4_2 = Bit(r1.c, 20);
  const bool osxsave = Bit(r1.c, 27);
  const uint64_t xcr0 = osxsave ? Xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;
  f.avx = Bit(r1.c, 28) && os_ymm;
  f.fma = Bit(r1.c, 12) && os_ymm;
  if (max_leaf >= 7) {
    const Regs r7 = Cpuid(7, 0);
    f.avx2 = Bit(r7.b, 5) && os_ymm;
    f.avx512f = Bit(r7.b, 16) && os_zmm;
    f.avx512dq = Bit(r7.b, 17) && os_zmm;
    f.avx512bw = Bit(r7.b, 30) && os_zmm;
    f.avx512vl = Bit(r7.b, 31) && os_zmm;
    f.avx512_vnni = Bit(r7.c, 11) && os_zmm;
  }

  const unsigned max_ext = Cpuid(0x80000000).a;
  if (max_ext >= 0x80000004) {
    char brand[49];
    for (unsigned i = 0; i < 3; ++i) {
      const Regs r = Cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r.a, 4);
      std::memcpy(brand + 16 * i + 4, &r.b, 4);
      std::memcpy(brand + 16 * i + 8, &r.c, 4);
      std::memcpy(brand + 16 * i + 12, &r.d, 4);
    }
    brand[48] = '\0';
    f.brand = Trim(brand);
  }
  const bool amd_like = f.vendor == "AuthenticAMD" || f.vendor == "HygonGenuine";
  if (amd_like) {
    const bool topoext = max_ext >= 0x80000001 && Bit(Cpuid(0x80000001).c, 22);
    if (topoext && max_ext >= 0x8000001d) ReadCacheLeaf(0x8000001d, &f.caches);
  } else if (max_leaf >= 4) {
    ReadCacheLeaf(4, &f.caches);
  }
  return f;
}

#else  // not x86

CpuidFacts ReadCpuid() { return CpuidFacts{}; }

#endif

const char* FmaVariantName(FmaVariant v) {
  switch (v) {
    case FmaVariant::kScalar: return "scalar";
    case FmaVariant::kSse: return "sse";
    case FmaVariant::kAvxFma: return "avx_fma";
    case FmaVariant::kAvx512: return "avx512f";
  }
  return "scalar";
}

FmaVariant BestFmaVariant(const CpuidFacts& f) {
#if defined(SONAR_X86)
  if (f.avx512f) return FmaVariant::kAvx512;
  if (f.avx && f.fma) return FmaVariant::kAvxFma;
  if (f.sse) return FmaVariant::kSse;
#endif
  (void)f;
  return FmaVariant::kScalar;
}

// Twelve independent chains: more than FMA latency (4-5 cycles) x FMA ports (2) on current
// cores, so the loop is bound by throughput, not latency; all fit in 16 vector registers.
constexpr int kChains = 12;

int64_t FmaFlopsPerIteration(FmaVariant v) {
  switch (v) {
    case FmaVariant::kScalar: return 2 * kChains;
    case FmaVariant::kSse: return 2 * 4 * kChains;
    case FmaVariant::kAvxFma: return 2 * 8 * kChains;
    case FmaVariant::kAvx512: return 2 * 16 * kChains;
  }
  return 0;
}

namespace {

// acc = acc * a + b converges to b / (1 - a) = 1: no overflow, no denormals.
constexpr float kA = 0.9999f;
constexpr float kB = 0.0001f;

float FmaScalar(int64_t iterations) {
  float acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = 0.5f + 0.01f * static_cast<float>(j);
  volatile float va = kA, vb = kB;  // keep the constants opaque to the optimizer
  const float a = va, b = vb;
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < kChains; ++j) acc[j] = acc[j] * a + b;
  }
  float s = 0;
  for (int j = 0; j < kChains; ++j) s += acc[j];
  return s;
}

#if defined(SONAR_X86)
#define SONAR_FMA_BODY(VEC, SET1, STEP, STORE)                                  \
  volatile float va = kA, vb = kB;                                              \
  const VEC a = SET1(va), b = SET1(vb);                                         \
  VEC c0 = SET1(0.50f), c1 = SET1(0.51f), c2 = SET1(0.52f), c3 = SET1(0.53f);   \
  VEC c4 = SET1(0.54f), c5 = SET1(0.55f), c6 = SET1(0.56f), c7 = SET1(0.57f);   \
  VEC c8 = SET1(0.58f), c9 = SET1(0.59f), c10 = SET1(0.60f), c11 = SET1(0.61f); \
  for (int64_t i = 0; i < iterations; ++i) {                                    \
    c0 = STEP(c0, a, b);                                                        \
    c1 = STEP(c1, a, b);                                                        \
    c2 = STEP(c2, a, b);                                                        \
    c3 = STEP(c3, a, b);                                                        \
    c4 = STEP(c4, a, b);                                                        \
    c5 = STEP(c5, a, b);                                                        \
    c6 = STEP(c6, a, b);                                                        \
    c7 = STEP(c7, a, b);                                                        \
    c8 = STEP(c8, a, b);                                                        \
    c9 = STEP(c9, a, b);                                                        \
    c10 = STEP(c10, a, b);                                                      \
    c11 = STEP(c11, a, b);                                                      \
  }                                                                             \
  VEC s = c0;                                                                   \
  s = ADD(s, c1);                                                               \
  s = ADD(s, c2);                                                               \
  s = ADD(s, c3);                                                               \
  s = ADD(s, c4);                                                               \
  s = ADD(s, c5);                                                               \
  s = ADD(s, c6);                                                               \
  s = ADD(s, c7);                                                               \
  s = ADD(s, c8);                                                               \
  s = ADD(s, c9);                                                               \
  s = ADD(s, c10);                                                              \
  s = ADD(s, c11);                                                              \
  float lanes[sizeof(VEC) / sizeof(float)];                                     \
  STORE(lanes, s);                                                              \
  float sum = 0;                                                                \
  for (float x : lanes) sum += x; /* depends on every lane of every chain */    \
  return sum;

__attribute__((target("sse"))) float FmaSse(int64_t iterations) {
#define STEP(x, a, b) _mm_add_ps(_mm_mul_ps(x, a), b)
#define ADD _mm_add_ps
#define STORE _mm_storeu_ps
  SONAR_FMA_BODY(__m128, _mm_set1_ps, STEP, STORE)
#undef STEP
#undef ADD
#undef STORE
}

__attribute__((target("avx,fma"))) float FmaAvx(int64_t iterations) {
#define STEP(x, a, b) _mm256_fmadd_ps(x, a, b)
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
  SONAR_FMA_BODY(__m256, _mm256_set1_ps, STEP, STORE)
#undef STEP
#undef ADD
#undef STORE
}

__attribute__((target("avx512f"))) float FmaAvx512(int64_t iterations) {
#define STEP(x, a, b) _mm512_fmadd_ps(x, a, b)
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
  SONAR_FMA_BODY(__m512, _mm512_set1_ps, STEP, STORE)
#undef STEP
#undef ADD
#undef STORE
}
#undef SONAR_FMA_BODY
#endif

}  // namespace

float RunFmaKernel(FmaVariant v, int64_t iterations) {
  switch (v) {
#if defined(SONAR_X86)
    case FmaVariant::kSse: return FmaSse(iterations);
    case FmaVariant::kAvxFma: return FmaAvx(iterations);
    case FmaVariant::kAvx512: return FmaAvx512(iterations);
#endif
    default: return FmaScalar(iterations);
  }
}

void TriadKernel(double* __restrict a, const double* __restrict b, const double* __restrict c,
                 double s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

uint64_t ChaseKernel(const uint64_t* next, int64_t loads, uint64_t start) {
  uint64_t p = start;
  int64_t i = 0;
  for (; i + 8 <= loads; i += 8) {
    p = next[p];
    p = next[p];
    p = next[p];
    p = next[p];
    p = next[p];
    p = next[p];
    p = next[p];
    p = next[p];
  }
  for (; i < loads; ++i) p = next[p];
  return p;
}

}  // namespace sonar::internal
