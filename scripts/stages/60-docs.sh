#!/usr/bin/env bash
# runs beside the next stage
# Documentation the Ansible way: antsibull-docs lint of the plugin docs, what ansible-doc shows for
# every module and role, the HTML docs site (scripts/docs.sh), and the changelog (fragments lint,
# CHANGELOG.md regenerated from them must equal the committed one).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"
cd "$TREE" || exit 1

log "antsibull-docs lint-collection-docs --plugin-docs"
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .

log "ansible-doc shows every option, example and return value"
python tests/docs/check_ansible_doc.py "$TREE"

log "HTML docs (build_docs, what scripts/docs.sh runs)"
build_docs
for module in "$ROOT"/plugins/modules/*.py; do
  page="$ROOT/docs/build/html/$(basename "$module" .py)_module.html"
  grep -q 'Parameters' "$page" || { echo "no parameters section in $page" >&2; exit 1; }
done

log "antsibull-changelog"
tree_repo
release_changelog
if ! diff -u "$ROOT/CHANGELOG.md" CHANGELOG.md; then
  echo "CHANGELOG.md is not what changelogs/ generates: run scripts/changelog.sh and commit the result" >&2
  exit 1
fi
