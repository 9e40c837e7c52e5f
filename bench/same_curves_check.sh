#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# Checks that two builds of sonar make the same tuning decisions (issue 14: a refactoring changes
# no behaviour). Both run the same `sonar compare` calls on the shared Kernel Tuner caches, same
# seeds, and their curves.csv (best cost after every trial of every seed) must be identical:
#   1. all 10 caches; random, grid, ga, autotvm and bo; 3 seeds, 60 trials;
#   2. two caches with --transfer-from all 10 (leave-one-out); random (the baseline, which newer
#      builds run anyway), transfer-bo and rgpe; 2 seeds,
#      30 trials.
# About 90 s per build on 2 cores. Usage:
#   bench/same_curves_check.sh OLD_SONAR NEW_SONAR [WORKDIR]
# (the caches are read from $SONAR_SHARED/datasets, by default ../shared beside the checkout).
# Build the old one from a worktree, e.g.
#   git worktree add /tmp/old COMMIT && cmake -S /tmp/old -B /tmp/old/build -G Ninja \
#     -DCMAKE_BUILD_TYPE=Release && ninja -C /tmp/old/build sonar
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OLD_SONAR NEW_SONAR [WORKDIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
kt="${SONAR_SHARED:-$here/../../shared}/datasets/kernel_tuner_cache"
work=${3:-$(mktemp -d)}
mkdir -p "$work"
run() {  # run NAME SONAR
  local out="$work/$1"
  rm -rf "$out"
  mkdir -p "$out"  # compare --out needs an existing parent
  "$2" compare --replay "$kt"/*.json.gz --tuners random,grid,ga,autotvm,bo --seeds 3 \
    --trials 60 --out "$out/plain" > /dev/null
  "$2" compare --replay "$kt/pnpoly__RTX_Titan.json.gz" "$kt/convolution__RTX_3090.json.gz" \
    --transfer-from "$kt"/*.json.gz --tuners random,transfer-bo,rgpe --seeds 2 --trials 30 \
    --out "$out/transfer" > /dev/null
}
run old "$1"
run new "$2"
status=0
# curves.csv holds every run's best cost after every trial, from which the trials-to figures are
# derived; summary.csv is not compared, because how it reports a median that rests on runs that
# never reached a threshold changed (">N" since a04b46a).
for part in plain transfer; do
  a=$(cat "$work/old/$part/curves.csv")
  b=$(cat "$work/new/$part/curves.csv")
  rows=$(echo "$a" | wc -l)
  if [ "$a" == "$b" ]; then
    echo "$part/curves.csv: identical ($((rows - 1)) rows)"
  else
    echo "$part/curves.csv: DIFFERENT"
    diff <(echo "$a") <(echo "$b") | head -5
    status=1
  fi
done
exit $status
