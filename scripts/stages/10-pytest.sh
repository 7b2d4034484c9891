#!/usr/bin/env bash
# Unit tests (model, renderer, reader, modules; no nginx) and functional tests against real,
# private nginx instances on loopback (transactions, validation, distribution, failover basics).
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1
PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider tests/unit tests/functional
