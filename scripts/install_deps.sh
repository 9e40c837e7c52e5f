#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package Sonar needs to build, test and benchmark.
# Idempotent; run as root on Debian 12. Skips apt entirely when everything is present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libeigen3-dev libceres-dev libdlib-dev libprotobuf-dev protobuf-compiler
  libxgboost-dev xgboost libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  nlohmann-json3-dev libsimdjson-dev libfmt-dev zlib1g-dev libisal-dev libpng-dev libjpeg-dev libblas-dev liblapack-dev
  clang libclang-rt-14-dev clang-format gnuplot-nox
  python3-sklearn
  python3-optuna
  pybind11-dev python3-dev python3-pytest
  libopenmpi-dev openmpi-bin
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
