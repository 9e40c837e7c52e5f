#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that every tracked C++ file is laid out as .clang-format says (CI runs it). To fix:
#   clang-format -i $(git ls-files '*.cc' '*.h')
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "check_format: the files above differ from .clang-format's layout; run" >&2
  echo "  clang-format -i \$(git ls-files '*.cc' '*.h')" >&2
  exit 1
fi
echo "check_format: ${#files[@]} files follow .clang-format"
