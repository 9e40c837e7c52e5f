# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# sonar.Space: dict spaces keep Python types, constraints hold, bad input raises ValueError.
import pytest

import sonar


def test_values_keep_their_python_types():
    space = sonar.Space({"i": [1, 2, 3], "f": [0.5, 1.5], "s": ["a", "b"], "b": [True, False],
                         "r": range(0, 10, 2)})
    assert space.knobs == ["i", "f", "s", "b", "r"]
    assert len(space) == 3 * 2 * 2 * 2 * 5
    seen = sonar.Tuner(space, "grid").propose(len(space))
    assert len(seen) == len(space)
    for c in seen:
        assert type(c["i"]) is int and type(c["f"]) is float and type(c["s"]) is str
        assert type(c["b"]) is bool and type(c["r"]) is int
        assert c["f"] in (0.5, 1.5) and c["r"] in range(0, 10, 2)
    assert {(c["i"], c["f"], c["s"], c["b"], c["r"]) for c in seen} == {
        (i, f, s, b, r) for i in [1, 2, 3] for f in [0.5, 1.5] for s in "ab"
        for b in [True, False] for r in range(0, 10, 2)}


def test_values_are_the_objects_given():
    marker = object()
    space = sonar.Space({"m": [marker, None]})
    values = [c["m"] for c in sonar.Tuner(space, "grid").propose(2)]
    assert values[0] is marker and values[1] is None


def test_constraint_holds_for_every_proposal():
    space = sonar.Space({"x": [16, 32, 64, 128], "y": [1, 2, 4, 8]},
                        constraint=lambda c: c["x"] * c["y"] <= 128)
    for kind in ["random", "grid", "ga", "bo"]:
        tuner = sonar.Tuner(space, kind, seed=1)
        configs = tuner.propose(100)
        assert configs, kind
        assert all(c["x"] * c["y"] <= 128 for c in configs), kind
        valid = sum(1 for x in [16, 32, 64, 128] for y in [1, 2, 4, 8] if x * y <= 128)
        assert len(configs) <= valid
        if kind in ("random", "grid"):
            assert len(configs) == valid
    assert {"x": 16, "y": 1} in space
    assert {"x": 128, "y": 8} not in space
    assert {"x": 3, "y": 1} not in space


def test_an_exception_in_the_constraint_reaches_the_caller():
    def bad(c):
        raise ZeroDivisionError("boom in constraint")

    space = sonar.Space({"x": [1, 2, 3]}, constraint=bad)
    with pytest.raises(ZeroDivisionError, match="boom in constraint"):
        sonar.Tuner(space, "random").propose(1)


def test_sample_is_seeded_and_valid():
    space = sonar.Space({"x": range(1, 100), "y": ["a", "b"]}, constraint=lambda c: c["x"] % 3 == 0)
    a = space.sample(20, seed=4)
    assert a == space.sample(20, seed=4)
    assert all(c["x"] % 3 == 0 for c in a)


def test_workload_key_follows_the_space_and_its_name():
    a = sonar.Space({"x": [1, 2]})
    assert a.workload == sonar.Space({"x": [1, 2]}).workload
    assert a.workload != sonar.Space({"x": [1, 3]}).workload
    assert a.workload != sonar.Space({"x": [1, 2]}, name="other").workload
    assert len(a.workload) == 16


@pytest.mark.parametrize("knobs, message", [
    ({}, "at least one knob"),
    ({"x": []}, "has no values"),
    ({"x": 3}, "expected a list of values or a range"),
    ({"x": "abc"}, "expected a list of values or a range"),
    ({"x": [1, 1]}, "x"),
    ({"x": ["a", "a"]}, "x"),
    ({"x": range(5, 1)}, "empty or descending"),
    ({"bad name": [1]}, "bad name"),
    ({1: [1]}, "knob names are strings"),
])
def test_bad_spaces_raise_value_error(knobs, message):
    with pytest.raises(ValueError, match=message):
        sonar.Space(knobs)


def test_a_constraint_must_be_callable():
    with pytest.raises(ValueError, match="callable"):
        sonar.Space({"x": [1]}, constraint=3)


def test_from_json_reads_a_user_kernel_space():
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "user_kernel" / "SPACE.json"
    space = sonar.Space.from_json(path)
    assert len(space.knobs) >= 1
    (config,) = sonar.Tuner(space, "random", seed=0).propose(1)
    assert set(config) == set(space.knobs)
    with pytest.raises(OSError):
        sonar.Space.from_json("/nonexistent/SPACE.json")
