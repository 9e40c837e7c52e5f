#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# sonar.optuna.SonarSampler (Sonar's BO behind Optuna's API) against Optuna's default sampler
# (TPESampler) inside Optuna, on the same replayed tables and under the same protocol as
# bench/tpe_compare.py (whose table reader it uses): every parameter an Optuna categorical over its
# values in the table; every sampled config counts as one trial; a combination outside the table
# (Kernel Tuner's restrictions) and a failed member are told to Optuna as failed trials; the value
# told is log(seconds). Metric: the median over seeds of the trials to first reach within 5% (and
# 10%) of the table's best (budget + 1 when never), per table, and the per-table ratio
# SonarSampler / TPE. A run stops at 5%, which leaves both thresholds exact.
#
# Example (PYTHONPATH at the build tree's package):
#   PYTHONPATH=build/python /usr/bin/python3 bench/optuna_sampler_compare.py \
#       ../shared/datasets/kernel_tuner_cache/*.json.gz --seeds 20 --trials 1000 --jobs 2
import argparse
import json
import math
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tpe_compare import load_tables  # noqa: E402

THRESHOLDS = (0.05, 0.10)


def run_one(args):
    name, keys, table, seed, trials, sampler_name = args
    import optuna

    import sonar.optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    values = {k: sorted({cfg[i] for cfg in table}, key=lambda v: (str(type(v)), v))
              for i, k in enumerate(keys)}
    best = min(c for c in table.values() if c is not None)
    budget = min(trials, len(table))
    goals = [best * (1 + t) for t in THRESHOLDS]
    first = [budget + 1] * len(THRESHOLDS)
    if sampler_name == "sonar":
        sampler = sonar.optuna.SonarSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(sampler=sampler, direction="minimize")
    start = time.time()
    counted = 0
    while counted < budget:
        trial = study.ask()
        cfg = tuple(trial.suggest_categorical(k, values[k]) for k in keys)
        counted += 1
        cost = table.get(cfg)
        if cost is None:  # not in the table, or a failed member
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, math.log(cost))
        for i, g in enumerate(goals):
            if cost <= g and first[i] > budget:
                first[i] = counted
        if first[0] <= budget:
            break
    return name, sampler_name, seed, first, time.time() - start


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("tables", nargs="+")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--samplers", default="sonar,tpe")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--json", default="")
    a = p.parse_args()
    samplers = a.samplers.split(",")
    jobs, order = [], []
    for path in a.tables:
        for name, keys, table in load_tables(path):
            order.append(name)
            for s in samplers:
                for seed in range(a.seeds):
                    jobs.append((name, keys, table, seed, a.trials, s))
    results = {}
    start = time.time()
    with multiprocessing.Pool(a.jobs) as pool:
        for name, s, seed, first, secs in pool.imap_unordered(run_one, jobs):
            results.setdefault((name, s), []).append((first, secs))
    rows, ratios = [], []
    for name in order:
        row = {"table": name}
        for s in samplers:
            runs = results[(name, s)]
            row[s] = {f"median_trials_to_{int(100 * t)}": statistics.median(r[0][i] for r in runs)
                      for i, t in enumerate(THRESHOLDS)}
            row[s]["seconds_per_run"] = statistics.mean(r[1] for r in runs)
        if "sonar" in samplers and "tpe" in samplers:
            row["ratio_5"] = row["sonar"]["median_trials_to_5"] / row["tpe"]["median_trials_to_5"]
            ratios.append(row["ratio_5"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {"tables": rows, "median_ratio_5": statistics.median(ratios) if ratios else None,
               "wall_seconds": time.time() - start}
    print(json.dumps({"median_ratio_5": summary["median_ratio_5"],
                      "wall_seconds": summary["wall_seconds"]}))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
