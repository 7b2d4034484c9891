#!/usr/bin/env bash
# Unit tests (model, renderer, reader, modules; no nginx) and functional tests against real,
# private nginx instances on loopback (transactions, validation, distribution, failover basics),
# in parallel (pytest-xdist: every test has its own nginx, random ports, its own namespaces).
# Then: no nginx the tests started may still run (each one's files are under this stage's temp dir).
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1
work="$(mktemp -d "${TMPDIR:-/tmp}/antman-pytest-XXXXXX")"
trap 'rm -rf "$work"' EXIT

read -ra targets <<< "${ANTMAN_PYTEST_ARGS:-tests/unit tests/functional}"

status=0
# importlib mode: test files are named after the file they test, so two folders may hold the same name.
PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider --import-mode=importlib -n "${ANTMAN_PYTEST_WORKERS:-4}" \
  --basetemp "$work/tmp" "${targets[@]}" || status=$?

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
