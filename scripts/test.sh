#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, and runs every unit and integration test with ctest.
set -euo pipefail
# The project's root: this script's parent folder, or the working directory
# when the script runs from a copy elsewhere.
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $root/CMakeLists.txt ]] || root=$PWD
cd "$root"
scripts/build.sh
# The browser tests' one npm package (playwright-core; it drives Debian's chromium).
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
cd build
ctest --output-on-failure -j"$(nproc)"
