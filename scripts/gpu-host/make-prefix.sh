#!/bin/sh
# ocrkit copy of ../shared/gpu-host/make-prefix.sh: adds ICU, the synthesis fonts and GoogleTest (static libs kept) to the bundle.
# Build a relocatable-by-path bundle of ocrkit's C++ dependencies (OpenCV core/imgproc/imgcodecs/freetype,
# poppler-cpp, SQLite, yaml-cpp, nlohmann-json, CLI11, fonts) for a CUDA host that has libtorch (for example
# from the PyTorch wheel), CMake and a compiler, but no package registry. Run it on a Debian 12 x86-64
# machine; unpack the tarball at the same path on the GPU host.
#   usage: make-prefix.sh OUT.tar.xz [PREFIX]      (PREFIX default /opt/ocrkit-deps)
#   on the GPU host: tar -xJf OUT.tar.xz -C / && . /opt/ocrkit-deps/env.sh
set -e
OUT=$(realpath -m "${1:?usage: make-prefix.sh OUT.tar.xz [PREFIX]}"); P=${2:-/opt/ocrkit-deps}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
L=$P/usr/lib/x86_64-linux-gnu
rm -rf "$P"; mkdir -p "$P" "$W/debs" "$W/contrib"
cd "$W/debs"
apt-get download $(grep -v '^#' "$HERE/packages.txt") >/dev/null 2>&1 || apt-get download $(grep -v '^#' "$HERE/packages.txt")
for d in *.deb; do dpkg-deb -x "$d" "$P"; done
# from the large contrib -dev package take only the freetype header and link
apt-get download libopencv-contrib-dev >/dev/null 2>&1
dpkg-deb -x libopencv-contrib-dev_*.deb "$W/contrib"
cp "$W/contrib/usr/include/opencv4/opencv2/freetype.hpp" "$P/usr/include/opencv4/opencv2/"
ln -sf "$(readlink "$W/contrib/usr/lib/x86_64-linux-gnu/libopencv_freetype.so")" "$L/libopencv_freetype.so"
# libopencv_imgcodecs links GDAL and GDCM (about 100 more packages) for GDAL/DICOM files only: stub them.
# GDALAllRegister runs at the first imread/imwrite and must be a no-op; the others abort if ever reached.
for n in gdal:libgdal.so.32 gdcmMSFF:libgdcmMSFF.so.3.0 gdcmDSED:libgdcmDSED.so.3.0; do
  gcc -shared -fPIC -O2 -o "$L/${n#*:}" -Wl,-soname,${n#*:} "$HERE/stubs/${n%%:*}.c"; done
# OpenCV's CMake config checks that all of its ~50 modules exist: drop the check
sed -i 's/^list(APPEND _cmake_import_check_targets/#&/' "$L/cmake/opencv4/OpenCVModules-release.cmake"
for f in "$L"/pkgconfig/*.pc; do sed -i "s#=/usr#=$P/usr#" "$f"; done
cat > "$P/fonts.conf" <<EOC
<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>$P/usr/share/fonts</dir><cachedir>/tmp/ocrkit-fccache</cachedir>
<include ignore_missing="yes">$P/usr/share/fontconfig/conf.avail/30-metric-aliases.conf</include>
<include ignore_missing="yes">$P/usr/share/fontconfig/conf.avail/45-latin.conf</include>
<include ignore_missing="yes">$P/usr/share/fontconfig/conf.avail/60-latin.conf</include></fontconfig>
EOC
cat > "$P/env.sh" <<EOE
# source me on the GPU host: dependency paths for CMake, pkg-config, the loader and fontconfig
TORCH_CMAKE=\$(python3 -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
export OCRKIT_DEPS=$P
export FONTCONFIG_FILE=$P/fonts.conf
export PKG_CONFIG_PATH=$L/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$L\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export OpenCV_DIR=$L/cmake/opencv4
export CMAKE_PREFIX_PATH=$P/usr\${TORCH_CMAKE:+:\$TORCH_CMAKE}\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}
EOE
find "$P" -name '*.a' ! -name 'libgtest*' ! -name 'libgmock*' -delete; rm -rf "$P/usr/share/doc" "$P/usr/share/man"
tar -cJf "$OUT" -C / "${P#/}"
echo "wrote $OUT ($(du -h "$OUT" | cut -f1)); on the GPU host: tar -xJf $(basename "$OUT") -C / && . $P/env.sh"
