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

# sync_tree [DIR [FROM]]: the checkout (or the tree FROM) copied to DIR (default $TREE,
# .../ansible_collections/antsle/antman), files gone from it removed there; what ansible-test keeps
# in DIR/tests/output (its venvs) stays. A copy already made of the same files is left as it is (the
# archive's stamp under build/.sync is the same and tar finds no file of it differing in DIR): nothing
# another stage reads from it is rewritten under it (the demo's setup.sh runs beside other stages).
sync_tree() {
  local dest="${1:-$TREE}" from="${2:-$ROOT}" archive stamp sum
  mkdir -p "$dest" "$BUILD/.sync"
  stamp="$BUILD/.sync/$(echo "$dest" | sha256sum | cut -c1-16)"
  archive="$(mktemp "$BUILD/.sync/archive-XXXXXX")"
  # tar instead of rsync: nothing beyond coreutils/tar is needed on a fresh machine.
  (cd "$from" && tar --exclude=./build --exclude='./.venv*' --exclude=./.git --exclude=./tests/output \
      --exclude=./collections --exclude='*.pyc' --exclude=__pycache__ --exclude=./.hypothesis \
      --exclude=./.pytest_cache --exclude=./docs/build -cf - .) > "$archive"
  sum="$(sha256sum < "$archive" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ] || ! (cd "$dest" && tar -df - >/dev/null 2>&1) < "$archive"; then
    rm -f "$stamp"
    (cd "$dest" && tar -xf -) < "$archive"
    # Remove files that no longer exist in the checkout.
    (cd "$dest" && find . -type f ! -path './.git/*' ! -path './tests/output/*' ! -path './.hypothesis/*' ! -path '*/__pycache__/*' -print) |
      while read -r file; do [ -e "$from/$file" ] || rm -f "$dest/$file"; done
    echo "$sum" > "$stamp"
  fi
  rm -f "$archive"
}

# galaxy_dependencies_offline DIR: the collection's dependencies (galaxy.yml: community.crypto) in
# the collections path DIR, as ansible-galaxy would have installed them beside it from Galaxy,
# which is not reachable here: setup.sh put them into the venv from the ansible wheel.
galaxy_dependencies_offline() {
  mkdir -p "$1/ansible_collections/community"
  cp -r "$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/community/crypto" \
    "$1/ansible_collections/community/"
}
