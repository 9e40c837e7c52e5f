#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sonar's main job: a real tuning run on this machine, needing no data. It describes the
# hardware, then tunes a 512x512x512 fp32 dense layer with the AutoTVM-style tuner (XGBoost cost
# model + simulated annealing): every config is generated as C++, compiled, run in an isolated
# child pinned to one core, checked against a reference and timed. It ends with the best config
# and its speed-up over the default (naive) config, then writes the tuned kernel as C++ into
# out/tuned (sonar emit). Records go to out/main_job.sonar; running it
# again resumes from them. Set SONAR_TRIALS to change the budget (default 64, about 2-3 min).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SONAR_OUT:-out}
trials=${SONAR_TRIALS:-64}
mkdir -p "$out"
echo "== sonar hw describe --quick"
build/sonar hw describe --quick
echo
echo "== sonar tune --op dense --shape 512,512,512 --tuner autotvm --trials $trials"
build/sonar tune --op dense --shape 512,512,512 --tuner autotvm --trials "$trials" \
  --records "$out/main_job.sonar"
echo
echo "== sonar emit: the tuned kernel as C++ for your own build (docs/emit.md)"
build/sonar emit --records "$out/main_job.sonar" --all --out "$out/tuned" --force
