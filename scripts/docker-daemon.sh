#!/usr/bin/env bash
# Docker for running molecule scenarios by hand (docs/molecule.md), on a machine without a service
# manager to run dockerd (this machine kind):
#   scripts/docker-daemon.sh up     a Docker daemon (the running one, or dockerd started and left
#                                   running), and the scenarios' images (built when absent, tagged
#                                   antman/debian12-systemd:latest and antman/debian13-systemd:latest;
#                                   the scenarios use the first unless ANTMAN_MOLECULE_IMAGE names another),
#                                   and molecule/prometheus's Prometheus server (antman/debian12-prometheus:latest)
#   scripts/docker-daemon.sh down   stop the dockerd these scripts started and left running (also
#                                   after an interrupted test run); undo its iptables changes
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/docker.sh"
case "${1:-}" in
  up)
    docker_up
    docker_image bookworm trixie
    docker_prometheus_image
    ;;
  down)
    docker_stop_recorded
    ;;
  *)
    echo "usage: $0 up | down" >&2
    exit 2
    ;;
esac
