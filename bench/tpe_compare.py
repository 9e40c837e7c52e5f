#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# Optuna's TPE sampler over the same replayed tables as `sonar compare`, with the same metric:
# the median over seeds of the trials to first reach within 1%, 5% and 10% of the table's best
# (a run that never does counts as budget + 1, the budget being min(trials, table size)).
#
# Tables: Kernel Tuner cache files (gzip JSON; best and ranking by Kernel Tuner's "time", failed
# configs have a string time), AutoTVM v0.2 logs (JSON lines, gzip or not; cost = mean of the
# result's costs, error_no != 0 is a failure) and Sonar JSON lines (`sonar records dump`).
#
# Protocol (issue 5's: "counting every sampled config as a trial"): every parameter is an Optuna
# categorical over its values in the table; every config TPE samples counts as one trial, repeats
# included (Sonar's tuners never repeat; TPE may). A sampled combination that is not in the table
# (Kernel Tuner's restrictions exclude it) is told to Optuna as a failed trial; so is a failed
# member (compile/runtime failure). With --members-only, non-members are told as failed but not
# counted (a kinder protocol for TPE; Optuna then needs up to 50x more samples, which is slow: its
# cost per sample grows with the history). A run stops once it is within 1%.
#
# Example:
#   /usr/bin/python3 bench/tpe_compare.py ../shared/datasets/kernel_tuner_cache/*.json.gz \
#       --seeds 20 --trials 1000 --jobs 2 --json tpe.json
import argparse
import gzip
import json
import math
import multiprocessing
import statistics
import sys
import time

THRESHOLDS = (0.01, 0.05, 0.10)


def _open(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path, "rt")


def load_tables(path):
    """Returns a list of (name, keys, table) with table: tuple(values) -> cost (None = failed)."""
    with _open(path) as f:
        text = f.read()
    stem = path.rsplit("/", 1)[-1].split(".")[0]
    stripped = text.lstrip()
    if stripped.startswith("{") and '"cache"' in text[:100000] and "\n{" not in stripped[:2000]:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            doc = None
        if isinstance(doc, dict) and "cache" in doc:
            keys = doc["tune_params_keys"]
            table = {}
            for rec in doc["cache"].values():
                t = rec.get("time")
                cost = float(t) if isinstance(t, (int, float)) and math.isfinite(t) else None
                table[tuple(rec[k] for k in keys)] = cost
            return [(stem + ":" + doc.get("kernel_name", ""), keys, table)]
    # JSON lines: AutoTVM v0.2 or Sonar records; one table per workload.
    tables = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if "input" in r and "config" in r:  # AutoTVM v0.2
            wl = json.dumps(r["input"][1:3])
            ent = r["config"]["entity"]
            keys = [e[0] for e in ent]
            values = tuple(json.dumps(e[2]) for e in ent)
            costs, err = r["result"][0], r["result"][1]
            ok = err == 0 and all(isinstance(c, (int, float)) for c in costs) and costs
            cost = sum(costs) / len(costs) if ok else None
            name = stem + ":" + r["input"][1]
        else:  # Sonar JSON lines (sonar records dump)
            wl = r.get("workload_key") or r.get("workload")
            cfg = r.get("config", {})
            vals = cfg.get("values", cfg) if isinstance(cfg, dict) else cfg
            if isinstance(vals, dict):
                keys = sorted(vals)
                values = tuple(json.dumps(vals[k]) for k in keys)
            else:
                keys = [v["name"] for v in vals]
                values = tuple(json.dumps(v) for v in vals)
            res = r.get("result", {})
            ok = res.get("status", "ok") in ("ok", "kOk")
            cost = res.get("cost_seconds") or res.get("reported_seconds") or res.get("median_seconds")
            if not ok or not isinstance(cost, (int, float)):
                cost = None
            name = stem + ":" + str(r.get("task_name", r.get("task", {}).get("name", wl)))
        entry = tables.setdefault(wl, [name, keys, {}])
        prev = entry[2].get(values, "absent")
        # Several records of one config: keep the first success (as the replay measurer does).
        if prev == "absent" or (prev is None and cost is not None):
            entry[2][values] = cost
    out = []
    names = {}
    for wl, (name, keys, table) in tables.items():
        if sum(c is not None for c in table.values()) < 2:
            continue
        names[name] = names.get(name, 0) + 1
        out.append((name if names[name] == 1 else f"{name}#{names[name]}", keys, table))
    return out


def run_one(args):
    name, keys, table, seed, trials, count_invalid = args
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    values = {k: sorted({cfg[i] for cfg in table}, key=lambda v: (str(type(v)), v))
              for i, k in enumerate(keys)}
    best = min(c for c in table.values() if c is not None)
    budget = min(trials, len(table))
    goals = [best * (1 + t) for t in THRESHOLDS]
    first = [budget + 1] * 3
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(sampler=sampler, direction="minimize")
    counted = 0
    sampled = 0
    max_samples = 50 * budget  # guards against a sampler stuck on non-members
    while counted < budget and sampled < max_samples:
        trial = study.ask()
        cfg = tuple(trial.suggest_categorical(k, values[k]) for k in keys)
        sampled += 1
        if cfg not in table:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if count_invalid:
                counted += 1
            continue
        counted += 1
        cost = table[cfg]
        if cost is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        study.tell(trial, math.log(cost))
        for i, g in enumerate(goals):
            if cost <= g and first[i] > budget:
                first[i] = counted
        if first[0] <= budget:
            break
    return name, seed, first


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("tables", nargs="+")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--members-only", action="store_true",
                   help="do not count sampled combinations that are not in the table as trials")
    p.add_argument("--json", help="write the summary as JSON here")
    a = p.parse_args()
    tables = []
    for path in a.tables:
        tables.extend(load_tables(path))
    jobs = [(n, k, t, s, a.trials, not a.members_only) for (n, k, t) in tables for s in range(a.seeds)]
    start = time.time()
    with multiprocessing.Pool(a.jobs) as pool:
        results = pool.map(run_one, jobs, chunksize=1)
    per = {}
    for name, seed, first in results:
        per.setdefault(name, []).append(first)
    summary = {"tables": [], "seconds": time.time() - start, "seeds": a.seeds, "trials": a.trials,
               "count_invalid": not a.members_only}
    print(f"{'table':45s} {'size':>6s} {'to1%':>7s} {'to5%':>7s} {'to10%':>7s}")
    for name, keys, table in tables:
        firsts = per[name]
        med = [statistics.median(f[i] for f in firsts) for i in range(3)]
        print(f"{name:45s} {len(table):6d} {med[0]:7.1f} {med[1]:7.1f} {med[2]:7.1f}")
        summary["tables"].append({"table": name, "size": len(table),
                                  "median_trials_to": {"1": med[0], "5": med[1], "10": med[2]}})
    print(f"(TPE, median over {a.seeds} seeds; {summary['seconds']:.1f} s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
