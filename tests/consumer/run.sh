#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the build tree BUILD into a fresh prefix, builds tests/consumer against it with
# find_package(Sonar) only, and runs it. Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/sonar/sonar.h"
test -f "$work/prefix/lib/cmake/Sonar/SonarConfig.cmake" || \
  test -f "$work/prefix/lib/x86_64-linux-gnu/cmake/Sonar/SonarConfig.cmake"
cmake -S "$src/tests/consumer" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/consumer"
