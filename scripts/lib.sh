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

# The checkout itself as the collection, through a link: build/dev-collections/ansible_collections/
# antsle/antman -> the checkout. On PYTHONPATH it makes the checkout importable as
# ansible_collections.antsle.antman (scripts/pytest.sh, pymod); molecule run from the checkout puts it
# first on the collections path (extensions/molecule/config.yml). Nothing is copied: edits count at once.
DEV_COLLECTIONS="$BUILD/dev-collections"
dev_collections() {
  [ "$(readlink "$DEV_COLLECTIONS/ansible_collections/antsle/antman")" = "$ROOT" ] && return 0
  mkdir -p "$DEV_COLLECTIONS/ansible_collections/antsle"
  ln -sfn "$ROOT" "$DEV_COLLECTIONS/ansible_collections/antsle/antman"
}

# pymod MODULE ARGS...: run a tool of the collection's packages (tests.support.traffic, bench.run,
# ...) from the checkout: python -m ansible_collections.antsle.antman.MODULE ARGS...
pymod() {
  local module="$1"
  shift
  dev_collections
  PYTHONPATH="$DEV_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" -m "ansible_collections.antsle.antman.$module" "$@"
}

# sync_tree [DIR [FROM]]: the checkout (or the tree FROM) copied to DIR (default $TREE), without
# build output, venvs, git or caches. Only changed files are rewritten, each in one rename, so a
# stage reading DIR beside one syncing it never finds a file missing (scripts/sync_tree.py).
sync_tree() {
  python3 "$ROOT/scripts/sync_tree.py" "${2:-$ROOT}" "${1:-$TREE}"
}

# galaxy_dependencies_offline DIR: the collection's dependencies (galaxy.yml: community.crypto) in
# the collections path DIR, as ansible-galaxy would have installed them beside it from Galaxy,
# which is not reachable here: setup.sh put them into the venv from the ansible wheel.
galaxy_dependencies_offline() {
  mkdir -p "$1/ansible_collections/community"
  cp -r "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/community/crypto" \
    "$1/ansible_collections/community/"
}
