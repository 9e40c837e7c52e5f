#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The MPI tests (tuner/mpi/, docs/mpi.md): the built sonar under mpirun --oversubscribe (and
# --allow-run-as-root when root). Usage: mpi_test.sh SONAR MPIEXEC SHARED_DIR CASE, CASE one of
#   tune_replay    rank 0 writes every record once; the workers measure
#   compare        a comparison spread over the ranks prints what the single process prints
#   kill_resume    a killed worker ends the job; the same command resumes with nothing lost or
#                  measured twice
#   live           a live tune of a small dense: two workers compile, one timed run at a time
#   faults         a crashing, hanging, broken or wrong user kernel gives classified records
# Exits 77 (ctest: skipped) with a message when MPI or the shared data sets are missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sonar=$1
mpiexec=$2
shared=$3
case_name=$4
if [ -z "$mpiexec" ] || [ "$mpiexec" = "OFF" ] || ! command -v "$mpiexec" > /dev/null; then
  echo "SKIP: sonar was built without MPI (SONAR_WITH_MPI=OFF or no mpiexec)"
  exit 77
fi
cache=$shared/datasets/kernel_tuner_cache/pnpoly__RTX_Titan.json.gz
if [ "$case_name" != live ] && [ "$case_name" != faults ] && [ ! -f "$cache" ]; then
  echo "SKIP: $cache is missing"
  exit 77
fi
run=(timeout 300 "$mpiexec" --oversubscribe)
if [ "$(id -u)" -eq 0 ]; then run+=(--allow-run-as-root); fi
work=$(mktemp -d /tmp/sonar_mpi_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Records of a log: "count distinct" (distinct by config values).
count_records() {
  "$sonar" records dump "$1" | python3 -c '
import json, sys
configs = [json.dumps(json.loads(l)["config"], sort_keys=True) for l in sys.stdin if l.strip()]
print(len(configs), len(set(configs)))'
}

case "$case_name" in
  tune_replay)
    "${run[@]}" -np 4 "$sonar" tune --replay "$cache" --tuner bo --trials 40 --seed 1 \
      --records t.sonar --replay-seconds 0.01 --json > out.json
    python3 -c 'import json; j = json.load(open("out.json")); assert j["trials"] == 40, j'
    [ "$(count_records t.sonar)" = "40 40" ] || { echo "records: $(count_records t.sonar)"; exit 1; }
    # The next run resumes: 20 more trials, none measured twice.
    "${run[@]}" -np 3 "$sonar" tune --replay "$cache" --tuner ga --trials 60 --records t.sonar \
      --json > out2.json
    python3 -c 'import json; j = json.load(open("out2.json")); assert j["resumed"] == 40 and j["trials"] == 60, j'
    [ "$(count_records t.sonar)" = "60 60" ] || { echo "records: $(count_records t.sonar)"; exit 1; }
    ;;
  compare)
    args=(compare --replay "$cache" --tuners random,ga --seeds 6 --trials 60 --json)
    "$sonar" "${args[@]}" > single.json
    "${run[@]}" -np 4 "$sonar" "${args[@]}" > mpi.json
    python3 - <<'PY'
import json
a, b = json.load(open("single.json")), json.load(open("mpi.json"))
assert a["tables"] == b["tables"], "MPI comparison differs from the single process"
print("same tables")
PY
    ;;
  kill_resume)
    args=(tune --replay "$cache" --tuner random --trials 80 --records k.sonar --replay-seconds 0.2
      --quiet)
    "${run[@]}" -np 4 "$sonar" "${args[@]}" > killed.out 2> killed.err &
    launcher=$!
    # Once 15 records are in, kill worker rank 2 (found by its MPI rank in its environment).
    for _ in $(seq 1 600); do
      if [ -f k.sonar ] && [ "$(count_records k.sonar | cut -d' ' -f1)" -ge 15 ]; then break; fi
      sleep 0.05
    done
    victim=""
    for p in $(pgrep -x sonar); do
      if [ "$(readlink "/proc/$p/cwd")" = "$work" ] &&
        tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=2"; then
        victim=$p
      fi
    done
    [ -n "$victim" ] || { echo "no worker rank 2 found"; exit 1; }
    kill -9 "$victim"
    set +e
    wait "$launcher"
    code=$?
    set -e
    [ "$code" -ne 0 ] || { echo "mpirun exited 0 after a worker was killed"; exit 1; }
    read -r n distinct < <(count_records k.sonar)
    echo "killed at $n records ($distinct distinct)"
    [ "$n" = "$distinct" ] && [ "$n" -lt 80 ] || exit 1
    # The same command again: resumes and finishes, no record lost or duplicated.
    "${run[@]}" -np 4 "$sonar" "${args[@]}" --json > resumed.json
    python3 -c "import json; j = json.load(open('resumed.json')); assert j['resumed'] == $n and j['trials'] == 80, j"
    [ "$(count_records k.sonar)" = "80 80" ] || { echo "records: $(count_records k.sonar)"; exit 1; }
    ;;
  live)
    "${run[@]}" -np 3 "$sonar" tune --op dense --shape 64,64,64 --tuner random --trials 6 \
      --records l.sonar --min-repeat-ms 5 --json > live.json
    python3 -c 'import json; j = json.load(open("live.json")); assert j["trials"] == 6 and j["best_seconds"], j'
    [ "$(count_records l.sonar)" = "6 6" ] || { echo "records: $(count_records l.sonar)"; exit 1; }
    ;;
  faults)
    # A kernel that crashes, hangs, does not compile or answers wrongly on a worker is a
    # classified record, as in a single process.
    kernels=$here/../measure/kernels
    "${run[@]}" -np 3 "$sonar" tune --kernel "$kernels/faults.cc" --space "$kernels/faults_space.json" \
      --tuner grid --trials 7 --records f.sonar --min-repeat-ms 5 --json > faults.json
    python3 - <<'PY'
import json
j = json.load(open("faults.json"))
assert j["trials"] == 7, j
seen = {f["status"] for f in j["failures"]}
for want in ("crashed", "run_timeout", "compile_error", "wrong_answer"):
    assert want in seen, (want, seen)
print("failures:", sorted(seen))
PY
    [ "$(count_records f.sonar)" = "7 7" ] || { echo "records: $(count_records f.sonar)"; exit 1; }
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac
echo "PASS: $case_name"
