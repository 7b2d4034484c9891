#!/usr/bin/env bash
# ansible-test integration: every target in tests/integration/targets (one per module; each starts
# and stops its own private nginx on loopback through the setup_nginx role), twice: under
# ansible-core 2.19 (Python 3.11) with the modules run by the oldest Python it supports on a
# target, 3.8, and under the newest ansible-core (2.21, Python 3.13) with the modules run by
# Python 3.13 (ansible-test builds a venv of that Python as the target and sets
# ansible_python_interpreter to it).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"

# ansible-test finds the Pythons as pythonX.Y on PATH too (pyenv's, never its shims).
PATH="$(python_versions_dir 3.8 3.11 3.13):$PATH"
mkdir -p "$BUILD/logs"

# integration VENV CONTROLLER_PYTHON TARGET_PYTHON: every target; fails unless each said its modules
# ran on TARGET_PYTHON (setup_nginx prints "modules run by Python X.Y.Z").
integration() {
  local core_venv="$1" controller="$2" target="$3" core started=$SECONDS rc=0 output seen
  core="$("$core_venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')"
  output="$BUILD/logs/integration-$core.log"
  log "ansible-test integration: ansible-core $core on Python $controller, modules on Python $target"
  ansible_test "$core_venv" integration --requirements --color no \
    --controller "origin:python=venv/$controller@$(pyenv_python "$controller")" \
    --target "controller:python=venv/$target@$(pyenv_python "$target")" 2>&1 | tee "$output" || rc=$?
  seen="$(grep -oP '"msg": "modules run by Python \K[0-9]+\.[0-9]+' "$output" | sort | uniq -c | xargs)"
  if [ "$rc" -eq 0 ] && [[ ! "$seen" =~ ^[0-9]+\ ${target//./\\.}$ ]]; then
    echo "the modules were to run on Python $target; the targets said: ${seen:-nothing}" >&2
    rc=1
  fi
  note "40-integration: ansible-core $core (Python $controller), modules on Python $target (as its ${seen%% *} nginx setups said): $(
    [ "$rc" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
  return "$rc"
}

status=0
integration "$VENV" 3.11 3.8 || status=1
ensure_core_latest_venv
integration "$CORE_LATEST_VENV" 3.13 3.13 || status=1
exit "$status"
