#!/usr/bin/env bash
# Run every benchmark (about 20 minutes, 11 of them the lb_rule loop of the control plane;
# CPU-heavy: run it on a quiet machine) and write
# bench/results/latest.md. Arguments go to bench/run.py, e.g.  bench/run.sh --only dataplane,hang
# or  bench/run.sh --tiny  (a few seconds per scenario, numbers meaningless).
# bench/run.sh --only fleet: the fleet benchmark (bench/fleet.py), which needs Docker and the antsle
# host image: a daemon is started when none answers (stopped again at the end), the image built when missing.
source "$(dirname "$0")/../scripts/lib.sh"
"$ROOT/scripts/setup.sh" >&2
if [[ " $* " =~ [\ ,=]fleet[\ ,] ]]; then
  source "$ROOT/scripts/docker.sh"
  trap docker_down EXIT
  docker_up >&2
  docker_image bookworm >&2
fi
cd "$TREE" || exit 1
PYTHONPATH="$COLLECTIONS" python -m ansible_collections.antsle.antman.bench.run --results "$ROOT/bench/results" "$@"
