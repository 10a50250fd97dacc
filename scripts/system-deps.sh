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
export DEBIAN_FRONTEND=noninteractive
# man-db's trigger rebuilds the manual index after every install: minutes on a loaded 2-core machine,
# long enough that an interrupted install left dpkg half-configured once. Nobody reads man pages in CI.
echo 'man-db man-db/auto-update boolean false' | debconf-set-selections
rm -f /var/lib/man-db/auto-update
# Wait for another apt/dpkg (rather than failing at once), and finish an install that was interrupted.
apt_opts=(-o DPkg::Lock::Timeout=900)
# `dpkg --configure -a` takes the lock without waiting, so only when dpkg says something is half-done, and
# retried while another dpkg holds the lock.
if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    dpkg --configure -a && break
    echo "system-deps: dpkg busy or failing (attempt $attempt), retrying in 30 s" >&2
    sleep 30
  done
fi
apt-get "${apt_opts[@]}" update -qq
apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${want[@]}" >/dev/null
