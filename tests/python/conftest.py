# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# Shared fixtures of the Python tests (run by ctest's Python.Pytest with PYTHONPATH at the build
# tree's package; SONAR_CLI, SONAR_SOURCE_DIR and SONAR_SHARED_DIR come from there too).
import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
SOURCE_DIR = pathlib.Path(os.environ.get("SONAR_SOURCE_DIR", HERE.parent.parent))
SHARED_DIR = pathlib.Path(os.environ.get("SONAR_SHARED_DIR", SOURCE_DIR.parent / "shared"))
KT_DIR = SHARED_DIR / "datasets" / "kernel_tuner_cache"


@pytest.fixture
def kt_dir():
    if not KT_DIR.is_dir():
        pytest.skip(f"{KT_DIR} is absent (the shared data sets are not beside the checkout)")
    return KT_DIR


@pytest.fixture
def cli():
    path = os.environ.get("SONAR_CLI", str(SOURCE_DIR / "build" / "sonar"))
    if not os.access(path, os.X_OK):
        pytest.skip(f"the sonar CLI is not built at {path}")
    return path
