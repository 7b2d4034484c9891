#!/usr/bin/env bash
# The large property-based run, for nightly use (not a stage: scripts/test.sh does not run it).
# Every property test runs ANTMAN_NIGHTLY_FACTOR (default 50) times its normal number of examples,
# with a fresh random seed each run; a failure prints the example and a @reproduce_failure blob.
# With the default factor: about 240,000 generated rules and rule sets, and 200 generated rule
# sets of 40 rules (http, https, redirects, tcp, udp) through nginx -t; about 24 minutes on one
# (shared) core of this machine kind (factor 10: 4 min 47 s).
#   scripts/hostile-nightly.sh                 # everything
#   ANTMAN_NIGHTLY_FACTOR=5 scripts/hostile-nightly.sh -k hostile_field   # a quick, focused run
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
cd "$TREE" || exit 1
HYPOTHESIS_PROFILE=nightly PYTHONPATH="$COLLECTIONS" python -m pytest -q -p no:cacheprovider \
  --hypothesis-show-statistics \
  tests/unit/plugins/module_utils/test_rule_properties.py tests/functional/test_generated_rules_nginx.py "$@"
