#!/usr/bin/env bash
# needs: docker
# runs beside the next stage
# The images of stage 80's antsle hosts, antlets and Prometheus server (scripts/docker.sh), built
# here, beside stage 10, when this machine lacks them: on a fresh machine a debootstrap mostly waits
# for the mirror and dpkg, which the pytest workers' CPU work fills; the demo (stage 55) and stage
# 80 then find them built. On a machine that has them, nothing to do.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/docker.sh"
docker_image bookworm trixie
docker_prometheus_image
