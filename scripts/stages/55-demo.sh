#!/usr/bin/env bash
# needs: docker
# runs beside the next stage
# The README's first command, as a user runs it: scripts/demo.sh (an antsle host and three antlets
# in Docker, the site and table playbooks, weighted traffic, a crashed antlet under traffic, the
# catch-all answer). It cleans up after itself and checks that this machine's own nginx is untouched.
# Beside lint, docs and the galaxy install: it mostly waits (apt in the container, traffic at a set
# rate), and its setup.sh finds the suite's setup done (it syncs no copy the others read).
source "$(dirname "$0")/../lib.sh"
exec "$ROOT/scripts/demo.sh"
