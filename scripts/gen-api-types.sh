#!/usr/bin/env bash
# The API's TypeScript types, generated from the one description of the API: the OpenAPI document
# the server serves at /v1/openapi.json, printed by `payaimld openapi` (sandbox routes included).
#   sdk/js/openapi.json                 the document itself, checked in so the SDK (and the
#                                       dashboard, which uses the SDK's source) build without Rust
#   sdk/js/src/generated/openapi.ts     its types by openapi-typescript (pinned in sdk/js's
#                                       devDependencies); sdk/js/src/types.ts names them
# Both files are rewritten only by this script, and the same binary always gives the same bytes.
#
# Usage: gen-api-types.sh [--check]
#   --check  regenerate into a temp dir and fail if the checked-in files differ (for CI)
# The binary is $PAYAIMLD, else $CARGO_TARGET_DIR/debug/payaimld (default target dir as in the
# Makefile); build it first (`make build`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
sdk="$root/sdk/js"
doc="$sdk/openapi.json"
types="$sdk/src/generated/openapi.ts"

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

bin="${PAYAIMLD:-${CARGO_TARGET_DIR:-/var/tmp/payaiml-target}/debug/payaimld}"
[ -x "$bin" ] || { echo "gen-api-types: $bin is missing: build it first (make build), or set PAYAIMLD" >&2; exit 1; }
generator="$sdk/node_modules/.bin/openapi-typescript"
[ -x "$generator" ] || { echo "gen-api-types: openapi-typescript is missing: install sdk/js's npm packages (scripts/setup.sh)" >&2; exit 1; }

tmp="$(mktemp -d -t payaiml-api-types.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

"$bin" openapi > "$tmp/openapi.json"
# --empty-objects-unknown: a schema that is an object with no declared properties (an invoice's
# `metadata`, a delivery's `payload`, the payload fields of an event) holds arbitrary JSON, so it
# becomes Record<string, unknown> rather than the default Record<string, never>.
# Run from the temp dir: openapi-typescript reads a redocly.yaml from the working directory if
# there is one, and none must change the output.
(cd "$tmp" && "$generator" openapi.json --empty-objects-unknown --output raw.ts >/dev/null)
{
  echo '// GENERATED FILE: do not edit. Made by scripts/gen-api-types.sh (`make types`) from the OpenAPI'
  echo '// document `payaimld openapi` prints (the one served at /v1/openapi.json, checked in as'
  echo '// sdk/js/openapi.json), with `openapi-typescript openapi.json --empty-objects-unknown`.'
  echo
  cat "$tmp/raw.ts"
} > "$tmp/openapi.ts"

if $check; then
  stale=()
  cmp -s "$tmp/openapi.json" "$doc" || stale+=("${doc#"$root"/}")
  cmp -s "$tmp/openapi.ts" "$types" || stale+=("${types#"$root"/}")
  if [ ${#stale[@]} -gt 0 ]; then
    for f in "${stale[@]}"; do
      fresh="$tmp/$(basename "$f")"
      if [ ! -f "$root/$f" ]; then
        echo "gen-api-types: $f is missing" >&2
      else
        echo "gen-api-types: $f differs from what $bin generates (first lines of the difference):" >&2
        diff -u --label "$f (checked in)" --label "$f (generated)" "$root/$f" "$fresh" | head -n 40 >&2 || true
      fi
    done
    echo "gen-api-types: the checked-in API types are stale: run scripts/gen-api-types.sh (make types) and commit the result" >&2
    exit 1
  fi
  echo "gen-api-types: sdk/js/openapi.json and sdk/js/src/generated/openapi.ts are up to date" >&2
  exit 0
fi

mkdir -p "$(dirname "$types")"
cp "$tmp/openapi.json" "$doc"
cp "$tmp/openapi.ts" "$types"
echo "gen-api-types: wrote ${doc#"$root"/} and ${types#"$root"/}" >&2
