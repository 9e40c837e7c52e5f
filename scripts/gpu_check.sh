#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every GPU check of the CUDA backend (docs/cuda.md), in one run on a machine with an NVIDIA GPU:
#   1. build with -DSONAR_WITH_CUDA=ON (tests included)
#   2. the CUDA tests (ctest -R Cuda): none may skip for want of a GPU
#   3. sonar hw describe --device N
#   4. spread: one dense 4096^3 config timed 20 times (max/min - 1 <= 2 %)
#   5. GEMM: tuned fp32 dense 4096^3 (BO, <= GEMM_TRIALS trials) vs cuBLAS SGEMM timed in the
#      same run (bench/cuda/cublas_sgemm.cu); the ratio is printed
#   6. transfer: transfer-bo from Kernel Tuner's convolution caches vs bo on the conv2d template
#      (4096 x 4096, 15 x 15), CONV_SEEDS seeds, trials to within 5 % of the best
# and prints a summary (PASS / FAIL / SKIP per check, the numbers). Exit 0 when nothing failed.
#
# Environment (all optional): DEVICE (0), BUILD (build-gpu), OUT ($BUILD/gpu_check), NVCC,
# JOBS (nproc), GEMM_TRIALS (300), GEMM_WALL_S (600), CONV_SEEDS (5), CONV_TRIALS (40),
# KT_DIR (../shared/datasets/kernel_tuner_cache), SKIP_BUILD=1 (reuse $BUILD).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEVICE="${DEVICE:-0}"
BUILD="${BUILD:-$ROOT/build-gpu}"
OUT="${OUT:-$BUILD/gpu_check}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 4)}"
GEMM_TRIALS="${GEMM_TRIALS:-300}"
GEMM_WALL_S="${GEMM_WALL_S:-600}"
CONV_SEEDS="${CONV_SEEDS:-5}"
CONV_TRIALS="${CONV_TRIALS:-40}"
KT_DIR="${KT_DIR:-$ROOT/../shared/datasets/kernel_tuner_cache}"
SONAR="$BUILD/sonar"
SUMMARY=()
FAILED=0

note() { printf '\n=== %s\n' "$*"; }
record() {  # record CHECK STATUS DETAIL
  SUMMARY+=("$(printf '%-10s %-5s %s' "$1" "$2" "$3")")
  if [[ "$2" == FAIL ]]; then FAILED=1; fi
}
# shellcheck disable=SC2317  # called by the EXIT trap
print_summary() {
  printf '\n================ gpu_check summary (device %s) ================\n' "$DEVICE"
  if ((${#SUMMARY[@]} == 0)); then
    echo "no check ran"
  else
    printf '%s\n' "${SUMMARY[@]}"
  fi
  printf 'outputs in %s\n' "$OUT"
}
trap print_summary EXIT

# ---- 0. the machine ----
NVCC="${NVCC:-$(command -v nvcc || true)}"
if [[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]]; then NVCC=/usr/local/cuda/bin/nvcc; fi
if [[ -z "$NVCC" ]]; then
  record setup FAIL "nvcc not found (set NVCC=/path/to/nvcc)"
  exit 1
fi
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader || true
else
  echo "note: nvidia-smi not found; the device query below decides whether there is a GPU"
fi
mkdir -p "$OUT"
NVCC_DIR="$(dirname "$NVCC")"
export PATH="$NVCC_DIR:$PATH"

# ---- 1. build ----
note "1. build with CUDA in $BUILD"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  if ! timeout 1800 cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSONAR_WITH_CUDA=ON -DSONAR_NVCC="$NVCC" -DSONAR_BUILD_BENCHMARKS=OFF >"$OUT/configure.log" 2>&1 ||
     ! timeout 1800 cmake --build "$BUILD" -j "$JOBS" >"$OUT/build.log" 2>&1; then
    tail -30 "$OUT/configure.log" "$OUT/build.log" 2>/dev/null || true
    record build FAIL "see $OUT/build.log"
    exit 1
  fi
fi
record build PASS "$BUILD"

# ---- 2. GPU tests ----
note "2. CUDA tests (ctest -R Cuda)"
if timeout 1200 ctest --test-dir "$BUILD" -R 'Cuda' -j "$(( JOBS < 4 ? JOBS : 4 ))" \
    --output-on-failure >"$OUT/ctest.log" 2>&1; then
  status=PASS
else
  status=FAIL
fi
tail -5 "$OUT/ctest.log"
# Tests that must run on a GPU must not skip here (the "without a GPU" ones skip by design).
skipped_gpu="$(grep -E '\*\*\*Skipped|Not Run' "$OUT/ctest.log" | grep -v -E 'Without|NoGpu' || true)"
if [[ -n "$skipped_gpu" ]]; then
  status=FAIL
  echo "tests that skipped on a GPU machine:"
  echo "$skipped_gpu"
fi
record tests "$status" "$(grep -E 'tests passed|tests failed' "$OUT/ctest.log" | tail -1)"

# ---- 3. the descriptor ----
note "3. sonar hw describe --device $DEVICE"
if timeout 300 "$SONAR" hw describe --device "$DEVICE" | tee "$OUT/hw_describe.txt"; then
  record describe PASS "$(head -1 "$OUT/hw_describe.txt")"
else
  record describe FAIL "sonar hw describe --device $DEVICE failed"
  exit 1  # nothing below can run without the device
fi

# Median and max/min - 1 of the "run_seconds" array of a sonar measure --json line (no python).
spread_of() {
  grep -o '"run_seconds":\[[^]]*\]' | head -1 | sed 's/.*\[//; s/\]//' | tr ',' '\n' |
    awk 'NF { v[n++] = $1 + 0 } END {
      if (n == 0) { print "none"; exit }
      min = v[0]; max = v[0]
      for (i = 0; i < n; i++) { if (v[i] < min) min = v[i]; if (v[i] > max) max = v[i] }
      printf "%d %.6g %.4f\n", n, min, max / min - 1 }'
}

# ---- 4. spread ----
note "4. spread: one config timed 20 times"
CONFIG='{"block_m": 128, "block_n": 128, "block_k": 8, "thread_m": 8, "thread_n": 8, "vec": 4, "unroll_k": 8, "shared_pad": 4}'
if timeout 600 "$SONAR" measure --op dense --shape 4096,4096,4096 --device "$DEVICE" \
    --config "$CONFIG" --repeat 20 --min-repeat-ms 50 --no-reference --json \
    --cache-dir "$OUT/kernels" >"$OUT/spread.json" 2>"$OUT/spread.err"; then
  read -r n min spread <<<"$(spread_of <"$OUT/spread.json")" || true
  if [[ "${n:-none}" == 20 ]] && awk -v s="$spread" 'BEGIN { exit !(s <= 0.02) }'; then
    record spread PASS "20 repeats, min ${min} s, max/min-1 = ${spread} (<= 0.02)"
  else
    record spread FAIL "repeats ${n:-none}, max/min-1 = ${spread:-?} (want <= 0.02); $(grep -o '"status":"[a-z_]*"' "$OUT/spread.json" | head -1)"
  fi
else
  record spread FAIL "sonar measure failed: $(tail -2 "$OUT/spread.err" | tr '\n' ' ')"
fi

# ---- 5. GEMM vs cuBLAS ----
note "5. tuned dense 4096^3 (bo, <= $GEMM_TRIALS trials, <= $GEMM_WALL_S s) vs cuBLAS SGEMM"
rm -f "$OUT/gemm.sonar"
gemm_best=""
if timeout $((GEMM_WALL_S + 600)) "$SONAR" tune --op dense --shape 4096,4096,4096 \
    --device "$DEVICE" --tuner bo --trials "$GEMM_TRIALS" --batch 8 \
    --max-wall-seconds "$GEMM_WALL_S" --records "$OUT/gemm.sonar" --json \
    >"$OUT/gemm_tune.json" 2>"$OUT/gemm_tune.err"; then
  gemm_best="$(grep -o '"best_seconds":[0-9.eE+-]*' "$OUT/gemm_tune.json" | head -1 | cut -d: -f2)"
fi
cublas=""
if "$NVCC" -O2 -o "$OUT/cublas_sgemm" "$ROOT/bench/cuda/cublas_sgemm.cu" -lcublas \
    >"$OUT/cublas_build.log" 2>&1; then
  cublas="$(timeout 300 "$OUT/cublas_sgemm" 4096 4096 4096 "$DEVICE" 50 | tee "$OUT/cublas.txt" |
    awk '{ print $6 }')" || true
fi
if [[ -n "$gemm_best" && -n "$cublas" ]]; then
  ratio="$(awk -v a="$gemm_best" -v b="$cublas" 'BEGIN { printf "%.3f", a / b }')"
  gflops="$(awk -v a="$gemm_best" 'BEGIN { printf "%.0f", 2 * 4096^3 / a * 1e-9 }')"
  record gemm PASS "tuned ${gemm_best} s (${gflops} GFLOP/s), cuBLAS ${cublas} s: tuned/cuBLAS = ${ratio}"
else
  record gemm FAIL "tuned '${gemm_best}' cuBLAS '${cublas}' (see $OUT/gemm_tune.err, cublas_build.log)"
fi

# ---- 6. transfer from Kernel Tuner's convolution caches ----
note "6. transfer-bo (Kernel Tuner convolution caches) vs bo on conv2d 4096x4096 15x15"
shopt -s nullglob
caches=("$KT_DIR"/convolution*.json.gz)
if ((${#caches[@]} == 0)); then
  record transfer SKIP "no Kernel Tuner caches in $KT_DIR (set KT_DIR)"
elif timeout 3600 "$SONAR" compare --op conv2d --shape 4096,4096,15,15 --device "$DEVICE" \
    --tuners bo,transfer-bo --baseline bo --transfer-from "${caches[@]}" \
    --seeds "$CONV_SEEDS" --trials "$CONV_TRIALS" --out "$OUT/conv_compare" \
    >"$OUT/conv_compare.txt" 2>"$OUT/conv_compare.err"; then
  cat "$OUT/conv_compare.txt"
  line="$(grep -E 'transfer-bo' "$OUT/conv_compare.txt" | head -1 | awk '{ print "to5% " $5 ", r5% " $8 }')"
  record transfer PASS "transfer-bo vs bo, ${CONV_SEEDS} seeds x ${CONV_TRIALS} trials: ${line} (r < 1: fewer trials)"
else
  record transfer FAIL "sonar compare failed: $(tail -3 "$OUT/conv_compare.err" | tr '\n' ' ')"
fi

exit "$FAILED"
