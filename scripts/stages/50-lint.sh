#!/usr/bin/env bash
# ansible-lint, production profile (.ansible-lint), over the whole collection: roles/, playbooks/,
# molecule/, the integration targets and the install test playbook.
source "$(dirname "$0")/../lib.sh"
cd "$TREE" || exit 1
ansible-lint --version | head -1
ansible-lint --profile production --nocolor
