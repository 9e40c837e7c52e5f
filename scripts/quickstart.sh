#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fresh Debian 12 machine -> installed, built, and Sonar's main job run on this machine.
# Installing packages needs root (sudo is used when not root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
bash scripts/main_job.sh
