# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# Ask/tell from Python on a Kernel Tuner cache is the CLI's code: the proposals equal those of
# `sonar tune --replay --batch 1` and the best-so-far curves equal `sonar compare --replay`'s.
import csv
import math
import subprocess

import pytest

import sonar


def python_run(space, table, kind, seed, trials):
    tuner = sonar.Tuner(space, kind, seed=seed)
    configs, curve, best = [], [], math.inf
    for _ in range(trials):
        (c,) = tuner.propose(1)
        y = table[tuple(c[k] for k in space.knobs)]
        tuner.observe([c], [y])
        configs.append(c)
        best = min(best, y)
        curve.append(best)
    return configs, curve


@pytest.mark.parametrize("kind", ["random", "grid", "ga", "autotvm", "bo"])
def test_python_ask_tell_equals_the_cli(kt_dir, cli, tmp_path, kind):
    path = kt_dir / "convolution__RTX_3090.json.gz"
    records = sonar.read_records(path)
    space = sonar.Space.from_records(records)
    table = {tuple(r["config"][k] for k in space.knobs): r["cost"] for r in records}
    trials = 40
    log = tmp_path / "tune.sonar"
    subprocess.run([cli, "tune", "--replay", str(path), "--tuner", kind, "--seed", "2", "--trials",
                    str(trials), "--batch", "1", "--records", str(log), "--quiet"], check=True,
                   capture_output=True)
    configs, _ = python_run(space, table, kind, 2, trials)
    assert configs == [r["config"] for r in sonar.read_records(log)]
    out = tmp_path / "compare"
    subprocess.run([cli, "compare", "--replay", str(path), "--tuners", kind, "--seeds", "2",
                    "--trials", str(trials), "--threads", "1", "--out", str(out)], check=True,
                   capture_output=True)
    with open(out / "curves.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["tuner"] == kind]
    for seed in range(2):
        _, curve = python_run(space, table, kind, seed, trials)
        cli_curve = [r["best_seconds"] for r in rows if r["seed"] == str(seed)]
        assert ["" if math.isinf(v) else "%g" % v for v in curve] == cli_curve
