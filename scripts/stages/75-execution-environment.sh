#!/usr/bin/env bash
# The collection in an execution environment (AWX, Automation Platform), offline: ansible-builder
# reads meta/execution-environment.yml from the collection installed from its tarball
# (`ansible-builder introspect`: the python and system requirements it names), then
# `ansible-builder create` writes the build context of an execution environment holding the
# collection (the image itself is not built: no registry for a base image here).
source "$(dirname "$0")/../lib.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/antman-ee-XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "ansible-builder introspect: what the installed collection asks for"
ansible-galaxy collection build "$ROOT" --output-path "$work/dist" >/dev/null
tarball="$(basename "$(ls "$work"/dist/antsle-antman-*.tar.gz)")"
galaxy_dependencies_offline "$work/collections"
ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  ansible-galaxy collection install --offline -p "$work/collections" "$work/dist/$tarball" >/dev/null
ansible-builder introspect --sanitize "$work/collections" | tee "$work/introspect.txt"
# Every requirement line of the files meta/execution-environment.yml names, attributed to us.
for file in meta/ee-requirements.txt meta/ee-bindep.txt; do
  grep -v '^\s*\(#\|$\)' "$ROOT/$file" | while read -r requirement; do
    grep -qF "$requirement  # from collection antsle.antman" "$work/introspect.txt" || {
      echo "ansible-builder introspect does not list '$requirement' ($file) for antsle.antman" >&2
      exit 1
    }
  done
done

log "ansible-builder create: an execution environment with the collection"
mkdir -p "$work/definition"
cp "$work/dist/$tarball" "$work/definition/"
cat > "$work/definition/requirements.yml" <<EOF
---
collections:
  - name: collections/$tarball
    type: file
EOF
cat > "$work/definition/execution-environment.yml" <<EOF
---
version: 3
images:
  base_image:
    name: ${ANTMAN_EE_BASE_IMAGE:-localhost/ee-base:latest}
dependencies:
  ansible_core:
    package_pip: ansible-core==$(python -c 'import ansible.release; print(ansible.release.__version__)')
  ansible_runner:
    package_pip: ansible-runner
  galaxy: requirements.yml
additional_build_files:
  - src: $tarball
    dest: collections
EOF
ansible-builder create -f "$work/definition/execution-environment.yml" -c "$work/context" --output-filename Containerfile
for expected in Containerfile _build/requirements.yml "_build/collections/$tarball"; do
  [ -f "$work/context/$expected" ] || { echo "ansible-builder create wrote no $expected" >&2; exit 1; }
done
grep -q 'ansible-galaxy collection install' "$work/context/Containerfile" || {
  echo "the Containerfile installs no collections" >&2
  exit 1
}
echo "build context: $(cd "$work/context" && find . -type f | sort | tr '\n' ' ')"
