# shellcheck shell=bash
# Helpers for the stages that run Ansible's own tools (ansible-test, ansible-galaxy, ...).
# Source it after lib.sh, do not run it.

# The controllers besides the project venv (.venv: ansible-core 2.19, the lower bound of
# meta/runtime.yml, on Python 3.11): 2.20 on Python 3.12 (sanity), the newest release (2.21) on
# Python 3.13 (sanity, units, integration, molecule scenarios: what a new user installs), and the
# newest pre-release (2.22) on Python 3.13 (sanity, reported without failing the stage).
CORE_220_VENV="${ANTMAN_CORE_220_VENV:-$ROOT/.venv-core-2.20}"
CORE_LATEST_VENV="${ANTMAN_CORE_LATEST_VENV:-$ROOT/.venv-core-latest}"
CORE_NEXT_VENV="${ANTMAN_CORE_NEXT_VENV:-$ROOT/.venv-core-next}"
# The collections the newest core's molecule runs need (molecule's docker driver, the collection's
# own dependency), from the `ansible` release that pairs with it, as scripts/setup.sh does for .venv.
CORE_LATEST_COLLECTIONS_PACKAGE="ansible==14.5.0"

# pyenv_python X.Y: the path of a Python X.Y interpreter: $ANTMAN_PYTHON<XY> when set, else pyenv's
# newest X.Y (never its shims: they fail for versions pyenv has not selected), else pythonX.Y on PATH.
pyenv_python() {
  local version="$1" override candidate
  override="ANTMAN_PYTHON${version//./}"
  if [ -n "${!override:-}" ]; then echo "${!override}"; return 0; fi
  for candidate in $(find "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions" -maxdepth 3 \
      -path "*/versions/$version.*/bin/python$version" 2>/dev/null | sort -V -r) "$(command -v "python$version" || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && [[ "$candidate" != */shims/* ]]; then echo "$candidate"; return 0; fi
  done
  echo "no Python $version found (pyenv $version.x or python$version on PATH; or set $override)" >&2
  return 1
}

# python_versions_dir X.Y...: a directory (build/pythons) holding a pythonX.Y link to each version
# found, for ansible-test, which looks for pythonX.Y on PATH; prints the directory. Versions not
# found here are named on stderr (ansible-test then skips them, and says so).
python_versions_dir() {
  local dir="$BUILD/pythons" version path
  mkdir -p "$dir"
  for version in "$@"; do
    if path="$(pyenv_python "$version" 2>/dev/null)"; then
      ln -sfn "$path" "$dir/python$version"
    else
      echo "Python $version: not on this machine" >&2
    fi
  done
  echo "$dir"
}

# install_wheel_collections VENV PACKAGE NAME...: the collections NAME (namespace/name) that the
# `ansible` release PACKAGE carries, unpacked from its wheel into VENV's site-packages, where
# ansible-core finds them (Ansible Galaxy is not reachable here; a pip install of `ansible` would
# bring a hundred other collections).
install_wheel_collections() {
  local target_venv="$1" package="$2" wheels
  shift 2
  wheels="$(mktemp -d)"
  "$target_venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$wheels" "$package"
  "$target_venv/bin/python" - "$wheels"/*.whl \
      "$("$target_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" "$@" <<'PYTHON'
import sys
import zipfile

wheel, target = sys.argv[1], sys.argv[2]
wanted = ["ansible_collections/%s/" % name for name in sys.argv[3:]]
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist() if any(m.startswith(prefix) for prefix in wanted)]
    missing = [prefix for prefix in wanted if not any(m.startswith(prefix) for m in members)]
    if missing:
        sys.exit("%s does not carry %s" % (wheel, ", ".join(missing)))
    archive.extractall(target, members)
PYTHON
  rm -rf "$wheels"
}

# The collections molecule's docker driver needs (community.docker with the collection it depends
# on, ansible.posix, which the driver declares) and community.crypto, the collection's own
# dependency (galaxy.yml: the ACME client of rules with tls.acme).
WHEEL_COLLECTIONS=(community/docker community/library_inventory_filtering_v1 ansible/posix community/crypto)

# ensure_core_venv VENV REQUIREMENTS PYTHON_VERSION [COLLECTIONS_PACKAGE]: create or refresh a venv of
# that Python from a requirements file (and the collections of WHEEL_COLLECTIONS from the `ansible`
# release given), when any of them changed.
ensure_core_venv() {
  local core_venv="$1" requirements="$2" version="$3" collections="${4:-}" stamp="$1/.requirements.sha" want
  want="$( (cat "$requirements"; echo "python $version; $collections ${WHEEL_COLLECTIONS[*]}") | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$core_venv/bin/ansible-test" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "python venv $core_venv ($(basename "$requirements"), Python $version)"
    rm -rf "$core_venv"
    "$(pyenv_python "$version")" -m venv "$core_venv"
    "$core_venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    if [ -n "$collections" ]; then
      install_wheel_collections "$core_venv" "$collections" "${WHEEL_COLLECTIONS[@]}"
    fi
    echo "$want" > "$stamp"
  fi
}

# ensure_core_220_venv: create or refresh $CORE_220_VENV from requirements-core-2.20.txt.
ensure_core_220_venv() { ensure_core_venv "$CORE_220_VENV" "$ROOT/requirements-core-2.20.txt" 3.12; }

# ensure_core_latest_venv: create or refresh $CORE_LATEST_VENV from requirements-core-latest.txt.
ensure_core_latest_venv() {
  ensure_core_venv "$CORE_LATEST_VENV" "$ROOT/requirements-core-latest.txt" 3.13 "$CORE_LATEST_COLLECTIONS_PACKAGE"
}

# ensure_core_next_venv: create or refresh $CORE_NEXT_VENV from requirements-core-next.txt.
ensure_core_next_venv() { ensure_core_venv "$CORE_NEXT_VENV" "$ROOT/requirements-core-next.txt" 3.13; }

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

# tree_repo [TREE]: ansible-test and antsibull-changelog (its plugin lists) list the collection's files
# with git. $TREE sits in the checkout's git-ignored build/, so it gets a repository of its own
# (files untracked, .gitignore respected), whichever stage runs first; so does a copy of it.
tree_repo() {
  [ -f "${1:-$TREE}/.git/HEAD" ] || git init -q "${1:-$TREE}"
}

# ansible_test VENV ARGS...: run that venv's ansible-test in the collection tree, or in
# $ANSIBLE_TEST_TREE when set (a copy of it: runs side by side must not share tests/output/).
ansible_test() {
  local test_venv="$1" tree="${ANSIBLE_TEST_TREE:-$TREE}"
  shift
  ensure_get_pip_standin "$test_venv"
  tree_repo "$tree"
  (cd "$tree" && "$test_venv/bin/ansible-test" "$@")
}
