#!/usr/bin/env bash
# Runs a command with the user's own Secret Service when the session has one (a desktop login).
# A headless machine has none: then the command runs with PAYAIML_SECRETS=file, which keeps the
# sandbox's secrets in a mode-0600 file in its data dir, and says so.
set -euo pipefail
has_secret_service() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  local q=(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus)
  "${q[@]}" org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true' && return 0
  "${q[@]}" org.freedesktop.DBus.ListActivatableNames 2>/dev/null | grep -q '"org.freedesktop.secrets"'
}
if [ -z "${PAYAIML_SECRETS:-}" ] && ! has_secret_service; then
  echo "No Secret Service in this session: keeping the sandbox's secrets in a 0600 file (PAYAIML_SECRETS=file)." >&2
  export PAYAIML_SECRETS=file
fi
exec "$@"
