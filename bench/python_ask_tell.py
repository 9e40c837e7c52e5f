#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# Ask/tell from Python on replayed tables (issue 19): each tuner and seed runs through the Python
# module (sonar.Space.from_records, sonar.Tuner.propose(1) / observe, an objective that looks the
# table up), and the same runs go through the CLI. Checks, per run:
#   - curves: the best-so-far curve equals `sonar compare --replay`'s (curves.csv, same tuners,
#     seeds, trials, --stop-within, --threads 1), and so does the median trials-to-5% and -10%;
#   - proposals (--proposals K > 0): the first K configs equal those `sonar tune --replay --batch 1
#     --seed S` writes to its record log, in order (seed 0 of each tuner);
# and measures the Python overhead of a propose/observe pair: wall time of the two calls in Python
# minus the time the C++ tuner spent in them (Tuner.seconds), as a share of the latter (means, and
# medians over pairs, which resist descheduling on a loaded machine), for the
# pairs whose observation count is within --window of --overhead-at (default 200), in separate
# runs that do not stop early (--overhead-seeds seeds per tuner and table).
#
# Example:
#   PYTHONPATH=build/python /usr/bin/python3 bench/python_ask_tell.py \
#       ../shared/datasets/kernel_tuner_cache/*.json.gz --tuners random,grid,ga,autotvm,bo \
#       --seeds 20 --trials 1000 --stop-within 0.05 --cli build/sonar --proposals 60
import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import sonar


def load(path):
    records = sonar.read_records(path)
    space = sonar.Space.from_records(records)
    table = {}
    for r in records:
        key = tuple(r["config"][k] for k in space.knobs)
        # Several records of one config: the first ok one answers (else the first), as the
        # replay measurer does.
        if key not in table or (math.isinf(table[key]) and r["status"] == "ok"):
            table[key] = r["cost"] if r["status"] == "ok" else math.inf
    best = min(table.values())
    return space, table, best


def run(space, table, best, kind, seed, trials, stop_within, overhead_at, window):
    tuner = sonar.Tuner(space, kind, seed=seed)
    budget = min(trials, len(space))
    stop_at = best * (1 + stop_within) if stop_within > 0 else -math.inf
    curve, proposals, pairs = [], [], []
    b = math.inf
    while len(curve) < budget and not b <= stop_at:
        c0 = tuner.seconds
        t0 = time.perf_counter()
        configs = tuner.propose(1)
        t1 = time.perf_counter()
        if not configs:
            break
        costs = [table.get(tuple(c[k] for k in space.knobs), math.inf) for c in configs]
        t2 = time.perf_counter()
        tuner.observe(configs, costs)
        t3 = time.perf_counter()
        if abs(len(curve) + 1 - overhead_at) <= window:
            # The objective (the table lookup, t1..t2) is not the binding's: left out.
            pairs.append(((t1 - t0) + (t3 - t2), tuner.seconds - c0))
        for c, y in zip(configs, costs):
            proposals.append(c)
            b = min(b, y)
            curve.append(b)
    curve += [b] * (budget - len(curve))
    return curve, proposals, pairs


def trials_to(curve, best, x):
    goal = best * (1 + x)
    for i, v in enumerate(curve):
        if v <= goal:
            return i + 1
    return len(curve) + 1


def fmt(v):
    return "" if math.isinf(v) else "%g" % v


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("tables", nargs="+")
    p.add_argument("--tuners", default="random,grid,ga,autotvm,bo")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--stop-within", type=float, default=0.05)
    p.add_argument("--cli", default="", help="the sonar CLI: check curves and proposals against it")
    p.add_argument("--proposals", type=int, default=60)
    p.add_argument("--overhead-at", type=int, default=200)
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--overhead-seeds", type=int, default=3)
    p.add_argument("--json", default="")
    a = p.parse_args()
    tuners = a.tuners.split(",")
    out = {"tables": [], "overhead": {}}
    mismatches = 0
    overhead = {k: [] for k in tuners}
    start = time.time()
    for path in a.tables:
        space, table, best = load(path)
        name = os.path.basename(path).split(".")[0]
        runs = {}
        for kind in tuners:
            for seed in range(a.seeds):
                runs[kind, seed] = run(space, table, best, kind, seed, a.trials, a.stop_within,
                                       0, -1)
            # The overhead: full runs (no stop) through the window around --overhead-at.
            for seed in range(a.overhead_seeds):
                overhead[kind] += run(space, table, best, kind, seed, a.overhead_at + a.window, 0,
                                      a.overhead_at, a.window)[2]
        row = {"table": name, "best_seconds": best, "tuners": {}}
        for kind in tuners:
            t5 = [trials_to(runs[kind, s][0], best, 0.05) for s in range(a.seeds)]
            t10 = [trials_to(runs[kind, s][0], best, 0.10) for s in range(a.seeds)]
            row["tuners"][kind] = {"median_trials_to_5": statistics.median(t5),
                                   "median_trials_to_10": statistics.median(t10)}
        if a.cli:
            with tempfile.TemporaryDirectory(prefix="py_asktell_") as tmp:
                cmd = [a.cli, "compare", "--replay", path, "--tuners", a.tuners, "--seeds",
                       str(a.seeds), "--trials", str(a.trials), "--threads", "1", "--out", tmp,
                       "--json"]
                if a.stop_within > 0:
                    cmd += ["--stop-within", str(100 * a.stop_within)]
                summary = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                    text=True).stdout)
                cli_curves = {}
                with open(os.path.join(tmp, "curves.csv")) as f:
                    for r in csv.DictReader(f):
                        cli_curves.setdefault((r["tuner"], int(r["seed"])), []).append(
                            r["best_seconds"])
                same = 0
                for (kind, seed), (curve, _, _) in runs.items():
                    if [fmt(v) for v in curve] == cli_curves.get((kind, seed)):
                        same += 1
                    else:
                        mismatches += 1
                        print(f"{name} {kind} seed {seed}: curve differs from sonar compare's",
                              file=sys.stderr)
                cli_medians = {t["tuner"]: t["median_trials_to"]
                               for t in summary["tables"][0]["tuners"]}
                for kind in tuners:
                    py = row["tuners"][kind]
                    py["cli_median_trials_to_5"] = cli_medians[kind]["5"]
                    py["cli_median_trials_to_10"] = cli_medians[kind]["10"]
                    if (py["median_trials_to_5"] != cli_medians[kind]["5"] or
                            py["median_trials_to_10"] != cli_medians[kind]["10"]):
                        mismatches += 1
                        print(f"{name} {kind}: medians differ from sonar compare's",
                              file=sys.stderr)
                row["curves_identical"] = f"{same}/{len(runs)}"
                if a.proposals > 0:
                    same_p = 0
                    for kind in tuners:
                        log = os.path.join(tmp, f"{kind}.sonar")
                        subprocess.run([a.cli, "tune", "--replay", path, "--tuner", kind,
                                        "--seed", "0", "--trials", str(a.proposals), "--batch",
                                        "1", "--records", log, "--quiet"], check=True,
                                       capture_output=True)
                        cli_configs = [r["config"] for r in sonar.read_records(log)]
                        py_configs = runs[kind, 0][1][:a.proposals]
                        n = min(len(py_configs), len(cli_configs))
                        if n > 0 and py_configs[:n] == cli_configs[:n]:
                            same_p += 1
                        else:
                            mismatches += 1
                            print(f"{name} {kind}: proposals differ from sonar tune's",
                                  file=sys.stderr)
                    row["proposals_identical"] = f"{same_p}/{len(tuners)} tuners"
        out["tables"].append(row)
        print(json.dumps(row), flush=True)
    for kind in tuners:
        pairs = overhead[kind]
        if not pairs:
            continue
        py = sum(t for t, _ in pairs)
        cxx = sum(c for _, c in pairs)
        # Medians resist the moments the process is descheduled (a loaded machine).
        med_over = statistics.median(t - c for t, c in pairs)
        med_cxx = statistics.median(c for _, c in pairs)
        out["overhead"][kind] = {
            "pairs": len(pairs),
            "python_us_per_pair": 1e6 * (py - cxx) / len(pairs),
            "cxx_us_per_pair": 1e6 * cxx / len(pairs),
            "overhead_share": (py - cxx) / cxx if cxx > 0 else math.inf,
            "median_python_us": 1e6 * med_over,
            "median_cxx_us": 1e6 * med_cxx,
            "median_overhead_share": med_over / med_cxx if med_cxx > 0 else math.inf}
    out["mismatches"] = mismatches
    out["wall_seconds"] = time.time() - start
    print(json.dumps({"overhead": out["overhead"], "mismatches": mismatches,
                      "wall_seconds": out["wall_seconds"]}))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
