#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sample efficiency of BO with asynchronous workers (docs/mpi.md): the ten Kernel Tuner caches,
# trials to reach within 5% of each table's best (median over seeds), for sequential BO, BO with
# 8 asynchronous workers that takes the pending configs into account (kriging believer), the
# same without (plain top-1 of the acquisition with 7 configs out: the top-8 a batch would take),
# and synchronous batches of 8 (local penalization). The asynchronous runs are simulated in one
# process by `sonar compare --async-workers 8` (workers of equal speed: the oldest pending config
# returns first), which proposes exactly as `mpirun -np 9 sonar tune` does when every measurement
# takes the same time. Prints per-table medians and the median over tables of the ratio to
# sequential BO. Usage: bench/mpi_async_bo.sh [SONAR] [SEEDS] [THREADS]
set -euo pipefail
sonar=$(realpath "${1:-build/sonar}")
seeds=${2:-20}
threads=${3:-2}
caches=("$(dirname "$0")"/../../shared/datasets/kernel_tuner_cache/*.json.gz)
work=${SONAR_BENCH_OUT:-$(mktemp -d /tmp/sonar_mpi_async_bo.XXXXXX)}
common=(compare --replay "${caches[@]}" --tuners bo --baseline bo --seeds "$seeds" --trials 1000
  --stop-within 5 --threads "$threads" --json)
# RUNS (environment) picks the variants and their order; a variant whose JSON is already in
# SONAR_BENCH_OUT is not run again.
read -r -a runs <<< "${RUNS:-sequential async8 async8_plain batch8}"
for r in "${runs[@]}"; do
  [ -s "$work/$r.json" ] && continue
  case $r in
    sequential) extra=() ;;
    async8) extra=(--async-workers 8) ;;
    async8_plain) extra=(--async-workers 8 --no-pending-fantasies) ;;
    batch8) extra=(--batch 8) ;;
  esac
  "$sonar" "${common[@]}" "${extra[@]}" > "$work/$r.json.tmp"
  mv "$work/$r.json.tmp" "$work/$r.json"
done
python3 - "$work" "${runs[@]}" <<'PY'
import json, statistics, sys
work = sys.argv[1]
runs = ["sequential"] + [r for r in sys.argv[2:] if r != "sequential"]
data = {r: json.load(open(f"{work}/{r}.json")) for r in runs}
def to5(j):
    return {t["table"]: t["tuners"][0]["median_trials_to"]["5"] for t in j["tables"]}
med = {r: to5(data[r]) for r in runs}
others = runs[1:]
print("| table | " + " | ".join(runs) + " | " + " | ".join(f"{r}/sequential" for r in others) + " |")
print("|---|" + "---|" * (len(runs) + len(others)))
ratios = {r: [] for r in others}
for table, seq in med["sequential"].items():
    for r in others:
        ratios[r].append(med[r][table] / seq)
    print(f"| {table} | " + " | ".join(f"{med[r][table]:g}" for r in runs) + " | " +
          " | ".join(f"{med[r][table] / seq:.2f}" for r in others) + " |")
print("| **median of the per-table ratios** |" + " |" * len(runs) + " " +
      " | ".join(f"**{statistics.median(ratios[r]):.2f}**" for r in others) + " |")
PY
