#!/usr/bin/env bash
# Builds kvq's native libraries for one platform into its npm packages:
#
#   the N-API addon    -> npm/npm/PLATFORM/kvq.PLATFORM.node
#   Deno's FFI library -> npm/npm/deno-PLATFORM/libkvq_deno.so (glibc only:
#                         Deno ships no musl build)
#
#   scripts/build_platform.sh linux-x64-gnu | linux-arm64-gnu |
#                             linux-x64-musl | linux-arm64-musl
#
# Every platform is built alike, on any x86_64 Debian 12: Debian's rustc
# 1.96 (rustc-web; rustup's servers are out of reach, and with them every
# other target's standard library), linked by zig through cargo-zigbuild.
# The glibc targets link against glibc 2.17's symbols, so they load on any
# glibc from 2.17 on (checked below); the musl targets build the standard
# library from Debian's rust-web-src (-Zbuild-std) and link musl's C
# library dynamically, as a Node.js addon must.
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
*)
  echo "build_platform.sh: unknown platform $platform" >&2
  exit 2
  ;;
esac

scripts/dist_tools.sh build
tools=$root/.tmp/cross
# Debian's cargo and rustc, not rustup's; zig from the venv.
export PATH="$tools/bin:$tools/venv/bin:/usr/local/bin:/usr/bin:/bin"
unset RUSTUP_TOOLCHAIN RUSTC RUSTDOC

out=${CARGO_TARGET_DIR:-$root/target}/$triple/release
cargo-zigbuild zigbuild --release --locked --target "$zig_target" \
  "${build_std[@]}" "${crates[@]}"

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

node=npm/npm/$platform/kvq.$platform.node
cp "$out/libkvq_node.so" "$node"
echo "built $node"
if [ "${#crates[@]}" -gt 2 ]; then
  glibc_floor "$node"
  deno=npm/npm/deno-$platform/libkvq_deno.so
  cp "$out/libkvq_deno.so" "$deno"
  glibc_floor "$deno"
  echo "built $deno"
fi
