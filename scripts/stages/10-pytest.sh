#!/usr/bin/env bash
# pytest, 6 at a time (pytest-xdist; every test has its own nginx, ports, namespaces): the unit
# tests (model, renderer, reader, modules; no nginx), the test tools' own tests (tests/tooling) and
# the functional tests against real, private nginx instances on loopback (pytest.ini: testpaths).
# Then: no nginx the tests started may still run (each one's files are under this stage's temp dir).
#   ANTMAN_PYTEST_ARGS="tests/functional/test_faults.py -k killed"  what to run instead of testpaths
#   ANTMAN_PYTEST_WORKERS=1                                        how many at a time (default 6)
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1
work="$(mktemp -d "${TMPDIR:-/tmp}/antman-pytest-XXXXXX")"
trap 'rm -rf "$work"' EXIT

read -ra targets <<< "${ANTMAN_PYTEST_ARGS:-}"

status=0
PYTHONPATH="$COLLECTIONS" python -m pytest -q -n "${ANTMAN_PYTEST_WORKERS:-6}" --basetemp "$work/tmp" "${targets[@]}" ||
  status=$?

# nginx processes of the tests: an nginx binary with a file open under $work (its logs).
left=()
for proc in /proc/[0-9]*; do
  [ "$(basename "$(readlink "$proc/exe" 2>/dev/null)")" = nginx ] || continue
  if find "$proc/fd" -maxdepth 1 -lname "$work/*" 2>/dev/null | grep -q .; then
    left+=("$(basename "$proc")")
  fi
done
if [ "${#left[@]}" -gt 0 ]; then
  echo "nginx processes started by the tests are still running:" >&2
  ps -o pid,ppid,args -p "$(IFS=,; echo "${left[*]}")" >&2
  kill -KILL "${left[@]}" 2>/dev/null || true
  status=1
fi
exit "$status"
