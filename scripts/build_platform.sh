#!/usr/bin/env bash
# Builds kvq's native libraries for one platform into its npm packages:
#
#   the N-API addon    -> npm/npm/PLATFORM/kvq.PLATFORM.node
#   Deno's FFI library -> npm/npm/deno-PLATFORM/libkvq_deno.so (Linux glibc
#                         only: Deno ships no musl build, and Deno for
#                         Windows cannot run under wine here, so a
#                         kvq_deno.dll would ship untested)
#
#   scripts/build_platform.sh linux-x64-gnu | linux-arm64-gnu |
#                             linux-x64-musl | linux-arm64-musl |
#                             win32-x64-gnu
#
# Every platform is built alike, on any x86_64 Debian 12: Debian's rustc
# 1.96 (rustc-web; rustup's servers are out of reach, and with them every
# other target's standard library), linked by zig through cargo-zigbuild.
# The glibc targets link against glibc 2.17's symbols, so they load on any
# glibc from 2.17 on (checked below); the musl targets build the standard
# library from Debian's rust-web-src (-Zbuild-std) and link musl's C
# library dynamically, as a Node.js addon must. Windows (x86_64-pc-windows-gnu)
# also builds the standard library from source and links with the MinGW-w64
# zig ships; its addon loads in the official, MSVC-built Node.js, as it
# finds Node-API's functions in the process at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
platform=${1:?usage: $0 PLATFORM}

crates=(-p kvq-node)
build_std=()
case $platform in
linux-x64-gnu | linux-arm64-gnu)
  arch=x86_64
  [ "$platform" = linux-arm64-gnu ] && arch=aarch64
  triple=$arch-unknown-linux-gnu
  zig_target=$triple.2.17
  crates+=(-p kvq-deno)
  ;;
linux-x64-musl | linux-arm64-musl)
  arch=x86_64
  [ "$platform" = linux-arm64-musl ] && arch=aarch64
  triple=$arch-unknown-linux-musl
  zig_target=$triple
  build_std=(-Zbuild-std)
  # -Zbuild-std is unstable: Debian's stable cargo allows it only so.
  export RUSTC_BOOTSTRAP=1
  # A cdylib cannot link the C library statically.
  flags_var=CARGO_TARGET_${triple//-/_}_RUSTFLAGS
  export "${flags_var^^}=-C target-feature=-crt-static"
  ;;
win32-x64-gnu)
  triple=x86_64-pc-windows-gnu
  zig_target=$triple
  build_std=(-Zbuild-std)
  export RUSTC_BOOTSTRAP=1
  # napi-build, for this target, insists on a libnode.dll to link with
  # (MSYS2's Node.js has one); the addon imports nothing from it (see
  # crates/kvq-node/Cargo.toml), so dist_tools.sh's empty import library
  # stands in. The same directory holds the empty libssp_nonshared.a that
  # rustc's MinGW link line asks for and zig does not ship.
  export LIBNODE_PATH=$root/.tmp/cross/libnode-win-x64
  flags_var=CARGO_TARGET_${triple//-/_}_RUSTFLAGS
  export "${flags_var^^}=-L native=$LIBNODE_PATH"
  ;;
*)
  echo "build_platform.sh: unknown platform $platform" >&2
  exit 2
  ;;
esac

# One build of a platform at a time: `make test` starts one in the
# background early (Makefile, test-background) and its own step waits for
# that one here, then finds everything built.
mkdir -p "$root/.tmp"
exec 9>"$root/.tmp/build-$platform.lock"
flock 9

scripts/dist_tools.sh build 9>&-
tools=$root/.tmp/cross
# Debian's cargo and rustc, not rustup's; zig from the venv.
export PATH="$tools/bin:$tools/venv/bin:/usr/local/bin:/usr/bin:/bin"
unset RUSTUP_TOOLCHAIN RUSTC RUSTDOC

# A build directory of its own: Debian's toolchain shares nothing with
# the main build's, and one directory's lock would make `make test`'s
# own cargo steps wait for the whole cross build (check-bindings waited
# 144-215 s on it).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$tools/target}
out=$CARGO_TARGET_DIR/$triple/release
cargo-zigbuild zigbuild --release --locked --target "$zig_target" \
  "${build_std[@]}" "${crates[@]}" 9>&-

# A library that asks for a newer glibc than 2.17 would fail to load on
# the systems this build is for.
glibc_floor() {
  local newest
  newest=$(objdump -T "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  if [ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -1)" != 2.17 ]; then
    echo "build_platform.sh: $1 needs glibc $newest, above 2.17" >&2
    exit 1
  fi
}

# Each library is copied beside its place, checked, and only then moved in:
# a failed check (or a build stopped midway) never leaves a library that
# make would take for built.
place() { mv -f "$1.tmp" "$1"; }
trap 'rm -f npm/npm/{,deno-}"$platform"/*.tmp' EXIT

node=npm/npm/$platform/kvq.$platform.node
if [ "$platform" = win32-x64-gnu ]; then
  cp "$out/kvq_node.dll" "$node.tmp"
  node_check=$node.tmp
  # Node-API comes from the process at run time: an import of node.exe or
  # libnode.dll would fail to load under any other name.
  # Read the imports first: an objdump that cannot read PE files must not
  # make the check pass unseen (every Windows DLL imports KERNEL32).
  imports=$(objdump -p "$node_check" | grep -i 'DLL Name:' || true)
  if ! grep -qi 'KERNEL32' <<<"$imports"; then
    echo "build_platform.sh: cannot read the imports of $node (objdump -p)" >&2
    exit 1
  fi
  if grep -i 'DLL Name: .*node' <<<"$imports"; then
    echo "build_platform.sh: $node imports from Node's executable" >&2
    exit 1
  fi
  place "$node"
  echo "built $node"
  exit 0
fi
cp "$out/libkvq_node.so" "$node.tmp"
if [ "${#crates[@]}" -gt 2 ]; then
  glibc_floor "$node.tmp"
  deno=npm/npm/deno-$platform/libkvq_deno.so
  cp "$out/libkvq_deno.so" "$deno.tmp"
  glibc_floor "$deno.tmp"
  place "$deno"
  echo "built $deno"
fi
place "$node"
echo "built $node"
