#!/usr/bin/env bash
# ansible-test integration: every target in tests/integration/targets (one per module; each starts
# and stops its own private nginx on loopback through the setup_nginx role), twice, side by side:
# under ansible-core 2.19 (Python 3.11) with the modules run by the oldest Python it supports on a
# target, 3.8, and under the newest ansible-core (2.21, Python 3.13) with the modules run by
# Python 3.13 (ansible-test builds a venv of that Python as the target and sets
# ansible_python_interpreter to it). Each run has its own copy of the tree (its tests/output, with
# ansible-test's venvs, is kept from run to run) and its own range of ports
# (tests/integration/integration_config.yml there: setup_nginx_port_range).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"

# ansible-test finds the Pythons as pythonX.Y on PATH too (pyenv's, never its shims).
PATH="$(python_versions_dir 3.8 3.11 3.13):$PATH"
mkdir -p "$BUILD/logs"
ensure_core_latest_venv

# integration VENV CONTROLLER_PYTHON TARGET_PYTHON FIRST_PORT:LAST_PORT LOG: every target, its output
# to LOG, whose last line says how it went; fails unless each target said its modules ran on
# TARGET_PYTHON (setup_nginx prints "modules run by Python X.Y.Z").
integration() {
  local core_venv="$1" controller="$2" target="$3" ports="$4" output="$5" started=$SECONDS rc=0 seen copy
  copy="$BUILD/integration/$(basename "$output" .log)/ansible_collections/antsle/antman"
  sync_tree "$copy" "$TREE"
  printf -- '---\n# Written by scripts/stages/40-integration.sh for this run.\nsetup_nginx_port_range: [%s, %s]\n' \
    "${ports%:*}" "${ports#*:}" > "$copy/tests/integration/integration_config.yml"
  ANSIBLE_TEST_TREE="$copy" ansible_test "$core_venv" integration --requirements --color no \
    --controller "origin:python=venv/$controller@$(pyenv_python "$controller")" \
    --target "controller:python=venv/$target@$(pyenv_python "$target")" > "$output" 2>&1 || rc=$?
  seen="$(grep -oP '"msg": "modules run by Python \K[0-9]+\.[0-9]+' "$output" | sort | uniq -c | xargs)"
  if [ "$rc" -eq 0 ] && [[ ! "$seen" =~ ^[0-9]+\ ${target//./\\.}$ ]]; then
    echo "the modules were to run on Python $target; the targets said: ${seen:-nothing}" >> "$output"
    rc=1
  fi
  echo "ansible-core $("$core_venv/bin/python" -c 'import ansible.release as r; print(r.__version__)') (Python $controller)," \
    "modules on Python $target (as its ${seen%% *} nginx setups said): $([ "$rc" -eq 0 ] && echo passed || echo FAILED)" \
    "in $((SECONDS - started)) s" >> "$output"
  return "$rc"
}

# ansible-test makes its SSH key pair (~/.ansible/test/id_rsa, for remote hosts) on its first run on a
# machine; two first runs at once race to make it and one fails ("already exists"). Made here first,
# as ansible-test makes it (core_ci.py SshKey: PEM, the header paramiko reads).
key="$HOME/.ansible/test/id_rsa"
if [ ! -f "$key" ] || [ ! -f "$key.pub" ]; then
  mkdir -p "$(dirname "$key")"
  rm -f "$key" "$key.pub"
  ssh-keygen -m PEM -q -t rsa -N '' -f "$key"
  sed -i -E 's/(BEGIN|END) PRIVATE KEY/\1 RSA PRIVATE KEY/' "$key"
fi

outputs=("$BUILD/logs/integration-2.19.log" "$BUILD/logs/integration-2.21.log")
integration "$VENV" 3.11 3.8 10000:21000 "${outputs[0]}" &
older=$!
integration "$CORE_LATEST_VENV" 3.13 3.13 21000:32768 "${outputs[1]}" &
newer=$!
status=0
wait "$older" || status=1
wait "$newer" || status=1
for output in "${outputs[@]}"; do
  log "ansible-test integration: $(tail -n 1 "$output")"
  cat "$output"
  note "40-integration: $(tail -n 1 "$output")"
done
exit "$status"
