#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs (scripts/setup.sh), then runs
# every stage in scripts/stages/ in order. All stages run; the exit status is non-zero if any failed.
# Run one or more stages only: scripts/test.sh 10 30   (stage number prefixes)
# Stages that say `# needs: docker` get a Docker daemon: the running one, or dockerd started here
# (scripts/docker.sh) and stopped again at the end.
# A stage that says `# beside: earlier stages` (stage 80: it mostly waits on its containers) starts
# with the first stage and runs beside the stages numbered before it; the stages after it wait for
# it. Its output goes to its log and is printed when it ends.
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
declare -A stage_file started_at before_of beside_pid tee_pid summary_of
# A stage still running beside the others when test.sh stops is stopped too (TERM: it cleans up).
stop_beside() {
  local pid
  for pid in "${beside_pid[@]}"; do
    if kill -TERM "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
  done
}
trap 'stop_beside; rm -rf "$TMPDIR"; docker_down' EXIT
if grep -qx '# needs: docker' "${stages[@]}" /dev/null; then
  docker_up
fi

# stage_failure_lines LOG NAME: what in a stage's log says why it failed, at most 40 lines: pytest's
# and ansible-test's summary lines, Ansible's fatal results, errors and tracebacks; the log's last
# 25 lines when none of those is there.
stage_failure_lines() {
  local found
  found="$({ grep -E '^(FAILED|ERROR) ' "$1"
    grep -E '^E +[A-Za-z]|fatal: \[|FAILED! =>|^ERROR: |^Traceback|left behind|still running' "$1"; } | cut -c1-400 | head -n 40 || true)"
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
# stage_snapshot NAME: what stage NAME could leave behind (scripts/leftovers.sh): processes, the
# entries of its own temp dir, network namespaces unless it runs beside others (it makes none: the
# namespaces are the others'), and the scenarios' containers and docker networks if it needs Docker
# (only such a stage makes them; while one runs beside the others, its containers come and go in
# their snapshots, and its own check, which spans them, sees any that is left).
stage_snapshot() {
  local kinds=(processes files)
  [ -n "${beside_pid[$1]:-}" ] || kinds+=(netns)
  if grep -qx '# needs: docker' "${stage_file[$1]}"; then kinds+=(docker); fi
  leftovers_snapshot "$TMPDIR/$1" "${kinds[@]}"
}
# The output of stage NAME goes through a fifo, not a pipe: a process the stage left holding its
# output cannot keep test.sh waiting for tee (the leftover check names that process instead).
# begin_stage NAME: its temp dir, its snapshot, the reader of its fifo (to its log, and to the
# terminal unless it runs beside others: its log is printed when it ends).
begin_stage() {
  local name="$1" fifo="$LOGS/$1.fifo"
  mkdir "$TMPDIR/$name"
  before_of[$name]="$(stage_snapshot "$name")"
  started_at[$name]=$SECONDS
  rm -f "$fifo" && mkfifo "$fifo"
  if [ -n "${beside_pid[$name]:-}" ]; then
    cat < "$fifo" > "$LOGS/$name.log" &
  else
    tee "$LOGS/$name.log" < "$fifo" &
  fi
  tee_pid[$name]=$!
}
# end_stage NAME RESULT: check what it left behind, keep its summary line.
end_stage() {
  local name="$1" result="$2" left
  for _ in $(seq 50); do kill -0 "${tee_pid[$name]}" 2>/dev/null || break; sleep 0.1; done
  kill "${tee_pid[$name]}" 2>/dev/null || true
  wait "${tee_pid[$name]}" 2>/dev/null || true
  rm -f "$LOGS/$name.fifo"
  if [ -n "${beside_pid[$name]:-}" ]; then
    log "stage $name (ran beside the stages before it): its output"
    cat "$LOGS/$name.log"
  fi
  # Whatever the stage left behind (processes in this checkout, namespaces, files in its TMPDIR,
  # containers, docker networks) fails it.
  left="$(comm -13 <(echo "${before_of[$name]}" | sort) <(stage_snapshot "$name" | sort))"
  if [ -n "$left" ]; then
    printf 'stage %s left behind:\n%s\n' "$name" "$left" | tee -a "$LOGS/$name.log" >&2
    result="FAILED (left behind $(echo "$left" | wc -l))"
  fi
  [ "$result" = passed ] || failed+=("$name")
  summary_of[$name]="$(printf '%-40s %-7s %4ds%s' "$name" "$result" $((SECONDS - started_at[$name])) \
    "${beside_pid[$name]:+  (beside the stages before it)}")"
  rmdir "$TMPDIR/$name" 2>/dev/null || true
}

failed=()
names=()
for stage in "${stages[@]}"; do
  name="$(basename "$stage" .sh)"
  names+=("$name")
  stage_file[$name]="$stage"
done
# Stages that run beside the earlier ones start first (if an earlier one is to run).
for name in "${names[@]:1}"; do
  grep -qx '# beside: earlier stages' "${stage_file[$name]}" || continue
  beside_pid[$name]=starting
  log "stage $name starts, beside the stages before it (its output when it ends)"
  begin_stage "$name"
  TMPDIR="$TMPDIR/$name" bash "${stage_file[$name]}" > "$LOGS/$name.fifo" 2>&1 &
  beside_pid[$name]=$!
done
for name in "${names[@]}"; do
  if [ -n "${beside_pid[$name]:-}" ]; then
    if wait "${beside_pid[$name]}"; then result=passed; else result=FAILED; fi
    end_stage "$name" "$result"
    unset "beside_pid[$name]"
    continue
  fi
  log "stage $name"
  begin_stage "$name"
  if TMPDIR="$TMPDIR/$name" bash "${stage_file[$name]}" > "$LOGS/$name.fifo" 2>&1; then result=passed; else result=FAILED; fi
  end_stage "$name" "$result"
done
for name in "${names[@]}"; do summary+=("${summary_of[$name]}"); done
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
