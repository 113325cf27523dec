#!/usr/bin/env bash
# libFuzzer targets (tests/fuzz), built with clang under ASan + UBSan in ./build-fuzz.
#   scripts/fuzz.sh --bursts          build every target, run each one's short fixed-seed CTest burst
#   scripts/fuzz.sh TARGET SECONDS    fuzz one target (json_frames, msgpack_frames, rest_query,
#                                     rest_bodies, config_toml, dialogue_bodies, routing_rules) for that long; its corpus grows in build-fuzz/
# A crash leaves the input in build-fuzz/crash-* (a burst's, in build-fuzz/tests/fuzz/); add it to
# tests/fuzz/corpus/TARGET once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${DYNCHAT_BUILD_JOBS:-$(nproc)}"
CXX=clang++-14 cmake -S . -B build-fuzz -DDYNCHAT_FUZZ=ON -DDYNCHAT_JEMALLOC=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if [ "${1:-}" = "--bursts" ]; then
  cmake --build build-fuzz -j "$jobs" --target fuzz_targets
  cd build-fuzz && exec ctest --output-on-failure -j "${DYNCHAT_TEST_JOBS:-2}"
fi
target="${1:?usage: scripts/fuzz.sh --bursts | TARGET SECONDS}"
seconds="${2:?usage: scripts/fuzz.sh TARGET SECONDS}"
cmake --build build-fuzz -j "$jobs" --target "${target}_fuzz"
corpus="build-fuzz/corpus-long-$target"
mkdir -p "$corpus"
cp -n "tests/fuzz/corpus/$target"/* "$corpus"/ 2>/dev/null || true
cd build-fuzz
exec "./tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "../$corpus"
