#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for N seconds (default 60).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-60}"
fixtures="${PICTOR_FIXTURES:-$root/../shared/fixtures}"
real_inputs="${PICTOR_REAL_INPUTS:-$root/../shared/real-inputs}"
"$root/scripts/install-deps.sh" build engine test
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICTOR_ENGINE_ONLY=ON \
  -DPICTOR_BUILD_FUZZERS=ON -DPICTOR_SANITIZE_ADDRESS=ON -DPICTOR_SANITIZE_UNDEFINED=ON -DPICTOR_BUILD_TESTS=OFF -DPICTOR_BUILD_BENCH=OFF -DPICTOR_TORCH_PCH=OFF >/dev/null
cmake --build build-fuzz -j "${PICTOR_JOBS:-$(nproc)}" --target fuzz_safetensors fuzz_clip_tokenizer fuzz_image_header fuzz_bpe_tokenizer \
  fuzz_sentencepiece_model

run() {
  local name="$1"
  shift
  local work="build-fuzz/corpus-$name" # libFuzzer writes new inputs into the first folder only
  mkdir -p "$work"
  echo "== $name for ${seconds}s"
  "build-fuzz/tests/fuzz/$name" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=4096 "$work" "$@"
}
run fuzz_safetensors tests/fuzz/corpus/safetensors
PICTOR_FUZZ_MODEL_DIR="$fixtures/clip-tiny-a" run fuzz_clip_tokenizer tests/fuzz/corpus/clip_tokenizer
PICTOR_FUZZ_MODEL_DIR="$fixtures/llava-tiny-qwen2" run fuzz_bpe_tokenizer tests/fuzz/corpus/bpe_tokenizer
run fuzz_sentencepiece_model tests/fuzz/corpus/sentencepiece_model
run fuzz_image_header "$real_inputs/pngsuite/png" "$real_inputs/exif-orientation"
