#!/usr/bin/env bash
# Every test under AddressSanitizer + UndefinedBehaviorSanitizer (./build-asan), every
# dynchatd the end-to-end tests start included; each process writes any report to a file,
# and a report from any of them fails the run, even from a test that passed. Then the actor
# and net tests under ThreadSanitizer (./build-tsan). (Not the end-to-end tests: Debian's
# libcaf is not built with TSan, so its own synchronisation is invisible to it and every
# message send reads as a race; see docs/testing.md.)
#   scripts/run-sanitizers.sh         (after scripts/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${DYNCHAT_BUILD_JOBS:-$(nproc)}"
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDYNCHAT_JEMALLOC=OFF \
  -DCMAKE_CXX_FLAGS="$flags -O1" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build build-asan -j "$jobs"
reports="$(pwd)/build-asan/sanitizer-reports"
rm -rf "$reports" && mkdir -p "$reports"
status=0
(cd build-asan && ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan" \
   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan" \
   ctest --output-on-failure --timeout 600 -j "${DYNCHAT_TEST_JOBS:-2}") || status=$?

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DDYNCHAT_JEMALLOC=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan -j "$jobs" --target actor_tests net_tests
for t in actor_tests net_tests; do
  TSAN_OPTIONS="halt_on_error=0:log_path=$reports/tsan" "build-tsan/tests/$t" || status=$?
done

if compgen -G "$reports/*" > /dev/null; then
  echo "sanitizer reports:" && ls "$reports" && head -n 40 "$reports"/* && status=1
fi
exit $status
