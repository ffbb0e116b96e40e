#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds, and runs every unit and integration test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
# The browser tests' one npm package (playwright-core; it drives Debian's chromium).
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
cd build
ctest --output-on-failure -j"$(nproc)"
