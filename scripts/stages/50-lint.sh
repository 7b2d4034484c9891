#!/usr/bin/env bash
# runs beside the next stage
# ansible-lint, production profile (.ansible-lint), over the whole collection: roles/, playbooks/,
# molecule/, the integration targets and the install test playbook. ansible-lint keeps about one CPU
# busy: it runs beside the demo, docs and the galaxy install.
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1
ansible-lint --version | head -1
ansible-lint --profile production --nocolor
