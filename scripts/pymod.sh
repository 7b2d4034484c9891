#!/usr/bin/env bash
# Run a tool of the collection's test and benchmark packages from the checkout, e.g.
#   scripts/pymod.sh tests.support.traffic --host demo.antsle.local --count 100
#   scripts/pymod.sh tests.support.docker_world status demo
# (python -m ansible_collections.antsle.antman.MODULE, with the checkout importable as the collection;
# run ./scripts/setup.sh once first).
source "$(dirname "$0")/lib.sh"
pymod "$@"
