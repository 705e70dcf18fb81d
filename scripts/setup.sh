#!/usr/bin/env bash
# Installs ocrkit's Debian 12 packages (as root, or through sudo) and builds it into build/.
#   scripts/setup.sh            install + configure + build
#   OCRKIT_SKIP_APT=1 ...       build only
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(
  cmake ninja-build g++ pkg-config
  libtorch-dev libopenblas0-pthread          # libtorch 1.13 CPU; OpenBLAS instead of the reference BLAS (20x sgemm)
  libopencv-dev libopencv-contrib-dev        # imgcodecs, imgproc, freetype (text rendering for synthesis)
  libpoppler-cpp-dev libpoppler-private-dev  # text layer (cpp API); rendering through poppler's own API
  libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev libcli11-dev libicu-dev
  libgtest-dev libgmock-dev sqlite3
  fonts-dejavu-core fonts-dejavu-extra fonts-liberation fonts-liberation2 fonts-urw-base35 fonts-freefont-ttf fonts-ocr-b fonts-b612 fonts-opendin
  tesseract-ocr tesseract-ocr-eng poppler-utils  # the peer we compare with, and pdftotext for benches
)
if [ -z "${OCRKIT_SKIP_APT:-}" ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
echo "built build/ocrkit"
