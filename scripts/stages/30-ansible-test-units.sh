#!/usr/bin/env bash
# tests/unit through ansible-test units (its own venv and pytest config) on the newest ansible-core
# (2.21, Python 3.13). Under ansible-core 2.19 on Python 3.11 stage 10 runs the same tests with
# pytest already (a second run there would only repeat it).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"
ensure_core_latest_venv
PATH="$(python_versions_dir 3.13):$PATH" ansible_test "$CORE_LATEST_VENV" units --venv --python 3.13 --color no
