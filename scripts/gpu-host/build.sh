#!/usr/bin/env bash
# On the GPU host (from the project root, with .gpu/deps.tar.xz carried): unpack the dependency bundle
# and build ocrkit against the host's CUDA libtorch into build-cuda/. Source it: it exports the env.
set -e
if [ ! -d /opt/ocrkit-deps ]; then tar -xJf .gpu/deps.tar.xz -C /; fi
. /opt/ocrkit-deps/env.sh
export OCRKIT_FONTS_DIR=/opt/ocrkit-deps/usr/share/fonts
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release ${OCRKIT_CMAKE_ARGS:-} > build-cuda.log 2>&1 || { tail -40 build-cuda.log; exit 1; }
cmake --build build-cuda -j "$(nproc)" ${OCRKIT_TARGETS:+--target $OCRKIT_TARGETS} >> build-cuda.log 2>&1 || { grep -E "error|Error" -A3 build-cuda.log | head -60; exit 1; }
echo "[gpu-host] built build-cuda ($(nproc) cores)"
