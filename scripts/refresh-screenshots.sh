#!/usr/bin/env bash
# Copies the screenshots the accessibility suite takes of the main screens (every screen at
# desktop, tablet and phone sizes, light and dark: tests/browser/a11y.test.mjs) into
# docs/screenshots/gallery/, which docs/screenshots.md and the README show. Run the suite first:
#   node --test --test-concurrency=1 tests/browser/a11y.test.mjs && scripts/refresh-screenshots.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
from="${PAYAIML_TEST_OUTPUT:-$root/tests/browser/output}/a11y"
to="$root/docs/screenshots/gallery"
shopt -s nullglob
shots=("$from"/*-{desktop,tablet,phone}-{light,dark}.jpg)
[ "${#shots[@]}" -gt 0 ] || { echo "refresh-screenshots: none in $from: run tests/browser/a11y.test.mjs first" >&2; exit 1; }
mkdir -p "$to"
rm -f "$to"/*.jpg
cp "${shots[@]}" "$to"/
echo "refresh-screenshots: ${#shots[@]} pictures in docs/screenshots/gallery/"
