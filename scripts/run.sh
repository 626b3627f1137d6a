#!/usr/bin/env bash
# Installs what Pictor needs (Debian packages), builds it and starts it. Arguments go to pictor,
# e.g. scripts/run.sh embed --model ~/models/clip-vit-base-patch32 --text "a dog on a beach".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" build engine app
PICTOR_BUILD_DIR=build "$root/scripts/build.sh" -DPICTOR_BUILD_TESTS=OFF >&2
exec "$root/build/app/pictor" "$@"
