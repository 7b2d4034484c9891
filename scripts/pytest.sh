#!/usr/bin/env bash
# pytest on the checkout itself, no copy: one test, one file or a folder, in seconds. The checkout
# is importable as ansible_collections.antsle.antman through build/dev-collections (a link; run
# ./scripts/setup.sh once for the venv). Options come from pytest.ini; arguments go to pytest:
#   scripts/pytest.sh tests/unit/plugins/module_utils/host/test_transaction.py -k killed
#   scripts/pytest.sh -n 4 tests/unit          (4 at a time: pytest-xdist)
source "$(dirname "$0")/lib.sh"
dev_collections
# The ansible-playbook and ansible-test the tests start read the checkout too, not the copy setup.sh made.
export ANSIBLE_COLLECTIONS_PATH="$DEV_COLLECTIONS"
cd "$ROOT" || exit 1
PYTHONPATH="$DEV_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH}" exec "$VENV/bin/python" -m pytest "$@"
