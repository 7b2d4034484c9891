#!/usr/bin/env bash
# ansible-test sanity, every test, no ignore entries, on every Python each ansible-core supports as
# a target (the tests that depend on the Python version, compile and import, once per version: the
# collection claims what its ansible-core claims, meta/runtime.yml): ansible-core 2.19 (the lower
# bound, Python 3.11, the project venv; targets 3.8-3.13), 2.20 (Python 3.12), the newest release
# (2.21, Python 3.13) and the newest pre-release (2.22, Python 3.13), each in a venv of its own,
# two at a time (each in its own copy of the collection tree; pylint keeps one CPU busy).
# The pre-release's findings are reported (here and in test.sh's summary) without failing the stage.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"

ignores=$(find "$ROOT/tests/sanity" -name 'ignore-*.txt' -exec grep -Hv '^[[:space:]]*\(#.*\)\?$' {} + 2>/dev/null || true)
if [ -n "$ignores" ]; then
  printf 'tests/sanity/ignore-*.txt must stay empty; fix the code instead:\n%s\n' "$ignores" >&2
  exit 1
fi

ensure_core_220_venv
ensure_core_latest_venv
ensure_core_next_venv
# ansible-test finds the target Pythons as pythonX.Y on PATH (pyenv's, never its shims).
PATH="$(python_versions_dir 3.8 3.9 3.10 3.11 3.12 3.13 3.14):$PATH"
mkdir -p "$BUILD/logs"

# sanity NAME VENV: ansible-test sanity of that venv's ansible-core on every Python found, in a copy
# of the tree at build/sanity/NAME, its output in build/logs/sanity-NAME.log; exits non-zero if it failed.
sanity() {
  local name="$1" core_venv="$2" copy="$BUILD/sanity/$1/ansible_collections/antsle/antman"
  rm -rf "${BUILD:?}/sanity/$name"
  mkdir -p "$copy"
  (cd "$TREE" && tar --exclude=./tests/output --exclude=./.git -cf - .) | (cd "$copy" && tar -xf -)
  ANSIBLE_TEST_TREE="$copy" ansible_test "$core_venv" sanity --venv --color no > "$BUILD/logs/sanity-$name.log" 2>&1
}

# report NAME VENV RC: its output, and a line for the summary: the core, the result, the Pythons the
# version-dependent tests ran on and those this machine lacks.
report() {
  local name="$1" core_venv="$2" rc="$3" output="$BUILD/logs/sanity-$1.log" about
  about="$("$core_venv/bin/python" -c 'import platform, ansible.release as r; print("ansible-core %s (Python %s)" % (r.__version__, platform.python_version()))')"
  log "ansible-test sanity: $about"
  cat "$output"
  note "20-sanity: $about: $([ "$rc" -eq 0 ] && echo passed || echo FAILED); compile and import on Python $(
    grep -oP 'Running sanity test "import" on Python \K[0-9.]+' "$output" | paste -sd, -)$(
    grep -oP 'on Python \K[0-9.]+(?= due to missing interpreter)' "$output" | sort -uV | paste -sd, - | sed 's/^./; skipped, not on this machine: &/')"
}

status=0
names=(2.19 2.20 2.21 2.22-pre)
venvs=("$VENV" "$CORE_220_VENV" "$CORE_LATEST_VENV" "$CORE_NEXT_VENV")
for first in 0 2; do
  pids=()
  for i in "$first" $((first + 1)); do
    sanity "${names[$i]}" "${venvs[$i]}" &
    pids+=($!)
  done
  for j in 0 1; do
    i=$((first + j))
    rc=0
    wait "${pids[$j]}" || rc=$?
    report "${names[$i]}" "${venvs[$i]}" "$rc"
    if [ "$rc" -ne 0 ] && [ "${names[$i]}" = 2.22-pre ]; then
      # The pre-release: a finding is reported, not hidden, and does not fail the stage (it may be
      # the pre-release's own problem); one about this collection's code is fixed before the release.
      note "  pre-release findings (not failing the stage):" \
        "$(grep -E '^ERROR: ' "$BUILD/logs/sanity-2.22-pre.log" | sed 's/^/    /' | head -n 20)"
    elif [ "$rc" -ne 0 ]; then
      status=1
    fi
  done
done
exit "$status"
