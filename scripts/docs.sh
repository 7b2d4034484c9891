#!/usr/bin/env bash
# Build the collection's HTML documentation with antsibull-docs, offline, into docs/build/html
# (open docs/build/html/index.html). Fails on any error in the plugin documentation.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" >/dev/null
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
