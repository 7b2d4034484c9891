#!/usr/bin/env bash
# Unit tests (model, renderer, reader, modules; no nginx) and functional tests against real,
# private nginx instances on loopback (transactions, validation, distribution, failover basics).
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1
# importlib mode: test files are named after the file they test, so two folders may hold the same name.
PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider --import-mode=importlib tests/unit tests/functional
