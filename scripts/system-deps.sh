#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing (CI starts from a clean clone).
# Without root (a developer laptop) it only says what is missing: the tests that need it skip with a reason.
set -euo pipefail
want=()
# Each entry: "command-that-proves-it-is-there package..."
check() { local probe=$1; shift; command -v "$probe" >/dev/null 2>&1 || want+=("$@"); }
check Rscript r-base-core r-cran-seuratobject r-cran-seurat
check chromium chromium
if [ ${#want[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: not root, cannot install: ${want[*]} (tests that need them will be skipped)" >&2
  exit 0
fi
echo "system-deps: installing ${want[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
