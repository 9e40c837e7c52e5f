// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// A user's own kernel, tuned from Python by tune.py: a blocked fp32 matrix multiply C = A * B
// (N x N), its schedule set by macros (-DBLOCK_I=.. -DBLOCK_J=.. -DBLOCK_K=.. -DUNROLL=..).
// The program checks its result against a naive multiply, times REPEATS runs and prints the
// median seconds of one run on stdout; it exits 1 on a wrong result.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef N
#define N 256
#endif
#ifndef BLOCK_I
#define BLOCK_I 32
#endif
#ifndef BLOCK_J
#define BLOCK_J 32
#endif
#ifndef BLOCK_K
#define BLOCK_K 32
#endif
#ifndef UNROLL
#define UNROLL 1
#endif
#ifndef REPEATS
#define REPEATS 7
#endif

#define SONAR_PRAGMA(x) _Pragma(#x)
#define SONAR_UNROLL(n) SONAR_PRAGMA(GCC unroll n)

static float a[N * N], b[N * N], c[N * N], ref[N * N];

static void matmul(void) {
  memset(c, 0, sizeof c);
  for (int ii = 0; ii < N; ii += BLOCK_I)
    for (int kk = 0; kk < N; kk += BLOCK_K)
      for (int jj = 0; jj < N; jj += BLOCK_J)
        for (int i = ii; i < ii + BLOCK_I && i < N; ++i)
          for (int k = kk; k < kk + BLOCK_K && k < N; ++k) {
            const float aik = a[i * N + k];
#if UNROLL > 1
            SONAR_UNROLL(UNROLL)
#endif
            for (int j = jj; j < jj + BLOCK_J && j < N; ++j) c[i * N + j] += aik * b[k * N + j];
          }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int compare(const void* x, const void* y) {
  const double d = *(const double*)x - *(const double*)y;
  return (d > 0) - (d < 0);
}

int main(void) {
  srand(1);
  for (int i = 0; i < N * N; ++i) {
    a[i] = (float)rand() / RAND_MAX - 0.5f;
    b[i] = (float)rand() / RAND_MAX - 0.5f;
  }
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < N; ++k) s += (double)a[i * N + k] * b[k * N + j];
      ref[i * N + j] = (float)s;
    }
  matmul();  // warm-up and check
  for (int i = 0; i < N * N; ++i) {
    const float d = c[i] - ref[i];
    if (d > 1e-3f || d < -1e-3f) {
      fprintf(stderr, "wrong result at %d: %g vs %g\n", i, c[i], ref[i]);
      return 1;
    }
  }
  double t[REPEATS];
  for (int r = 0; r < REPEATS; ++r) {
    const double start = now();
    matmul();
    t[r] = now() - start;
  }
  qsort(t, REPEATS, sizeof t[0], compare);
  printf("%.9g\n", t[REPEATS / 2]);
  return 0;
}
