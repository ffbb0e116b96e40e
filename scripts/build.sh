#!/usr/bin/env bash
# Configures and builds dagctl in ./build (Release): everything, or only the
# targets given (scripts/build.sh dagctl). Produces build/dagctl and build/dagctl-keeper
# (which dagctl runs each try under, found beside it).
set -euo pipefail
# The project's root: this script's parent folder, or the working directory
# when the script runs from a copy elsewhere.
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $root/CMakeLists.txt ]] || root=$PWD
cd "$root"
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$(nproc)" "${targets[@]}"
