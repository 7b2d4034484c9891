# shellcheck shell=bash
# Helpers for the stages that run Ansible's own tools (ansible-test, ansible-galaxy, ...).
# Source it after lib.sh, do not run it.

# The newest ansible-core, on Python 3.12 (ansible-core >= 2.20 needs Python >= 3.12), and 2.20
# between it and the project venv's 2.19.
CORE_LATEST_VENV="${ANTMAN_CORE_LATEST_VENV:-$ROOT/.venv-core-latest}"
CORE_220_VENV="${ANTMAN_CORE_220_VENV:-$ROOT/.venv-core-2.20}"

python312() {
  local candidate
  for candidate in "${ANTMAN_PYTHON312:-}" "$(pyenv root 2>/dev/null)/versions/3.12.1/bin/python3.12" \
      "$HOME/.pyenv/versions/3.12.1/bin/python3.12" "$(command -v python3.12 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  echo "no Python 3.12 found (pyenv 3.12.1 or python3.12 on PATH; or set ANTMAN_PYTHON312)" >&2
  return 1
}

# ensure_core_venv VENV REQUIREMENTS: create or refresh a Python 3.12 venv from a requirements file.
ensure_core_venv() {
  local core_venv="$1" requirements="$2" stamp="$1/.requirements.sha" want
  want="$(sha256sum < "$requirements" | cut -d' ' -f1)"
  if [ ! -x "$core_venv/bin/ansible-test" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "python venv $core_venv ($(basename "$requirements"))"
    rm -rf "$core_venv"
    "$(python312)" -m venv "$core_venv"
    "$core_venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
  fi
}

# ensure_core_latest_venv: create or refresh $CORE_LATEST_VENV from requirements-core-latest.txt.
ensure_core_latest_venv() { ensure_core_venv "$CORE_LATEST_VENV" "$ROOT/requirements-core-latest.txt"; }

# ensure_core_220_venv: create or refresh $CORE_220_VENV from requirements-core-2.20.txt.
ensure_core_220_venv() { ensure_core_venv "$CORE_220_VENV" "$ROOT/requirements-core-2.20.txt"; }

# ensure_get_pip_standin VENV: `ansible-test --venv` bootstraps pip in the venvs it builds with a
# get-pip.py that it downloads from a host this machine cannot reach, unless the script is in its
# cache. The stand-in put there gets pip from the Python itself (ensurepip), then the exact
# versions ansible-test asks for from the package index pip is configured for.
ensure_get_pip_standin() {
  local python_venv="$1" version cache
  version="$("$python_venv/bin/python" - <<'EOF'
import os, re, ansible_test
source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
match = re.search(r"pip='([0-9.]+)'", open(source).read())
print(match.group(1) if match else "")
EOF
)"
  [ -n "$version" ] || { echo "cannot find the pip version ansible-test in $python_venv wants" >&2; return 1; }
  cache="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
  [ -f "$cache" ] && return 0
  mkdir -p "$(dirname "$cache")"
  cat > "$cache" <<'EOF'
# Stand-in for get-pip.py, written by antsle.antman's scripts/gates.sh (offline machines).
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", "--quiet"] + args)
EOF
}

# build_docs: the collection's HTML documentation (antsibull-docs, offline) from the collection
# tree, into docs/build/html. Fails on any error in the plugin documentation.
build_docs() (  # a subshell: it changes directory
  site="$ROOT/docs/build/site"
  rm -rf "$site" "$ROOT/docs/build/html"
  mkdir -p "$site"
  chmod 0755 "$ROOT/docs/build" "$site"  # antsibull-docs wants directories only their owner can write

  antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error --dest-dir "$site" \
    --project antsle.antman --title "antsle.antman" --html-short-title "antsle.antman" \
    --copyright "antsle.antman contributors" antsle.antman >/dev/null
  cd "$site" || exit 1
  mkdir -p rst
  chmod 0755 rst
  antsibull-docs --config-file antsibull-docs.cfg collection --use-current --squash-hierarchy \
    --fail-on-error --cleanup everything --dest-dir rst antsle.antman
  # Offline: intersphinx (links into docs.python.org and docs.ansible.com) is left out, so the few
  # references to Ansible's own docs render as text; everything else is built as antsibull-docs would.
  sphinx-build -M html rst "$ROOT/docs/build" -c . -q --keep-going \
    -D extensions=sphinx.ext.autodoc,sphinx_antsibull_ext 2> "$ROOT/docs/build/sphinx-warnings.txt" || {
    cat "$ROOT/docs/build/sphinx-warnings.txt" >&2
    exit 1
  }
  echo "docs built: $ROOT/docs/build/html/index.html ($(grep -c WARNING "$ROOT/docs/build/sphinx-warnings.txt") sphinx warnings in docs/build/sphinx-warnings.txt)"
)

# release_changelog: in the current directory (a copy of the collection), lint the changelog
# fragments and regenerate changelogs/changelog.yaml and CHANGELOG.md for the version in galaxy.yml
# (the version being prepared is re-released each time; fragments are kept).
release_changelog() {
  local version
  version="$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
  antsibull-changelog lint
  antsibull-changelog release --version "$version" --reload-plugins --refresh
  echo "changelog released for $version"
}

# tree_repo: ansible-test and antsibull-changelog (its plugin lists) list the collection's files
# with git. $TREE sits in the checkout's git-ignored build/, so it gets a repository of its own
# (files untracked, .gitignore respected), whichever stage runs first.
tree_repo() {
  [ -f "$TREE/.git/HEAD" ] || git init -q "$TREE"
}

# ansible_test VENV ARGS...: run that venv's ansible-test in the collection tree.
ansible_test() {
  local test_venv="$1"
  shift
  ensure_get_pip_standin "$test_venv"
  tree_repo
  (cd "$TREE" && "$test_venv/bin/ansible-test" "$@")
}
