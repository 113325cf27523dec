#!/usr/bin/env bash
# Installs the Debian 12 packages dynchat builds with, and only those missing.
# apt-get only; nothing is downloaded from anywhere else.
set -euo pipefail
packages=(
  g++ cmake make pkg-config
  libcaf-dev libboost-dev libboost-system-dev libmsgpack-cxx-dev
  liblmdb-dev lmdb-utils libjemalloc-dev catch2 nlohmann-json3-dev libtomlplusplus-dev
  libspdlog-dev libfmt-dev libcli11-dev libssl-dev
  libical-dev libhowardhinnant-date-dev tzdata # meetings: calendar feeds, slots in time zones
  libcurl4-openssl-dev python3-aiosmtpd # invites by SMTP, and the SMTP sink its tests deliver to
  clang-14 libclang-rt-14-dev # libFuzzer targets (scripts/fuzz.sh) and the sanitizer builds
  python3 curl # the load smoke test and the benchmark scripts read reports and /metrics with them
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
