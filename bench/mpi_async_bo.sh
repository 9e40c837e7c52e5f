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
"$sonar" "${common[@]}" > "$work/sequential.json"
"$sonar" "${common[@]}" --async-workers 8 > "$work/async8.json"
"$sonar" "${common[@]}" --async-workers 8 --no-pending-fantasies > "$work/async8_plain.json"
"$sonar" "${common[@]}" --batch 8 > "$work/batch8.json"
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
runs = ["sequential", "async8", "async8_plain", "batch8"]
data = {r: json.load(open(f"{work}/{r}.json")) for r in runs}
def to5(j):
    return {t["table"]: t["tuners"][0]["median_trials_to"]["5"] for t in j["tables"]}
med = {r: to5(data[r]) for r in runs}
print("| table | " + " | ".join(runs) + " | async8/seq | plain/seq | batch8/seq |")
print("|---|" + "---|" * (len(runs) + 3))
ratios = {r: [] for r in runs[1:]}
for table, seq in med["sequential"].items():
    row = [f"{med[r][table]:g}" for r in runs]
    for r in runs[1:]:
        ratios[r].append(med[r][table] / seq)
    print(f"| {table} | " + " | ".join(row) + " | " +
          " | ".join(f"{med[r][table] / seq:.2f}" for r in runs[1:]) + " |")
print("| **median of the per-table ratios** |" + " |" * len(runs) + " " +
      " | ".join(f"**{statistics.median(ratios[r]):.2f}**" for r in runs[1:]) + " |")
PY
