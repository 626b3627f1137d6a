#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png: builds test_screenshots and runs it through CTest (under Xvfb with
# Qt's xcb platform when xvfb-run is installed), writing the images into docs/screenshots/.
# PICTOR_BUILD_DIR picks the build folder (default build/, configured like scripts/build.sh does).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/install-deps.sh" build engine app test
build_dir="${PICTOR_BUILD_DIR:-build}"
jobs="${PICTOR_JOBS:-$(nproc)}"
[ -f "$build_dir/CMakeCache.txt" ] || cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$jobs" --target test_screenshots
mkdir -p docs/screenshots
PICTOR_SCREENSHOT_DIR="$root/docs/screenshots" ctest --test-dir "$build_dir" -R '^test_screenshots$' \
  --output-on-failure -V | grep -E 'platform|KB|Passed|Failed'
# The images live in the repository: each stays under 300 KB.
for png in docs/screenshots/*.png; do
  size=$(stat -c %s "$png")
  [ "$size" -le 307200 ] || { echo "$png: $size bytes, over 300 KB" >&2; exit 1; }
done
ls -l docs/screenshots/*.png
