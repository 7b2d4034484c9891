#!/usr/bin/env bash
# Build the collection's HTML documentation with antsibull-docs, offline, into docs/build/html
# (open docs/build/html/index.html). Fails on any error in the plugin documentation.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/gates.sh"
"$ROOT/scripts/setup.sh" >/dev/null
build_docs
