#!/usr/bin/env bash
# Configures and builds dagctl in ./build (Release). Produces build/dagctl.
set -euo pipefail
cd "$(dirname "$0")/.."
"$(dirname "$0")/deps.sh"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
