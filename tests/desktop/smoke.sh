#!/usr/bin/env bash
# Desktop smoke test: the built desktop app starts on the sandbox under Xvfb, its API answers,
# its window shows a rendered dashboard (not a blank screen: pixel variance and colour count), a
# second launch hands over to the first, and closing the window stops everything cleanly. Then
# the app on a real node, set only by the PAYAIML_* variables payaimld reads: a bitcoind RPC
# chain source, a Lightning listen address and an extra API Host name must all take effect. Run
# inside scripts/with-keyring.sh.
#
# Usage: tests/desktop/smoke.sh <path to payaiml-desktop>
set -euo pipefail
bin="${1:?path to the payaiml-desktop binary}"
here="$(cd "$(dirname "$0")" && pwd)"
out="${PAYAIML_TEST_OUTPUT:-$here/output}"
mkdir -p "$out"
work="$(mktemp -d)"
log="$out/desktop.log"
app_pid=""; xvfb_pid=""; bitcoind_pid=""

# Each process is waited for before its files go: bitcoind still flushing its datadir after
# SIGTERM made `rm -rf` fail ("Directory not empty") and with it a run whose checks had passed.
cleanup() {
  local status=$?
  set +e
  for pid in "$app_pid" "$bitcoind_pid" "$xvfb_pid"; do
    [ -n "$pid" ] || continue
    if [ "$pid" = "$app_pid" ]; then kill -9 "$pid" 2>/dev/null; else kill "$pid" 2>/dev/null; fi
    wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
fail() { echo "desktop smoke: FAIL: $*" >&2; echo "--- last lines of $log" >&2; tail -30 "$log" >&2 || true; exit 1; }
# Sets $api from the app's `api:` line in $log, waiting at most $1 seconds; $2 says which run.
wait_for_api() {
  api=""
  for _ in $(seq $(($1 * 10))); do
    api="$(sed -n 's/^api: //p' "$log" | sed -n 1p)"
    [ -n "$api" ] && return
    kill -0 "$app_pid" 2>/dev/null || fail "the app exited before serving ($2)"
    sleep 0.1
  done
  fail "no 'api:' line within $1 s ($2)"
}
# Waits at most 60 s for the app to exit, then checks it exited 0 and the core stopped cleanly.
wait_for_clean_exit() {
  for _ in $(seq 600); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$app_pid" 2>/dev/null; then fail "the app did not exit within 60 s ($1)"; fi
  wait "$app_pid" && status=0 || status=$?
  app_pid=""
  [ "$status" -eq 0 ] || fail "the app exited with status $status ($1)"
  grep -q 'stopped' "$log" || fail "the core did not report a clean stop ($1)"
}

# A display of our own.
for n in $(seq 90 120); do [ -e "/tmp/.X11-unix/X$n" ] || { disp=":$n"; break; }; done
Xvfb "$disp" -screen 0 1280x860x24 -nolisten tcp >/dev/null 2>&1 & xvfb_pid=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${disp#:}" ] && break; sleep 0.1; done
export DISPLAY="$disp"

PAYAIML_SANDBOX=1 PAYAIML_DATA_DIR="$work/data" PAYAIML_LISTEN=127.0.0.1:0 PAYAIML_NOTIFY=0 \
  "$bin" >"$log" 2>&1 & app_pid=$!

wait_for_api 180 "on the sandbox"
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
wait_for_clean_exit "after closing its window"
if pgrep -f "$work/data/bitcoind" >/dev/null; then fail "the sandbox's bitcoind is still running"; fi
echo "desktop smoke: closed cleanly"

# The same app on a real node, configured only by the variables payaimld reads.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
bitcoind="${PAYAIML_BITCOIND:-${PAYAIML_CACHE:-$HOME/.cache/payaiml}/bitcoind/bin/bitcoind}"
rpc_port="$(free_port)"; ln_port="$(free_port)"
mkdir -p "$work/btc"
"$bitcoind" -regtest -datadir="$work/btc" -rpcport="$rpc_port" -rpcbind=127.0.0.1 -rpcallowip=127.0.0.1 \
  -rpcuser=shop -rpcpassword=till -listen=0 -dnsseed=0 -fixedseeds=0 -fallbackfee=0.0002 \
  >"$out/desktop-bitcoind.log" 2>&1 & bitcoind_pid=$!
real_log="$out/desktop-real-node.log"
PAYAIML_NETWORK=regtest PAYAIML_DATA_DIR="$work/real" PAYAIML_LISTEN=127.0.0.1:0 PAYAIML_NOTIFY=0 \
  PAYAIML_BITCOIND_RPC="127.0.0.1:$rpc_port" PAYAIML_BITCOIND_RPC_USER=shop PAYAIML_BITCOIND_RPC_PASSWORD=till \
  PAYAIML_LN_LISTEN="127.0.0.1:$ln_port" PAYAIML_ALLOW_HOSTS=till.shop.example \
  PAYAIML_ADMIN_KEY_FILE="$work/admin.key" \
  "$bin" >"$real_log" 2>&1 & app_pid=$!
log="$real_log"
wait_for_api 60 "on a real node"
state=""
for _ in $(seq 600); do
  health="$(curl -sf "$api/v1/health" || true)"
  state="$(echo "$health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"]["state"])' 2>/dev/null || true)"
  [ "$state" = running ] && break
  sleep 0.1
done
[ "$state" = running ] || fail "the node did not start on bitcoind RPC within 60 s: $health"
echo "$health" | grep -q "\"chain_source\":\"bitcoind rpc 127.0.0.1:$rpc_port\"" \
  || fail "PAYAIML_BITCOIND_RPC was not used: $health"
echo "$health" | grep -q '"network":"regtest"' || fail "PAYAIML_NETWORK was not used: $health"
key="$(cat "$work/admin.key")"
node="$(curl -sf -H "Authorization: Bearer $key" "$api/v1/node")" || fail "GET /v1/node with the key from PAYAIML_ADMIN_KEY_FILE"
echo "$node" | grep -q "127.0.0.1:$ln_port" || fail "PAYAIML_LN_LISTEN was not used: $node"
status="$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: till.shop.example' "$api/v1/health")"
[ "$status" = 200 ] || fail "the Host named in PAYAIML_ALLOW_HOSTS got $status"
status="$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: elsewhere.example' "$api/v1/health")"
[ "$status" = 403 ] || fail "an unknown Host got $status instead of 403"
echo "desktop smoke: on a real node: chain source bitcoind rpc 127.0.0.1:$rpc_port, Lightning on 127.0.0.1:$ln_port, Host till.shop.example accepted"
kill -TERM "$app_pid"
wait_for_clean_exit "on a real node, after SIGTERM"
echo "desktop smoke: the app on a real node stopped cleanly on SIGTERM"

# Started with neither PAYAIML_SANDBOX nor PAYAIML_NETWORK, the app hosts the install's wallets and,
# with none yet, opens on the first-run setup: the API answers 503 setup_required until a wallet
# is chosen, and the window shows the setup (not a key prompt, not a blank page).
setup_log="$out/desktop-setup.log"
setup_port="$(free_port)"
PAYAIML_DATA_DIR="$work/home" PAYAIML_LISTEN="127.0.0.1:$setup_port" PAYAIML_NOTIFY=0 \
  "$bin" >"$setup_log" 2>&1 & app_pid=$!
log="$setup_log"
status=""
for _ in $(seq 300); do
  status="$(curl -s -o "$work/setup-answer.json" -w '%{http_code}' "http://127.0.0.1:$setup_port/v1/lightning/balance" || true)"
  [ "$status" = 503 ] && break
  kill -0 "$app_pid" 2>/dev/null || fail "the app exited instead of opening on the setup"
  sleep 0.1
done
[ "$status" = 503 ] && grep -q '"setup_required"' "$work/setup-answer.json" \
  || fail "before any wallet the API answered $status: $(cat "$work/setup-answer.json" 2>/dev/null)"
for _ in $(seq 60); do
  xwd -root -silent | convert xwd:- "$out/desktop-setup.png"
  stats="$(convert "$out/desktop-setup.png" -format '%[fx:standard_deviation] %k' info:)"
  awk -v d="${stats% *}" -v c="${stats#* }" 'BEGIN { exit !(d > 0.05 && c > 50) }' && break
  sleep 0.5
done
grep -q 'the setup screen connected' "$setup_log" || fail "the window did not reach the setup"
echo "desktop smoke: with no wallet yet the app opened on the setup ($out/desktop-setup.png)"
kill -TERM "$app_pid"
wait_for_clean_exit_of_setup() {
  for _ in $(seq 600); do kill -0 "$app_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$app_pid" && status=0 || status=$?
  app_pid=""
  [ "$status" -eq 0 ] || fail "the app in setup exited with status $status after SIGTERM"
}
wait_for_clean_exit_of_setup
echo "desktop smoke: the app in setup stopped cleanly on SIGTERM"
