# shellcheck shell=bash
# Shared shell settings for the scripts in this directory. Source it, do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ANTMAN_VENV:-$ROOT/.venv}"
BUILD="$ROOT/build"
# The collection placed where Ansible and ansible-test expect it (a copy: ansible-test needs a real path).
COLLECTIONS="$BUILD/collections"
TREE="$COLLECTIONS/ansible_collections/antsle/antman"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export PATH="$VENV/bin:$PATH"
# pyenv shims confuse interpreter discovery on this machine kind: modules run with the venv's python.
export ANSIBLE_PYTHON_INTERPRETER="${ANSIBLE_PYTHON_INTERPRETER:-$VENV/bin/python}"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

log() { printf '\n== %s\n' "$*"; }

# note LINE...: print the lines, and keep them for the end of scripts/test.sh's summary (what a
# stage ran, findings that do not fail it) when run from there.
note() {
  printf '%s\n' "$@"
  [ -z "${ANTMAN_NOTES:-}" ] || printf '%s\n' "$@" >> "$ANTMAN_NOTES"
}

# pymod MODULE ARGS...: run a tool of the collection's packages (tests.support.traffic, bench.run,
# ...) with the checkout importable as the collection (scripts/setup.sh links it under
# build/dev-collections): python -m ansible_collections.antsle.antman.MODULE ARGS...
pymod() {
  local module="$1"
  shift
  PYTHONPATH="$ROOT/build/dev-collections${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m "ansible_collections.antsle.antman.$module" "$@"
}

sync_tree() {
  mkdir -p "$TREE"
  # tar instead of rsync: nothing beyond coreutils/tar is needed on a fresh machine.
  (cd "$ROOT" && tar --exclude=./build --exclude='./.venv*' --exclude=./.git --exclude=./tests/output \
      --exclude=./collections --exclude='*.pyc' --exclude=__pycache__ --exclude=./.hypothesis \
      --exclude=./.pytest_cache --exclude=./docs/build -cf - .) | (cd "$TREE" && tar -xf -)
  # Remove files that no longer exist in the checkout.
  (cd "$TREE" && find . -type f ! -path './.git/*' ! -path './tests/output/*' ! -path './.hypothesis/*' ! -path '*/__pycache__/*' -print) |
    while read -r file; do [ -e "$ROOT/$file" ] || rm -f "$TREE/$file"; done
}

# galaxy_dependencies_offline DIR: the collection's dependencies (galaxy.yml: community.crypto) in
# the collections path DIR, as ansible-galaxy would have installed them beside it from Galaxy,
# which is not reachable here: setup.sh put them into the venv from the ansible wheel.
galaxy_dependencies_offline() {
  mkdir -p "$1/ansible_collections/community"
  cp -r "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/community/crypto" \
    "$1/ansible_collections/community/"
}
