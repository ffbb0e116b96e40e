#!/usr/bin/env bash
# Configures and builds dagctl in ./build (Release): everything, or only the
# targets given (scripts/build.sh dagctl). Produces build/dagctl.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/deps.sh"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$(nproc)" "${targets[@]}"
