#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds Sonar and runs every test with ctest. Tests that need ../shared/datasets skip, with a
# message, when it is absent. Assumes the packages of scripts/install_deps.sh are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
