#!/usr/bin/env bash
# Installs what the tests need (Debian packages), builds everything and runs the test suite.
# Where nvcc is present it first builds the CUDA kernels too (compile and link; their gpu-labelled test
# runs only where a GPU is).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/install-deps.sh" build engine app test
jobs="${PICTOR_JOBS:-$(nproc)}"

nvcc="$(command -v nvcc || true)"
[ -n "$nvcc" ] || [ ! -x /usr/local/cuda/bin/nvcc ] || nvcc=/usr/local/cuda/bin/nvcc
if [ -n "$nvcc" ]; then
  echo "== CUDA kernels: compile and link with $nvcc"
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DPICTOR_CUDA=ON -DPICTOR_ENGINE_ONLY=ON \
    -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null
  cmake --build build-cuda -j "$jobs" --target pictor_kernels test_gpu_kernels kernel_bench
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    ctest --test-dir build-cuda --output-on-failure -L gpu
  fi
fi

echo "== Build and test"
PICTOR_BUILD_DIR=build scripts/build.sh -DPICTOR_BUILD_TESTS=ON -DPICTOR_BUILD_BENCH=ON
ctest --test-dir build --output-on-failure -LE gpu -j "$jobs"
