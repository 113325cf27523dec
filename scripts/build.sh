#!/usr/bin/env bash
# Configures and builds dynchat in ./build (Release with debug info).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${DYNCHAT_BUILD_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
