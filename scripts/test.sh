#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs (scripts/setup.sh), then runs
# every stage in scripts/stages/ in order. All stages run; the exit status is non-zero if any failed.
# Run one or more stages only: scripts/test.sh 10 30   (stage number prefixes)
# Stages that say `# needs: docker` get a Docker daemon: the running one, or dockerd started here
# (scripts/docker.sh) and stopped again at the end.
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/docker.sh"
source "$ROOT/scripts/leftovers.sh"
started_all=$SECONDS
"$ROOT/scripts/setup.sh"
summary=("$(printf '%-40s %-7s %4ds' "setup (scripts/setup.sh)" passed $((SECONDS - started_all)))")

stages=()
for stage in "$ROOT"/scripts/stages/*.sh; do
  name="$(basename "$stage" .sh)"
  if [ "$#" -gt 0 ]; then
    wanted=no
    for prefix in "$@"; do [[ "$name" == "$prefix"* ]] && wanted=yes; done
    [ "$wanted" = yes ] || continue
  fi
  stages+=("$stage")
done
# The stages' temp files and dirs (Python's tempfile, mktemp, ansible-test's) go to a dir of this
# run's, so that what a stage leaves there is found and nothing of another run is taken for it.
TMPDIR="$(mktemp -d /tmp/antman-run-XXXXXX)"
# Traversable like /tmp itself: the nginx workers of the host-layout worlds run as an unprivileged
# user, as on real hosts, and write their proxy cache under a prefix made here (mktemp's 0700 would
# answer antMan's cached UI with 500). What is made inside keeps its own, private, mode.
chmod 0755 "$TMPDIR"
export TMPDIR
trap 'rm -rf "$TMPDIR"; docker_down' EXIT
if grep -qx '# needs: docker' "${stages[@]}" /dev/null; then
  docker_up
fi

failed=()
for stage in "${stages[@]}"; do
  name="$(basename "$stage" .sh)"
  log "stage $name"
  started=$SECONDS
  before="$(leftovers_snapshot)"
  if bash "$stage"; then result=passed; else result=FAILED; fi
  # Whatever the stage left behind (processes in this checkout, namespaces, files in TMPDIR,
  # containers, docker networks) fails it.
  left="$(comm -13 <(echo "$before" | sort) <(leftovers_snapshot | sort))"
  if [ -n "$left" ]; then
    printf 'stage %s left behind:\n%s\n' "$name" "$left" >&2
    result="FAILED (left behind $(echo "$left" | wc -l))"
  fi
  [ "$result" = passed ] || failed+=("$name")
  summary+=("$(printf '%-40s %-7s %4ds' "$name" "$result" $((SECONDS - started)))")
done
log "summary (total $((SECONDS - started_all))s)"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
