#!/usr/bin/env bash
# Run every benchmark (about 20 minutes, 11 of them the lb_rule loop of the control plane;
# CPU-heavy: run it on a quiet machine) and write
# bench/results/latest.md. Arguments go to bench/run.py, e.g.  bench/run.sh --only dataplane,hang
# or  bench/run.sh --tiny  (a few seconds per scenario, numbers meaningless).
source "$(dirname "$0")/../scripts/lib.sh"
"$ROOT/scripts/setup.sh" >&2
cd "$TREE" || exit 1
PYTHONPATH="$COLLECTIONS" exec python -m ansible_collections.antsle.antman.bench.run --results "$ROOT/bench/results" "$@"
