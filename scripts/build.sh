#!/usr/bin/env bash
# Configures and builds Pictor into build/ (Ninja, ccache). Extra arguments go to CMake's configure step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build_dir="${PICTOR_BUILD_DIR:-build}"
jobs="${PICTOR_JOBS:-$(nproc)}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "$jobs"
