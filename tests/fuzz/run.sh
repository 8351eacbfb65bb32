#!/usr/bin/env bash
# Fuzzes the API from its own OpenAPI document with Schemathesis, against a real sandbox:
# every operation, every phase (examples, coverage, fuzzing, stateful sequences through the
# links it infers), every check (no 5xx, answers match the document, valid requests accepted,
# invalid ones refused), once with an admin key and once with a read-only key. Afterwards the
# daemon must still be healthy and its event log gapless.
#
# Usage: run.sh [MAX_EXAMPLES]   (default 40 per operation; make test runs a short pass)
# Needs: the payaimld binary ($PAYAIML_BIN or the cargo target dir) and the venv of setup.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
examples="${1:-40}"
venv="${PAYAIML_CACHE:-$HOME/.cache/payaiml}/venv"
bin="${PAYAIML_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/payaimld}"
out="$root/test-output/fuzz"
rm -rf "$out"
mkdir -p "$out"
data="$(mktemp -d /tmp/payaiml-fuzz-XXXXXX)"
log="$out/payaimld.log"
cleanup() {
  if [ -n "${rates_pid:-}" ]; then kill "$rates_pid" 2>/dev/null || true; fi
  if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$data" "$data.admin-key"
}
trap cleanup EXIT

# Exchange rates come from the loopback stand-in of the four providers: the fuzzer sets a
# currency and prices invoices in one, and nothing in a test may reach the real services.
node "$root/tests/stand-ins/rates.mjs" > "$out/rates-stand-in" &
rates_pid=$!
for _ in $(seq 1 100); do grep -q '^rates stand-in: ' "$out/rates-stand-in" 2>/dev/null && break; sleep 0.1; done
rates="$(sed -n 's/^rates stand-in: //p' "$out/rates-stand-in")"
[ -n "$rates" ] || { echo "fuzz: the rates stand-in did not start" >&2; exit 1; }
rate_urls="coinbase=$rates/coinbase,kraken=$rates/kraken,bitstamp=$rates/bitstamp,coingecko=$rates/coingecko"

# The fuzzer sends every operation with made-up keys on purpose (its auth checks expect 401):
# the unknown-key limit is raised so they are answered 401, not 429. tests/regtest/auth.rs tests
# the limit itself.
"$bin" --data-dir "$data" --listen 127.0.0.1:0 --secrets file --admin-key-file "$data.admin-key" \
  --auth-failures-per-minute 100000 --rate-url "$rate_urls" \
  --webhook-retries 1s sandbox > "$out/stdout" 2> "$log" &
pid=$!
for _ in $(seq 1 1800); do
  grep -q '^admin key file: ' "$out/stdout" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "fuzz: payaimld exited; see $log" >&2; exit 1; }
  sleep 0.1
done
api="$(sed -n 's/^api: //p' "$out/stdout")"
[ -n "$api" ] || { echo "fuzz: the sandbox did not start within 180 s; see $log" >&2; exit 1; }
admin="$(cat "$data.admin-key")"
reader="$(curl -sf -X POST "$api/v1/keys" -H "Authorization: Bearer $admin" \
  -d '{"name": "fuzz read-only", "permissions": ["lightning:read"]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
echo "fuzz: sandbox at $api; $examples examples per operation" >&2

status=0
for who in admin reader; do
  key="$admin"; [ "$who" = reader ] && key="$reader"
  (cd "$out" && "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$api/v1/openapi.json" \
    -H "Authorization: Bearer $key" --max-examples "$examples" --seed 20261130 \
    --report junit --report-junit-path "$out/$who.xml" --no-color) > "$out/$who.txt" 2>&1 || status=1
  tail -n 25 "$out/$who.txt" >&2
done

# The daemon survived and wrote nothing half-way: healthy, event seq consecutive.
curl -sf "$api/v1/health" > /dev/null || { echo "fuzz: the daemon is not healthy after the run" >&2; exit 1; }
curl -sf "$api/v1/events?limit=1000" -H "Authorization: Bearer $admin" | python3 -c '
import json, sys
seqs = [e["seq"] for e in json.load(sys.stdin)["data"]]
assert seqs == list(range(1, len(seqs) + 1)), f"event seq has holes: {seqs}"
print(f"fuzz: daemon healthy, {len(seqs)} events, seq consecutive", file=sys.stderr)'
grep -h -o 'tests="[0-9]*"\|failures="[0-9]*"\|errors="[0-9]*"' "$out"/*.xml | sort | uniq -c >&2 || true
exit $status
