#!/usr/bin/env bash
# Runs a command inside a private D-Bus session bus with an unlocked gnome-keyring, so that the
# real Secret Service backs the keyring in tests on a headless machine. HOME is a fresh temp dir so
# the keyring files of the machine's user are never touched.
set -euo pipefail
if [ $# -eq 0 ]; then echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; fi
keyring_home="$(mktemp -d -t payaiml-keyring.XXXXXX)"
trap 'rm -rf "$keyring_home"' EXIT
export PAYAIML_CACHE="${PAYAIML_CACHE:-$HOME/.cache/payaiml}"
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$keyring_home" XDG_RUNTIME_DIR="$keyring_home/run" XDG_DATA_HOME="$keyring_home/share"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
dbus-run-session -- bash -c '
  printf "payaiml-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' bash "$@"
