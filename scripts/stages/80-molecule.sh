#!/usr/bin/env bash
# Molecule scenarios (every molecule/<scenario>/molecule.yml), one after another: each runs its
# whole test sequence against this machine's own nginx, with network-namespace antlets
# (tests/support/antlets.py), and restores both at the end. A scenario that fails or runs out of
# time is destroyed here too, so nothing is left behind. Needs root (namespaces, /etc/nginx).
# Time budget for all scenarios together: $ANTMAN_MOLECULE_BUDGET seconds (default 600).
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1

budget="${ANTMAN_MOLECULE_BUDGET:-600}"
deadline=$((SECONDS + budget))
scenarios=()
for file in molecule/*/molecule.yml; do
  [ -e "$file" ] && scenarios+=("$(basename "$(dirname "$file")")")
done
if [ "${#scenarios[@]}" -eq 0 ]; then
  echo "no molecule scenarios"
  exit 0
fi

destroy() {
  # molecule's own destroy playbook; it is safe when nothing or only part was created.
  molecule destroy -s "$1" >/dev/null 2>&1 || echo "WARNING: molecule destroy -s $1 failed"
}

failed=()
results=()
current=""
trap '[ -n "$current" ] && destroy "$current"' EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs when the stage is stopped
for scenario in "${scenarios[@]}"; do
  remaining=$((deadline - SECONDS))
  if [ "$remaining" -le 0 ]; then
    failed+=("$scenario")
    results+=("$(printf '%-12s %-8s' "$scenario" "NOT RUN (time budget of ${budget}s used up)")")
    continue
  fi
  log "molecule test -s $scenario (at most ${remaining}s left)"
  current="$scenario"
  started=$SECONDS
  if timeout --kill-after=30 "$remaining" molecule test -s "$scenario"; then
    result=passed
  else
    result=FAILED
    failed+=("$scenario")
    destroy "$scenario"  # molecule destroys after a failed step, but not when it was killed
  fi
  current=""
  results+=("$(printf '%-12s %-8s %4ds' "$scenario" "$result" $((SECONDS - started)))")
done
log "molecule scenarios"
printf '%s\n' "${results[@]}"
[ "${#failed[@]}" -eq 0 ] || { echo "FAILED scenarios: ${failed[*]}"; exit 1; }
