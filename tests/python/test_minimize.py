# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# sonar.minimize: the result, failed trials, records, and resuming after an interrupt or a kill.
import math
import os
import signal
import subprocess
import sys
import time

import pytest

import sonar

KNOBS = {"x": range(0, 16), "y": [1, 2, 4, 8], "mode": ["a", "b"]}


def objective(c):
    return 1e-3 * (1 + (c["x"] - 5) ** 2 + abs(c["y"] - 4) + (c["mode"] == "b"))


def key(c):
    return (c["x"], c["y"], c["mode"])


def test_minimize_returns_the_best_config_and_its_curve():
    space = sonar.Space(KNOBS)
    best = sonar.minimize(objective, space, tuner="bo", trials=40, seed=0)
    assert best.trials == 40 and best.failed == 0 and best.resumed == 0
    assert best.cost == pytest.approx(objective(best.config))
    assert best.cost == min(best.curve) and len(best.curve) == 40
    assert best.curve == sorted(best.curve, reverse=True)
    assert best.config == {"x": 5, "y": 4, "mode": "a"}
    assert best.reason == "max_trials" and best.records == ""


def test_minimize_is_seeded():
    space = sonar.Space(KNOBS)
    seen = [[], []]
    for i in range(2):
        sonar.minimize(lambda c: seen[i].append(key(c)) or objective(c), space, tuner="ga",
                       trials=30, seed=7)
    assert seen[0] == seen[1]


def test_an_objective_that_raises_or_returns_inf_fails_that_trial_only(tmp_path):
    space = sonar.Space(KNOBS)
    log = tmp_path / "run.sonar"

    def flaky(c):
        if c["y"] == 8:
            raise RuntimeError("kernel crashed")
        if c["y"] == 1:
            return math.inf
        if c["y"] == 2:
            return "fast"
        return objective(c)

    best = sonar.minimize(flaky, space, tuner="random", trials=len(space), seed=0, records=log)
    assert best.trials == len(space)
    assert best.failed == 3 * len(space) // 4
    assert best.config["y"] == 4
    by_status = {}
    for r in sonar.read_records(log):
        by_status.setdefault(r["config"]["y"], set()).add((r["status"], r["error"]))
    assert by_status[8] == {("runtime_error", "the objective raised RuntimeError: kernel crashed")}
    assert by_status[1] == {("runtime_error", "the objective returned inf")}
    assert by_status[2] == {("unknown_error",
                             "the objective returned 'fast', not seconds > 0 or math.inf")}
    assert {s for s, _ in by_status[4]} == {"ok"}


def test_minimize_resumes_from_its_records_after_an_interrupt(tmp_path):
    space = sonar.Space(KNOBS)
    log = tmp_path / "run.sonar"
    measured = []

    def interrupted(c):
        if len(measured) == 12:
            raise KeyboardInterrupt
        measured.append(key(c))
        return objective(c)

    with pytest.raises(KeyboardInterrupt):
        sonar.minimize(interrupted, space, tuner="bo", trials=30, seed=1, records=log)
    assert len(sonar.read_records(log)) == 12
    first = list(measured)
    again = []
    best = sonar.minimize(lambda c: again.append(key(c)) or objective(c), space, tuner="bo",
                          trials=30, seed=1, records=log)
    assert best.resumed == 12 and best.trials == 30 and len(again) == 18
    assert not set(again) & set(first)  # nothing measured twice
    assert len(sonar.read_records(log)) == 30
    # A finished run started again measures nothing.
    assert sonar.minimize(lambda c: pytest.fail("re-measured"), space, tuner="bo", trials=30,
                          seed=1, records=log).resumed == 30


KILL_SCRIPT = r"""
import sys, time, sonar
space = sonar.Space({"x": range(0, 16), "y": [1, 2, 4, 8], "mode": ["a", "b"]})
progress = open(sys.argv[2], "a")
def objective(c):
    progress.write("%d %d %s\n" % (c["x"], c["y"], c["mode"])); progress.flush()
    time.sleep(0.05)
    return 1e-3 * (1 + (c["x"] - 5) ** 2 + abs(c["y"] - 4) + (c["mode"] == "b"))
sonar.minimize(objective, space, tuner="random", trials=100, seed=3, records=sys.argv[1])
"""


def test_minimize_resumes_after_the_process_is_killed(tmp_path):
    log, progress = tmp_path / "run.sonar", tmp_path / "progress.txt"
    progress.write_text("")
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(log), str(progress)],
                            env=dict(os.environ, PYTHONPATH=os.path.dirname(
                                os.path.dirname(sonar.__file__))))
    deadline = time.time() + 60
    while len(progress.read_text().splitlines()) < 15 and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(sonar.read_records(log))
    assert 10 <= done < 100
    recorded = {key(r["config"]) for r in sonar.read_records(log)}
    space = sonar.Space(KNOBS)
    again = []
    best = sonar.minimize(lambda c: again.append(key(c)) or objective(c), space, tuner="random",
                          trials=100, seed=3, records=log)
    assert best.resumed == done and best.trials == 100 and len(again) == 100 - done
    assert not set(again) & recorded


def test_records_that_are_not_a_log_raise_os_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# not a record log\n")
    with pytest.raises(OSError):
        sonar.minimize(objective, sonar.Space(KNOBS), trials=2, records=readme)
    assert readme.read_text() == "# not a record log\n"


def test_bad_minimize_arguments_raise_value_error():
    space = sonar.Space(KNOBS)
    with pytest.raises(ValueError, match="callable"):
        sonar.minimize(3, space)
    with pytest.raises(ValueError, match="trials"):
        sonar.minimize(objective, space, trials=-1)
    with pytest.raises(ValueError, match="batch_size"):
        sonar.minimize(objective, space, trials=2, batch_size=0)
    with pytest.raises(ValueError, match="unknown tuner"):
        sonar.minimize(objective, space, tuner="tpe")


def test_batches_and_early_stopping():
    space = sonar.Space(KNOBS)
    best = sonar.minimize(lambda c: 1.0, space, tuner="random", trials=100, batch_size=4,
                          early_stopping=10)
    assert best.reason == "early_stopped" and best.trials < 100
