#!/usr/bin/env bash
# Packs kvq's packages as the registries would receive them, into DEST:
#
#   DEST/npm/*.tgz   `npm pack` of kvq, of kvq-deno, and of each PLATFORM's
#                    packages (kvq-PLATFORM, and kvq-deno-PLATFORM for Linux
#                    with glibc)
#   DEST/jsr/        the files `deno publish --dry-run` lists for @kvq/kvq,
#                    copied as they are: kvq's modules name every dependency
#                    in full (npm:kvq-deno@0.1.0), so JSR rewrites nothing
#
#   scripts/pack.sh DEST PLATFORM...
#
# The platforms' binaries must be built (scripts/build_platform.sh), and the
# npm package's dist/ (make build). A PLATFORM written `linux-x64-gnu=host`
# takes that platform's binaries from this machine's own build instead
# (`make build`: the addon npm/kvq.PLATFORM.node, and
# target/release/libkvq_deno.so): `make test` packs so, to check the
# packages without a second full build of the platform it runs on; the
# cross-built binaries are checked by `make test-dist`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dest=$(mkdir -p "$1" && cd "$1" && pwd)
shift

rm -rf "$dest/npm" "$dest/jsr"
mkdir -p "$dest/npm" "$dest/jsr"
pack() {
  (cd "$1" && npm pack --silent --pack-destination "$dest/npm" >/dev/null)
}
pack npm
pack npm/npm/deno
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# A platform's package, with its binary from this machine's build.
pack_host() {
  local dir=$1 from=$2 name=$3
  rm -rf "$stage/pkg"
  cp -r "$dir" "$stage/pkg"
  cp "$from" "$stage/pkg/$name"
  pack "$stage/pkg"
}
for spec in "$@"; do
  platform=${spec%=host}
  if [ "$spec" != "$platform" ]; then
    pack_host "npm/npm/$platform" "npm/kvq.$platform.node" "kvq.$platform.node"
    case $platform in
    linux-*-gnu) pack_host "npm/npm/deno-$platform" target/release/libkvq_deno.so libkvq_deno.so ;;
    esac
    continue
  fi
  pack "npm/npm/$platform"
  case $platform in
  linux-*-gnu) pack "npm/npm/deno-$platform" ;;
  esac
done

# The dry run checks what JSR checks (slow types among them) and lists the
# files it would upload; a dirty tree is allowed, as this runs while one is
# being changed.
listing=$(cd jsr && NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 \
  "$root/node_modules/.bin/deno" publish --dry-run --allow-dirty 2>&1) || {
  echo "$listing" >&2
  exit 1
}
files=$(echo "$listing" | sed -n "s#^ *file://$root/jsr/\(.*\) ([0-9.]*[KMG]*B)\$#\1#p")
[ -n "$files" ] || {
  echo "pack.sh: no files in the deno publish listing:" >&2
  echo "$listing" >&2
  exit 1
}
for f in $files; do
  mkdir -p "$dest/jsr/$(dirname "$f")"
  cp "jsr/$f" "$dest/jsr/$f"
done
echo "packed into $dest: $(ls "$dest/npm" | tr '\n' ' ')and jsr/ ($(echo "$files" | wc -l) files)"
