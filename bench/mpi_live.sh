#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Live tuning on MPI workers against the single process (docs/mpi.md): the same dense tuned by
# `sonar tune` alone and by `mpirun -np 3 sonar tune` (two workers that compile at once, one
# timed run at a time on the node), alternating ROUNDS times; trials per minute of the tuning
# loop, and the spread of the measurements (median over the ok records of max/min - 1 of their
# repeats; and the ratio of each record's time to its batch's reference time, whose spread over
# the reference's re-timings shows the drift). Every run starts from an empty log and an empty
# compile cache (--no-cache). Usage: bench/mpi_live.sh [SONAR] [TRIALS] [ROUNDS] [SHAPE]
set -euo pipefail
sonar=$(realpath "${1:-build/sonar}")
trials=${2:-24}
rounds=${3:-2}
shape=${4:-512,512,512}
mpirun=(mpirun --oversubscribe)
if [ "$(id -u)" -eq 0 ]; then mpirun+=(--allow-run-as-root); fi
work=$(mktemp -d /tmp/sonar_mpi_live.XXXXXX)
trap 'rm -rf "$work"' EXIT
stats() {  # JSON summary, log -> "trials/min repeat-spread reference-spread"
  "$sonar" records dump "$2" > "$2.jsonl"
  python3 - "$1" "$2.jsonl" <<'PY'
import json, statistics, sys
j = json.load(open(sys.argv[1]))
spreads, refs = [], []
for line in open(sys.argv[2]):
    r = json.loads(line)["result"]
    t = r.get("run_seconds") or []
    if r.get("status") == "ok" and len(t) > 1:
        spreads.append(max(t) / min(t) - 1)
    if r.get("reference_seconds"):
        refs.append(r["reference_seconds"])
ref_spread = (statistics.pstdev(refs) / statistics.mean(refs)) if len(refs) > 1 else float("nan")
print(f"{60 * j['trials'] / j['wall_seconds']:.1f} {statistics.median(spreads):.4f} {ref_spread:.4f}")
PY
}
echo "| round | mode | trials/min | median repeat spread | reference time CV |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  for mode in single mpi3; do
    rm -f "$work/l.sonar"
    args=(tune --op dense --shape "$shape" --tuner random --seed "$round" --trials "$trials"
      --records "$work/l.sonar" --no-cache --json)
    if [ "$mode" = single ]; then
      "$sonar" "${args[@]}" > "$work/out.json"
    else
      "${mpirun[@]}" -np 3 "$sonar" "${args[@]}" > "$work/out.json"
    fi
    read -r rate spread ref < <(stats "$work/out.json" "$work/l.sonar")
    echo "| $round | $mode | $rate | $spread | $ref |"
  done
done
