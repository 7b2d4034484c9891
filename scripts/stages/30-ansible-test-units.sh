#!/usr/bin/env bash
# tests/unit through ansible-test units (its own venv and pytest config), on ansible-core 2.19
# (Python 3.11) and the newest ansible-core (Python 3.12).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"
ansible_test "$VENV" units --venv --python 3.11 --color no
ensure_core_latest_venv
ansible_test "$CORE_LATEST_VENV" units --venv --python 3.12 --color no
