#!/usr/bin/env bash
# ansible-test integration: every target in tests/integration/targets (one per module; each starts
# and stops its own private nginx on loopback through the setup_nginx role).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"
ansible_test "$VENV" integration --venv --requirements --python 3.11 --color no
