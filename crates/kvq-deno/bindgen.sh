#!/usr/bin/env bash
# Builds kvq-deno, generates deno_bindgen's TypeScript for it into
# target/deno_bindgen/bindings.generated.ts (never committed: it embeds this
# machine's absolute library path), and fails if the symbol table kvq ships
# by hand (jsr/ffi/symbols.ts) differs from it.
#
#   crates/kvq-deno/bindgen.sh        # from anywhere in the repository
#
# Needs deno_bindgen_cli 0.1 (`cargo install deno_bindgen_cli`) and the
# pinned Deno (node_modules/.bin/deno).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/target/deno_bindgen"
command -v deno_bindgen >/dev/null || {
  echo "deno_bindgen not found: cargo install deno_bindgen_cli" >&2
  exit 1
}

# deno_bindgen_cli 0.1 runs `cargo build --message-format=json` with stdout
# piped but unread until cargo exits; a workspace's JSON (one message per
# dependency) overflows the pipe and cargo blocks forever, holding the build
# lock. A `cargo` shim first on PATH keeps only the cdylib's message. It
# also builds for the host's explicit --target, as the Makefile builds the
# addon and the library, so that the build reuses theirs (without it,
# cargo compiles every dependency again into target/release/: minutes).
shim="$(mktemp -d)"
trap 'rm -rf "$shim"' EXIT
real_cargo="$(command -v cargo)"
host="$(rustc -vV | sed -n 's/^host: //p')"
cat >"$shim/cargo" <<SHIM
#!/usr/bin/env bash
if [ "\$1" = build ]; then set -- "\$@" --target "$host"; fi
output="\$("$real_cargo" "\$@")"
status=\$?
printf '%s\n' "\$output" | grep -F '"cdylib"' || true
exit \$status
SHIM
chmod +x "$shim/cargo"

mkdir -p "$out"
(cd "$root/crates/kvq-deno" &&
  PATH="$shim:$PATH" deno_bindgen --release --lazy-init \
    -o "$out/bindings.generated.ts")
"$root/node_modules/.bin/deno" run --allow-read \
  "$root/crates/kvq-deno/check_bindings.ts" "$out/bindings.generated.ts"
