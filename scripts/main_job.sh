#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sonar's main job on this machine. Until the tuning loop lands it demonstrates what exists:
# the hardware descriptor of this machine, and (when ../shared/datasets is beside the clone)
# importing real tuning histories into a crash-safe record log and querying it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SONAR_OUT:-out}
mkdir -p "$out"
echo "== sonar hw describe"
build/sonar hw describe
data=../shared/datasets
if [ -d "$data" ]; then
  echo
  echo "== sonar import (AutoTVM dense history on a V100, and a Kernel Tuner brute-force cache)"
  rm -f "$out/main_job.sonar"
  build/sonar import "$data/autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz" \
    "$data/kernel_tuner_cache/convolution__RTX_3090.json.gz" --out "$out/main_job.sonar"
  echo
  echo "== sonar records stats"
  build/sonar records stats "$out/main_job.sonar"
  echo
  echo "== sonar records best --workload convolution_kernel"
  build/sonar records best "$out/main_job.sonar" --workload convolution_kernel
else
  echo "($data is absent: skipping the history import demonstration)"
fi
