# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
"""Sonar from Python: ask/tell tuners, a one-call minimize, record logs and history import.

The C++ library does the work (sonar._sonar, a pybind11 module); this package only re-exports it
and adds numpy conveniences. See docs/python.md.

Example:
    import math, sonar
    space = sonar.Space({"block_x": [16, 32, 64, 128], "block_y": [1, 2, 4, 8], "unroll": [0, 1]},
                        constraint=lambda c: c["block_x"] * c["block_y"] <= 256)
    tuner = sonar.Tuner(space, "bo", seed=0)
    configs = tuner.propose(4)                  # list of dicts, knob name -> value
    tuner.observe(configs, [1.2e-3, math.inf, 0.9e-3, 2.0e-3])   # seconds; inf = failed
    best = sonar.minimize(objective, space, tuner="bo", trials=100, seed=0, records="run.sonar")

Names:
    Space(knobs, constraint=None, name="python")   a dict of knob name -> list of values (their
        Python types kept: int, float, str, bool, ...) or range(lo, hi, step); the optional
        constraint is called with a config dict and returns whether it is valid. `name` is part of
        the workload key the records are filed under.
    Space.from_records(path_or_records, workload="")   the listed space of a recorded table (a
        Kernel Tuner cache, an AutoTVM log, a record log), exactly as `sonar tune --replay` and
        `sonar compare --replay` build it.
    Space.from_json(path)   a user kernel's SPACE.json (docs/user_kernels.md).
    Tuner(space, tuner="bo", seed=0, transfer_from=None)   propose(n) / observe(configs, costs).
    minimize(objective, space, tuner="bo", trials=100, seed=0, records=None, batch_size=1,
        transfer_from=None, early_stopping=0, max_wall_seconds=0.0) -> Result
    read_records(path, workload="") -> Records   (iterable of dicts; columns(); to_numpy())
    import_history(paths, out, format="auto", strict=False) -> dict
    best_configs(path, workload="") -> dict   task name -> its best record (config, cost, target):
        what `sonar emit` emits and an application reads at start-up (docs/emit.md)
"""
from ._sonar import (  # noqa: F401  (re-exported)
    TUNERS,
    Records,
    Result,
    Space,
    Tuner,
    best_configs,
    import_history,
    minimize,
    read_records,
)

__version__ = "0.1.0"

__all__ = [
    "TUNERS",
    "Records",
    "Result",
    "Space",
    "Tuner",
    "best_configs",
    "import_history",
    "minimize",
    "read_records",
]


def _records_to_numpy(self):
    """The records as a numpy structured array, one field per column of columns().

    Numeric columns (cost, trial, timestamp) keep their dtype; the others are object arrays
    (knob values keep their Python types; None where a record lacks the knob).
    pandas: pandas.DataFrame(records.columns()) or pandas.DataFrame(records.to_numpy()).
    """
    import numpy as np

    cols = self.columns()
    arrays = []
    for name, values in cols.items():
        if isinstance(values, np.ndarray):
            arrays.append(values)
        else:
            a = np.empty(len(values), dtype=object)
            a[:] = values
            arrays.append(a)
    dtype = [(name, a.dtype) for name, a in zip(cols, arrays)]
    out = np.empty(len(self), dtype=dtype)
    for name, a in zip(cols, arrays):
        out[name] = a
    return out


Records.to_numpy = _records_to_numpy
