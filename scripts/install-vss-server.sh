#!/usr/bin/env bash
# Installs LDK's Versioned Storage Service server (vss-server, from crates.io, pinned) for the
# backup suites, cached like the regtest bitcoind: nothing system-wide, and a finished install is
# reused. Built without signature auth and with the no-auth switch (the upstream CI's build), plus
# JWT: the one binary then serves without auth when VSS_JWT_RSA_PEM is unset, and checks RS256
# JWTs when it is set. Its PostgreSQL (Debian's postgresql-15) is started by the tests themselves,
# as a private cluster on a loopback port; `make run` needs neither.
#
# Usage: install-vss-server.sh [PREFIX]   (default: $PAYAIML_CACHE or ~/.cache/payaiml, + /vss-server)
# Prints the path of the binary on its last line.
set -euo pipefail

version=0.1.0-alpha.0
cache="${1:-${PAYAIML_CACHE:-$HOME/.cache/payaiml}/vss-server}"
bin="$cache/bin/vss-server"
stamp="$cache/.version"
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "$bin"
  exit 0
fi

echo "install-vss-server: building vss-server $version (once; a few minutes)" >&2
# Its own target dir, so the build neither reuses nor disturbs the workspace's; and without the
# workspace's lint wrapper (the Makefile exports clippy's driver, which would lint vss-server's
# own code with warnings denied).
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS -u RUSTFLAGS \
  CARGO_TARGET_DIR="$cache.build" cargo install --locked --quiet vss-server --version "=$version" \
  --no-default-features --features jwt \
  --config 'build.rustflags=["--cfg","noop_authorizer"]' \
  --root "$cache" >&2
rm -rf "$cache.build"
echo "$version" > "$stamp"
echo "$bin"
