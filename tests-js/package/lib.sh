# shellcheck shell=bash disable=SC2154
# Shared by the tests in tests-js/package (sourced, after they set $root,
# the repository, and $pack, scripts/pack.sh's output): the pass/fail count,
# and a user's project made from packed packages.

passed=0
failed=0

# check NAME CMD...: passes when CMD succeeds and its last line is "ok".
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1) && [ "$(echo "$out" | tail -1)" = "ok" ]; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name:"
    echo "$out" | sed 's/^/     /'
    failed=$((failed + 1))
  fi
}

# succeeds NAME CMD...: passes when CMD succeeds.
succeeds() {
  local name=$1
  shift
  check "$name" bash -c '"$@" && echo ok' _ "$@"
}

# project DIR CPU LIBC PACKAGE: a user's project on that platform (LIBC
# glibc or musl on Linux, - on Windows) with
# PACKAGE (kvq or kvq-deno) installed from PACK/npm, as `npm install
# PACKAGE` on that machine would: npm picks the platform's package among
# PACKAGE's optional dependencies. The packed platform packages stand in
# for the registry's through overrides; packages not packed are looked up
# on the registry, and skipped as optional when it has none.
project() {
  local dir=$1 cpu=$2 libc=$3 package=$4 overrides=() tgz name
  for tgz in "$pack"/npm/"$package"-linux-*.tgz "$pack"/npm/"$package"-win32-*.tgz; do
    [ -e "$tgz" ] || continue
    name=$(basename "$tgz" | sed 's/-[0-9][0-9.]*\.tgz$//')
    overrides+=("\"$name\": \"file:$tgz\"")
  done
  mkdir -p "$dir"
  cat >"$dir/package.json" <<EOF
{
  "name": "user-project",
  "private": true,
  "type": "module",
  "overrides": { $(
    IFS=,
    echo "${overrides[*]}"
  ) }
}
EOF
  local platform=(--os=linux --cpu="$cpu" --libc="$libc")
  [ "$libc" = - ] && platform=(--os=win32 --cpu="$cpu")
  (cd "$dir" && npm install --silent --no-audit --no-fund "${platform[@]}" \
    "$pack/npm/$package"-[0-9]*.tgz)
  cp "$root"/tests-js/package/smoke_lib.mjs "$root"/tests-js/package/smoke_node.mjs \
    "$root"/tests-js/package/smoke_deno.ts "$dir/"
}

# summary NAME: the closing line, and the exit status.
summary() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
