#!/usr/bin/env bash
# Sets up (packages + build) and runs the whole test suite. GPU tests skip themselves without CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OPENBLAS_NUM_THREADS=1
ctest --test-dir build --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 900
