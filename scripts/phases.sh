#!/usr/bin/env bash
# Runs `make PHASE` for each phase named, in order, and stops at the first that fails. Each phase
# is told that the ones before it are made (`make -o`), so `build` or `ui` named as prerequisites
# of a later phase are not run again. Prints how long each phase took at the end, also when one
# failed, and exits with the failing phase's status.
#
# Usage: phases.sh PHASE...
set -uo pipefail

names=()
times=()
done_flags=()
status=0
failed=
start_all=$(date +%s)
for phase in "$@"; do
  start=$(date +%s)
  make --no-print-directory "${done_flags[@]}" "$phase"
  rc=$?
  names+=("$phase")
  times+=($(($(date +%s) - start)))
  if [ "$rc" -ne 0 ]; then
    status=$rc
    failed=$phase
    break
  fi
  done_flags+=(-o "$phase")
done

total=$(($(date +%s) - start_all))
echo
echo "make test: time per phase"
for i in "${!names[@]}"; do
  printf '  %-14s %4d min %02d s\n' "${names[$i]}" $((times[i] / 60)) $((times[i] % 60))
done
printf '  %-14s %4d min %02d s\n' total $((total / 60)) $((total % 60))
if [ -n "$failed" ]; then
  echo "make test: phase '$failed' failed (exit $status)"
fi
exit "$status"
