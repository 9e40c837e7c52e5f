# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# sonar.Tuner: ask/tell for every tuner, seeding, failures, errors, and the GIL.
import math
import threading

import pytest

import sonar

SPACE = {"block_x": [16, 32, 64, 128], "block_y": [1, 2, 4, 8], "unroll": [0, 1]}


def cost(c):
    return 1e-3 * (abs(c["block_x"] - 64) + 1) * (abs(c["block_y"] - 2) + 1) / (1 + c["unroll"])


def run(kind, seed, rounds=6, batch=3, **kw):
    space = sonar.Space(SPACE, constraint=lambda c: c["block_x"] * c["block_y"] <= 256)
    tuner = sonar.Tuner(space, kind, seed=seed, **kw)
    history = []
    for _ in range(rounds):
        configs = tuner.propose(batch)
        if not configs:
            break
        costs = [math.inf if c["block_y"] == 8 else cost(c) for c in configs]
        tuner.observe(configs, costs)
        history += configs
    return history


@pytest.mark.parametrize("kind", ["random", "grid", "ga", "autotvm", "bo"])
def test_every_tuner_proposes_distinct_valid_configs_and_is_seeded(kind):
    a = run(kind, seed=3)
    assert a and len(a) == len({tuple(c.values()) for c in a})
    assert all(c["block_x"] * c["block_y"] <= 256 for c in a)
    assert a == run(kind, seed=3)


def test_different_seeds_give_different_random_proposals():
    assert run("random", 1) != run("random", 2)


def test_bo_finds_the_best_of_a_small_space():
    space = sonar.Space(SPACE)
    tuner = sonar.Tuner(space, "bo", seed=0)
    best = math.inf
    for _ in range(20):
        (c,) = tuner.propose(1)
        tuner.observe([c], [cost(c)])
        best = min(best, cost(c))
    assert best == pytest.approx(cost({"block_x": 64, "block_y": 2, "unroll": 1}))


def test_a_small_space_is_exhausted():
    tuner = sonar.Tuner(sonar.Space({"x": [1, 2, 3]}), "random", seed=0)
    got = tuner.propose(10)
    assert sorted(c["x"] for c in got) == [1, 2, 3]
    tuner.observe(got, [1.0, 2.0, math.inf])
    assert tuner.propose(1) == []


def test_observe_accepts_configs_it_never_proposed_and_never_proposes_them():
    tuner = sonar.Tuner(sonar.Space({"x": [1, 2, 3]}), "random", seed=0)
    tuner.observe({"x": 2}, 1.0)
    assert sorted(c["x"] for c in tuner.propose(3)) == [1, 3]


def test_bad_arguments_raise_value_error():
    space = sonar.Space({"x": [1, 2, 3]})
    with pytest.raises(ValueError, match="unknown tuner 'nope'"):
        sonar.Tuner(space, "nope")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        sonar.Tuner(space, "random", seed=-1)
    with pytest.raises(ValueError, match="transfer"):
        sonar.Tuner(space, "transfer-bo")  # needs transfer_from
    tuner = sonar.Tuner(space, "random")
    with pytest.raises(ValueError, match="n must be >= 1"):
        tuner.propose(0)
    with pytest.raises(ValueError, match="2 configs but 1 costs"):
        tuner.observe([{"x": 1}, {"x": 2}], [1.0])
    with pytest.raises(ValueError, match="has no value 7"):
        tuner.observe([{"x": 7}], [1.0])
    with pytest.raises(ValueError, match="no value for knob 'x'"):
        tuner.observe([{"y": 1}], [1.0])
    with pytest.raises(ValueError, match="not a knob"):
        tuner.observe([{"x": 1, "y": 1}], [1.0])
    with pytest.raises(ValueError, match="seconds > 0"):
        tuner.observe([{"x": 1}], [-1.0])
    with pytest.raises(ValueError, match="seconds > 0"):
        tuner.observe([{"x": 1}], [math.nan])
    with pytest.raises(ValueError, match="seconds"):
        tuner.observe([{"x": 1}], ["fast"])
    with pytest.raises(ValueError, match="a config is a dict"):
        tuner.observe([[1]], [1.0])
    with pytest.raises(FileNotFoundError):
        sonar.Tuner(space, "transfer-bo", transfer_from=["/nonexistent/history.sonar"])


def test_the_gil_is_released_while_the_tuner_works():
    space = sonar.Space({"a": range(0, 64), "b": range(0, 64)})
    tuner = sonar.Tuner(space, "bo", seed=0)
    for _ in range(30):
        (c,) = tuner.propose(1)
        tuner.observe([c], [1e-3 * (1 + (c["a"] - 20) ** 2 + (c["b"] - 40) ** 2)])
    ticks = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    try:
        before_seconds = tuner.seconds
        before_ticks = ticks[0]
        while tuner.seconds - before_seconds < 0.3:  # at least 0.3 s inside C++
            (c,) = tuner.propose(1)
            tuner.observe([c], [1e-3 * (1 + (c["a"] - 20) ** 2 + (c["b"] - 40) ** 2)])
        during = ticks[0] - before_ticks
    finally:
        stop.set()
        thread.join()
    assert during > 1000  # the Python thread ran while C++ worked


def test_transfer_bo_learns_from_history(kt_dir):
    target = kt_dir / "pnpoly__RTX_2080_Ti.json.gz"
    space = sonar.Space.from_records(target)
    table = {tuple(r["config"][k] for k in space.knobs): r["cost"]
             for r in sonar.read_records(target)}
    sources = [kt_dir / "pnpoly__RTX_3060_laptop.json.gz", kt_dir / "pnpoly__RTX_Titan.json.gz"]
    tuner = sonar.Tuner(space, "transfer-bo", seed=0, transfer_from=sources)
    for _ in range(3):
        configs = tuner.propose(2)
        tuner.observe(configs, [table[tuple(c[k] for k in space.knobs)] for c in configs])
    assert tuner.name == "transfer-bo"
