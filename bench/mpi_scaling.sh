#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Scaling of `sonar tune` on MPI workers (docs/mpi.md): the ten Kernel Tuner caches replayed
# with a simulated cost per measurement (--replay-seconds), random search (its proposals cost
# nothing, so the figure is the work queue's), trials per wall-second of the tuning loop with
# 1, 2, 4, 8 and 16 worker ranks (oversubscribed on a small machine: the workers mostly sleep),
# against linear scaling (workers / replay-seconds). The single process (no mpirun) is the
# first row. Prints a Markdown table.
# Usage: bench/mpi_scaling.sh [SONAR] [SECONDS] [TRIALS_PER_WORKER]
set -euo pipefail
sonar=$(realpath "${1:-build/sonar}")
seconds=${2:-0.2}
per_worker=${3:-10}
caches=("$(dirname "$0")"/../../shared/datasets/kernel_tuner_cache/*.json.gz)
mpirun=(mpirun --oversubscribe)
if [ "$(id -u)" -eq 0 ]; then mpirun+=(--allow-run-as-root); fi
work=$(mktemp -d /tmp/sonar_mpi_scaling.XXXXXX)
trap 'rm -rf "$work"' EXIT
rate() {  # trials and wall seconds of one --json summary -> trials per second
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["trials"]/j["wall_seconds"])' "$1"
}
echo "| workers | trials per run | trials/s (median over ${#caches[@]} caches) | linear | of linear |"
echo "|---|---|---|---|---|"
for workers in single 1 2 4 8 16; do
  n=$([ "$workers" = single ] && echo 1 || echo "$workers")
  trials=$((per_worker * n))
  rates=()
  for c in "${caches[@]}"; do
    rm -f "$work/r.sonar"
    args=(tune --replay "$c" --tuner random --trials "$trials" --replay-seconds "$seconds"
      --records "$work/r.sonar" --json --seed 1)
    if [ "$workers" = single ]; then
      "$sonar" "${args[@]}" --batch 1 > "$work/out.json"
    else
      "${mpirun[@]}" -np $((workers + 1)) "$sonar" "${args[@]}" > "$work/out.json"
    fi
    rates+=("$(rate "$work/out.json")")
  done
  python3 - "$workers" "$n" "$trials" "$seconds" "${rates[@]}" <<'PY'
import statistics, sys
workers, n, trials, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
rates = [float(x) for x in sys.argv[5:]]
m = statistics.median(rates)
linear = n / seconds
print(f"| {workers} | {trials} | {m:.2f} (min {min(rates):.2f}, max {max(rates):.2f}) | {linear:.1f} | {m / linear:.2f} |")
PY
done
