#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/debian-packages.txt for the given groups
# (default: build engine app). Skips apt entirely when everything is already installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build engine app)

wanted=()
while read -r group pkg; do
  case "$group" in ''|'#'*) continue ;; esac
  for g in "${groups[@]}"; do [ "$g" = "$group" ] && wanted+=("$pkg"); done
done < "$here/debian-packages.txt"

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
