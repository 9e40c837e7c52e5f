# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# sonar.read_records and sonar.import_history, against the CLI on the shared Kernel Tuner caches.
import json
import math
import subprocess

import pytest

import sonar


def test_read_records_of_a_kernel_tuner_cache(kt_dir):
    records = sonar.read_records(kt_dir / "pnpoly__RTX_Titan.json.gz")
    assert len(records) == 4092  # the cache's entries (its README)
    r = records[0]
    assert set(r) >= {"workload", "task", "config", "status", "cost", "run_seconds", "trial"}
    assert set(r["config"]) == {"between_method", "block_size_x", "tile_size", "use_method"}
    assert all(type(v) is int for v in r["config"].values())
    failed = [x for x in records if x["status"] != "ok"]
    assert len(failed) == 342 and all(math.isinf(x["cost"]) for x in failed)
    assert records[-1] == records[len(records) - 1]
    with pytest.raises(IndexError):
        records[len(records)]
    cols = records.columns()
    assert len(cols["cost"]) == 4092 and cols["cost"].dtype.kind == "f"
    assert cols["config.block_size_x"][0] == r["config"]["block_size_x"]
    arr = records.to_numpy()
    assert arr.shape == (4092,) and arr["cost"][5] == records[5]["cost"]
    assert list(records.workloads().values()) == [r["task"]]


def test_import_then_read_matches_the_cli(kt_dir, cli, tmp_path):
    inputs = [kt_dir / "pnpoly__RTX_Titan.json.gz", kt_dir / "pnpoly__RTX_2080_Ti.json.gz"]
    out = tmp_path / "history.sonar"
    report = sonar.import_history(inputs, out=out)
    assert report["records"] == report["appended"] == 8184 and report["duplicates"] == 0
    again = sonar.import_history([inputs[0]], out=out)
    assert again["appended"] == 0 and again["duplicates"] == 4092
    records = sonar.read_records(out)
    assert len(records) == 8184
    stats = json.loads(subprocess.run([cli, "records", "stats", str(out), "--json"], check=True,
                                      capture_output=True, text=True).stdout)
    text = json.dumps(stats)
    assert "8184" in text
    assert len(records.workloads()) == 2
    one = sonar.read_records(out, workload=records[0]["workload"])
    assert len(one) == 4092
    with pytest.raises(ValueError, match="2 workloads"):
        sonar.Space.from_records(records)
    space = sonar.Space.from_records(records, workload=records[0]["workload"])
    assert space.is_listed and len(space) == 4092
    # The CLI's dump of the same log holds the same costs.
    dump = subprocess.run([cli, "records", "dump", str(out)], check=True, capture_output=True,
                          text=True).stdout.splitlines()
    assert len(dump) == 8184


def test_record_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        sonar.read_records(tmp_path / "missing.sonar")
    with pytest.raises(FileNotFoundError, match="nothing was imported"):
        sonar.import_history([tmp_path / "missing.log"], out=tmp_path / "h.sonar")
    assert not (tmp_path / "h.sonar").exists()
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\n")
    with pytest.raises(OSError):
        sonar.read_records(junk)
    with pytest.raises(ValueError, match="unknown format"):
        sonar.import_history([junk], out=tmp_path / "h.sonar", format="csv")
    with pytest.raises(ValueError, match="into itself"):
        sonar.import_history([junk], out=junk)
    with pytest.raises(ValueError, match="no workload matches 'nope'"):
        sonar.Space.from_records(_one_workload(tmp_path), workload="nope")


def _one_workload(tmp_path):
    log = tmp_path / "one.sonar"
    sonar.minimize(lambda c: 1e-3 * c["x"], sonar.Space({"x": [1, 2, 3]}), tuner="grid",
                   trials=3, records=log)
    return sonar.read_records(log)


def test_minimize_records_read_back_with_python_types(tmp_path):
    log = tmp_path / "run.sonar"
    space = sonar.Space({"n": [1, 2], "s": ["p", "q"], "b": [False, True]})
    sonar.minimize(lambda c: 1e-3 * c["n"], space, tuner="grid", trials=8, records=log)
    records = sonar.read_records(log)
    assert len(records) == 8
    assert {(r["config"]["n"], r["config"]["s"], r["config"]["b"]) for r in records} == {
        (n, s, b) for n in [1, 2] for s in "pq" for b in [False, True]}
    assert all(r["workload"] == space.workload and r["tuner"] == "grid" for r in records)
    assert sorted(r["trial"] for r in records) == list(range(8))


def test_best_configs_matches_records_best(kt_dir, cli):
    path = kt_dir / "pnpoly__RTX_Titan.json.gz"
    best = sonar.best_configs(path)
    assert len(best) == 1
    (name, record), = best.items()
    records = sonar.read_records(path)
    assert record["cost"] == min(r["cost"] for r in records)
    out = subprocess.run([cli, "records", "best", str(path), "--json"], check=True,
                         capture_output=True, text=True).stdout
    cli_best = json.loads(out)["best"][0]
    assert cli_best["task"]["name"] == name
    with pytest.raises(ValueError, match="--workload"):
        sonar.best_configs(path, workload="no_such_workload")
    with pytest.raises(FileNotFoundError):
        sonar.best_configs(kt_dir / "missing.json.gz")
