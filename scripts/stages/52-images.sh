#!/usr/bin/env bash
# needs: docker
# runs beside the next stage
# The images of stage 80's antsle hosts, antlets and Prometheus server (scripts/docker.sh), built
# here, beside lint, the demo and the docs, when this machine lacks them: on a fresh machine a
# debootstrap mostly waits for the mirror and dpkg, and stage 80 then starts its first runs at once.
# The demo's own call (Debian 12) waits for this one's and finds its image built.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/docker.sh"
docker_image bookworm trixie
docker_prometheus_image
