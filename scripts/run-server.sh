#!/usr/bin/env bash
# One command: install what is missing, build, and run dynchatd on the embedded default
# (LMDB in ./data, a demo agent set, login tokens printed on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/dynchatd --config config/dynchat.toml "$@"
