# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# examples/python_kernel: a user's own kernel compiled and timed from Python, Sonar proposing.
import os
import shutil
import subprocess
import sys

import pytest

import sonar
from conftest import SOURCE_DIR


def test_the_python_kernel_example_tunes_and_resumes(tmp_path):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (cc)")
    script = SOURCE_DIR / "examples" / "python_kernel" / "tune.py"
    log = tmp_path / "kernel.sonar"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(sonar.__file__)))
    for trials in (3, 5):
        out = subprocess.run([sys.executable, str(script), "--trials", str(trials), "--records",
                              str(log), "--tuner", "random"], check=True, capture_output=True,
                             text=True, env=env, cwd=tmp_path).stdout
        assert "best config: {" in out
    assert "3 resumed" in out
    records = sonar.read_records(log)
    assert len(records) == 5 and all(r["status"] == "ok" for r in records)
    assert len({tuple(r["config"].values()) for r in records}) == 5
