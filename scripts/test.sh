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

# stage_failure_lines LOG NAME: what in a stage's log says why it failed, at most 40 lines: pytest's
# and ansible-test's summary lines, Ansible's fatal results (with the first lines of a result
# printed over several lines: its message), errors and tracebacks; the log's last 25 lines when
# none of those is there.
stage_failure_lines() {
  local found
  found="$({ grep -E '^(FAILED|ERROR) ' "$1"
    awk '/FAILED! => \{$/ { print; more = 4; next }
         more > 0 && !/^\}/ { print; more--; next }
         { more = 0 }
         /^E +[A-Za-z]|fatal: \[|FAILED! =>|^ERROR: |^Traceback|left behind|still running/' "$1"; } | cut -c1-400 | head -n 40 || true)"
  log "why $2 failed (whole log: ${1#"$ROOT"/})"
  if [ -n "$found" ]; then echo "$found"; else tail -n 25 "$1"; fi
}

# Each stage's output goes to the terminal and to build/logs/<stage>.log; the end of the run names
# what made a stage fail (a CI log often keeps only its last lines).
LOGS="$BUILD/logs"
mkdir -p "$LOGS"
# What stages report for the summary (which platform, scenario and controller ran, findings of a
# pre-release that do not fail a stage): lines they append to $ANTMAN_NOTES.
export ANTMAN_NOTES="$LOGS/notes.txt"
: > "$ANTMAN_NOTES"
failed=()
for stage in "${stages[@]}"; do
  name="$(basename "$stage" .sh)"
  log "stage $name"
  started=$SECONDS
  before="$(leftovers_snapshot)"
  # Through a fifo, not a pipe: a process the stage left holding its output cannot keep this loop
  # waiting for tee (the leftover check below names that process instead).
  rm -f "$LOGS/$name.fifo" && mkfifo "$LOGS/$name.fifo"
  tee "$LOGS/$name.log" < "$LOGS/$name.fifo" &
  tee_pid=$!
  if bash "$stage" > "$LOGS/$name.fifo" 2>&1; then result=passed; else result=FAILED; fi
  for _ in $(seq 50); do kill -0 "$tee_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$tee_pid" 2>/dev/null || true
  wait "$tee_pid" 2>/dev/null || true
  rm -f "$LOGS/$name.fifo"
  # Whatever the stage left behind (processes in this checkout, namespaces, files in TMPDIR,
  # containers, docker networks) fails it.
  left="$(comm -13 <(echo "$before" | sort) <(leftovers_snapshot | sort))"
  if [ -n "$left" ]; then
    printf 'stage %s left behind:\n%s\n' "$name" "$left" | tee -a "$LOGS/$name.log" >&2
    result="FAILED (left behind $(echo "$left" | wc -l))"
  fi
  [ "$result" = passed ] || failed+=("$name")
  summary+=("$(printf '%-40s %-7s %4ds' "$name" "$result" $((SECONDS - started)))")
done
log "summary (total $((SECONDS - started_all))s)"
printf '%s\n' "${summary[@]}"
if [ -s "$ANTMAN_NOTES" ]; then
  log "what the stages ran (from their logs)"
  cat "$ANTMAN_NOTES"
fi
if [ "${#failed[@]}" -gt 0 ]; then
  for name in "${failed[@]}"; do stage_failure_lines "$LOGS/$name.log" "$name"; done
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
