#!/usr/bin/env bash
# Desktop smoke test: the built desktop app starts on the sandbox under Xvfb, its API answers,
# its window shows a rendered dashboard (not a blank screen: pixel variance and colour count), a
# second launch hands over to the first, and closing the window stops everything cleanly. Run inside scripts/with-keyring.sh.
#
# Usage: tests/desktop/smoke.sh <path to payaiml-desktop>
set -euo pipefail
bin="${1:?path to the payaiml-desktop binary}"
here="$(cd "$(dirname "$0")" && pwd)"
out="${PAYAIML_TEST_OUTPUT:-$here/output}"
mkdir -p "$out"
work="$(mktemp -d)"
log="$out/desktop.log"
app_pid=""; xvfb_pid=""

cleanup() {
  [ -n "$app_pid" ] && kill -9 "$app_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "desktop smoke: FAIL: $*" >&2; echo "--- last lines of $log" >&2; tail -30 "$log" >&2 || true; exit 1; }

# A display of our own.
for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || { disp=":$n"; break; }; done
Xvfb "$disp" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 & xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${disp#:}" ] && break; sleep 0.1; done
export DISPLAY="$disp"

PAYAIML_SANDBOX=1 PAYAIML_DATA_DIR="$work/data" PAYAIML_LISTEN=127.0.0.1:0 PAYAIML_NOTIFY=0 \
  "$bin" >"$log" 2>&1 & app_pid=$!

api=""
for _ in $(seq 1800); do
  api="$(sed -n 's/^api: //p' "$log" | sed -n 1p)"
  [ -n "$api" ] && break
  kill -0 "$app_pid" 2>/dev/null || fail "the app exited before serving"
  sleep 0.1
done
[ -n "$api" ] || fail "no 'api:' line within 180 s"
health="$(curl -sf "$api/v1/health")" || fail "GET $api/v1/health did not answer 200"
echo "desktop smoke: $api/v1/health → $health"
echo "$health" | grep -q '"status":"ok"' || fail "health is not ok: $health"

window=""
for _ in $(seq 300); do
  window="$(xwininfo -root -tree 2>/dev/null | awk '/"PayAiML Merchant"/ && !found { print $1; found = 1 }' || true)"
  [ -n "$window" ] && break
  sleep 0.1
done
[ -n "$window" ] || fail "no 'PayAiML Merchant' window within 30 s"

# Wait for the dashboard to render (the webview paints after the page has loaded its data).
deviation=0; colours=0
for _ in $(seq 60); do
  xwd -root -silent | convert xwd:- "$out/desktop.png"
  stats="$(convert "$out/desktop.png" -format '%[fx:standard_deviation] %k' info:)"
  deviation="${stats% *}"; colours="${stats#* }"
  awk -v d="$deviation" -v c="$colours" 'BEGIN { exit !(d > 0.05 && c > 50) }' && break
  sleep 0.5
done
echo "desktop smoke: screenshot $out/desktop.png: standard deviation $deviation, $colours colours"
awk -v d="$deviation" -v c="$colours" 'BEGIN { exit !(d > 0.05 && c > 50) }' || fail "the window looks blank"

# One instance: a second launch hands over to the first (which comes forward) and exits at once,
# without touching the data dir the first one holds.
second_log="$out/desktop-second.log"
PAYAIML_SANDBOX=1 PAYAIML_DATA_DIR="$work/data" PAYAIML_LISTEN=127.0.0.1:0 PAYAIML_NOTIFY=0 \
  timeout 30 "$bin" >"$second_log" 2>&1 && second=0 || second=$?
[ "$second" -eq 0 ] || { cat "$second_log" >&2; fail "a second launch exited with $second instead of handing over"; }
grep -q '^api: ' "$second_log" && fail "a second instance started its own API"
kill -0 "$app_pid" 2>/dev/null || fail "the first instance died when a second was launched"
curl -sf "$api/v1/health" >/dev/null || fail "the first instance stopped answering after a second launch"
echo "desktop smoke: a second launch handed over to the first and exited"

# Debian's python3 (python3-xlib), whatever else is first on PATH.
/usr/bin/python3 "$here/close_window.py" "$window" || fail "could not ask the window to close"
for _ in $(seq 600); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$app_pid" 2>/dev/null; then fail "the app did not exit within 60 s of closing its window"; fi
wait "$app_pid" && status=0 || status=$?
app_pid=""
[ "$status" -eq 0 ] || fail "the app exited with status $status"
grep -q 'stopped' "$log" || fail "the core did not report a clean stop"
if pgrep -f "$work/data/bitcoind" >/dev/null; then fail "the sandbox's bitcoind is still running"; fi
echo "desktop smoke: closed cleanly"
