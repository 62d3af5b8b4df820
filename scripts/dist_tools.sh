#!/usr/bin/env bash
# Prepares, idempotently, what building and testing kvq's other platforms
# needs, every piece from the registries this project uses:
#
#   dist_tools.sh build            Debian's Rust 1.96 with the aarch64
#                                  standard library and the library's source
#                                  (for the musl targets, -Zbuild-std), and
#                                  zig with cargo-zigbuild from PyPI, the
#                                  linker for every target, and the two
#                                  empty libraries Windows' link line asks
#                                  for (build_platform.sh says why)
#   dist_tools.sh runtimes CPU LIBC  the runtimes of tests-js/package/runtimes
#                                  for that platform (npm ci --cpu --libc),
#                                  qemu-user and the arm64 C libraries to
#                                  run them here; for win32 (CPU x64,
#                                  LIBC -), the Windows builds
#   dist_tools.sh wine             a wine prefix to run Windows' Node.js in:
#                                  Debian's wine64 8.0, told to be Windows
#                                  10, with the one function of Windows 10's
#                                  bcryptprimitives.dll that Rust's standard
#                                  library imports and wine 8.0 lacks
#   dist_tools.sh muslroot ARCH    a root directory for Bun's musl build, as
#                                  in an Alpine container: musl 1.2.5's
#                                  loader from Debian 13 (bookworm's 1.2.3
#                                  cannot load libraries packed with
#                                  DT_RELR, as Alpine's libstdc++ is) and
#                                  libstdc++ and libgcc_s built for musl,
#                                  from a musllinux wheel on PyPI (Debian
#                                  has none)
#
# Everything lands in .tmp/cross/ but the Debian packages, which need root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools=$root/.tmp/cross
mkdir -p "$tools"

# The Debian packages, installed only if one is missing.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "dist_tools.sh: as root, install the Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  case " ${missing[*]}" in
  *:arm64*) dpkg --add-architecture arm64 ;;
  esac
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

build_tools() {
  apt_install rustc-web cargo-web rust-web-src libstd-rust-web-dev:arm64
  # Debian's cargo and rustc under their plain names, ahead of rustup's.
  mkdir -p "$tools/bin"
  for t in cargo rustc rustdoc; do ln -sfn "/usr/bin/$t" "$tools/bin/$t"; done
  if [ ! -x "$tools/venv/bin/cargo-zigbuild" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install -q --disable-pip-version-check \
      --require-hashes -r scripts/dist_requirements.txt
  fi
  local stubs="$tools/libnode-win-x64"
  if [ ! -e "$stubs/libnode.dll" ]; then
    mkdir -p "$stubs"
    printf 'LIBRARY node.exe\nEXPORTS\n' >"$stubs/node.def"
    "$tools/venv/bin/python" -m ziglang dlltool -m i386:x86-64 \
      -d "$stubs/node.def" -l "$stubs/node.lib"
    printf '!<arch>\n' >"$stubs/libssp_nonshared.a"
    # napi-build checks only that this file exists; the linker takes node.lib.
    : >"$stubs/libnode.dll"
  fi
}

runtimes() {
  local cpu=$1 libc=$2 dir="$tools/runtimes-$1-$2" platform=(--os=linux)
  [ "$cpu" = arm64 ] && apt_install qemu-user-static libc6:arm64 libstdc++6:arm64
  if [ "$libc" = - ]; then platform=(--os=win32) libc='' dir="$tools/runtimes-$cpu-win32"; fi
  if ! cmp -s tests-js/package/runtimes/package-lock.json "$dir/package-lock.json"; then
    rm -rf "$dir"
    mkdir -p "$dir"
    cp tests-js/package/runtimes/package.json tests-js/package/runtimes/package-lock.json "$dir/"
    (cd "$dir" && npm ci --silent --no-audit --no-fund "${platform[@]}" --cpu="$cpu" \
      ${libc:+--libc="$libc"})
  fi
}

# WINEPREFIX for tests-js/package/platform_test.sh; made once.
wine_prefix() {
  local prefix="$tools/wine"
  apt_install wine64
  build_tools
  export WINEPREFIX=$prefix WINEDEBUG=-all
  local sys32="$prefix/drive_c/windows/system32"
  [ -e "$sys32/bcryptprimitives.dll" ] && return
  # Node.js refuses to start on the Windows 7 wine reports at first.
  /usr/lib/wine/wine64 winecfg /v win10 >/dev/null 2>&1
  "$tools/venv/bin/python" -m ziglang cc -target x86_64-windows-gnu -shared -O2 \
    -o "$tools/bcryptprimitives.dll" tests-js/package/wine/bcryptprimitives.c \
    tests-js/package/wine/bcryptprimitives.def -lbcrypt
  cp "$tools/bcryptprimitives.dll" "$sys32/"
}

# Debian 13's musl, fetched with apt from its own package lists, unpacked
# here and never installed.
musl_loader() {
  local arch=$1 dir="$tools/debian13" debarch=$1
  [ "$arch" = x64 ] && debarch=amd64
  [ -d "$dir/musl-$arch" ] && return
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64,arm64] http://deb.debian.org/debian trixie main" \
    >"$dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  [ -e "$dir/lists/deb.debian.org_debian_dists_trixie_InRelease" ] ||
    apt-get "${opts[@]}" update -qq
  (cd "$dir" && apt-get "${opts[@]}" download -qq "musl:$debarch" 2>/dev/null)
  dpkg -x "$dir"/musl_*_"$debarch".deb "$dir/musl-$arch"
}

muslroot() {
  local arch=$1 rootdir="$tools/muslroot-$1"
  local triple=x86_64 cpu=x64 wheel=musllinux_1_2_x86_64
  if [ "$arch" = arm64 ]; then triple=aarch64 cpu=arm64 wheel=musllinux_1_2_aarch64; fi
  apt_install bubblewrap
  [ "$arch" = arm64 ] && apt_install qemu-user-static
  runtimes "$cpu" musl
  [ -x "$rootdir/bin/bun" ] && return
  musl_loader "$arch"
  build_tools
  local wheels="$tools/wheels-$arch"
  mkdir -p "$wheels"
  "$tools/venv/bin/pip" download -q --disable-pip-version-check --no-deps \
    --only-binary=:all: --platform "$wheel" --python-version 3.11 \
    --require-hashes -r "scripts/dist_musl_libs_$arch.txt" -d "$wheels"
  rm -rf "$rootdir"
  mkdir -p "$rootdir"/{lib,bin,usr/bin,usr/lib,tmp,app}
  cp "$tools/debian13/musl-$arch/usr/lib/$triple-linux-musl/libc.so" "$rootdir/lib/ld-musl-$triple.so.1"
  ln -s "../../lib/ld-musl-$triple.so.1" "$rootdir/usr/bin/ldd"
  (cd "$rootdir/usr/lib" && unzip -q -j "$wheels"/*.whl '*.libs/libstdc++*' '*.libs/libgcc_s*' &&
    ln -s libstdc++-*.so.6* libstdc++.so.6)
  [ "$arch" = arm64 ] && cp /usr/bin/qemu-aarch64-static "$rootdir/usr/bin/"
  local bun="bun-linux-x64-musl"
  [ "$arch" = arm64 ] && bun="bun-linux-aarch64-musl"
  cp "$tools/runtimes-$cpu-musl/node_modules/@oven/$bun/bin/bun" "$rootdir/bin/bun"
}

case ${1:-} in
build) build_tools ;;
runtimes) runtimes "$2" "$3" ;;
wine) wine_prefix ;;
muslroot) muslroot "$2" ;;
*)
  echo "usage: $0 build | runtimes CPU LIBC | muslroot ARCH | wine" >&2
  exit 2
  ;;
esac
