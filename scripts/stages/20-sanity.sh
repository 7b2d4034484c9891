#!/usr/bin/env bash
# ansible-test sanity, every test, no ignore entries: on the tested lower bound of
# meta/runtime.yml (ansible-core 2.19, Python 3.11, the project venv), on ansible-core 2.20
# (Python 3.12, requirements-core-2.20.txt) and on the newest ansible-core (2.21, Python 3.12,
# requirements-core-latest.txt), each of these two in a venv of its own.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"

ignores=$(find "$ROOT/tests/sanity" -name 'ignore-*.txt' -exec grep -Hv '^[[:space:]]*\(#.*\)\?$' {} + 2>/dev/null || true)
if [ -n "$ignores" ]; then
  printf 'tests/sanity/ignore-*.txt must stay empty; fix the code instead:\n%s\n' "$ignores" >&2
  exit 1
fi

log "ansible-test sanity: $("$VENV/bin/ansible" --version | head -1), Python 3.11"
ansible_test "$VENV" sanity --venv --python 3.11 --color no

ensure_core_220_venv
log "ansible-test sanity: $("$CORE_220_VENV/bin/ansible" --version | head -1), Python 3.12"
ansible_test "$CORE_220_VENV" sanity --venv --python 3.12 --color no

ensure_core_latest_venv
log "ansible-test sanity: $("$CORE_LATEST_VENV/bin/ansible" --version | head -1), Python 3.12"
ansible_test "$CORE_LATEST_VENV" sanity --venv --python 3.12 --color no
