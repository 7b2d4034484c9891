#!/usr/bin/env bash
# The unit tests that run Ansible's own code, through ansible-test units (its own venv and pytest
# configuration) on the newest ansible-core (2.21, Python 3.13): the modules in-process through
# AnsibleModule (tests/unit/plugins/modules), the filters and the role's templates. Stage 10 runs
# every unit test under ansible-core 2.19 on Python 3.11; the others are Python only (the model, the
# renderer, the host), whose code Python 3.13 runs through the modules in stage 40 and on the Debian 13
# hosts of stage 80.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/gates.sh"
ensure_core_latest_venv
# ansible-test matches a directory only by its name with the trailing slash.
PATH="$(python_versions_dir 3.13):$PATH" ansible_test "$CORE_LATEST_VENV" units --venv --python 3.13 --color no \
  tests/unit/plugins/modules/ tests/unit/plugins/filter/ tests/unit/roles/
