#!/usr/bin/env bash
# One command: install what is missing, build, and run every test through CTest: the
# main build's tests, then each libFuzzer target's short fixed-seed burst (clang build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 300 -j "${DYNCHAT_TEST_JOBS:-2}")
scripts/fuzz.sh --bursts
