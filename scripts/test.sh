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
# The demo (stage 55) runs setup.sh as a user does; here it finds it done and syncs no copy again:
# every stage tests the files as they were when this run began.
export ANTMAN_SETUP_DONE=1

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
# A stage whose script says `# runs beside the next stage` starts, and the next one with it: such a
# group runs side by side (stages that keep one CPU busy and touch different files), each one's
# output kept in its log and printed in one piece when it ended; what is left behind is checked
# once for the whole group (and fails each stage of it).
i=0
while [ "$i" -lt "${#stages[@]}" ]; do
  group=("${stages[$i]}")
  while grep -qx '# runs beside the next stage' "${stages[$i]}" && [ "$((i + 1))" -lt "${#stages[@]}" ]; do
    i=$((i + 1))
    group+=("${stages[$i]}")
  done
  i=$((i + 1))
  names=()
  for stage in "${group[@]}"; do names+=("$(basename "$stage" .sh)"); done
  before="$(leftovers_snapshot)"
  declare -A result_of=() time_of=()
  if [ "${#group[@]}" -eq 1 ]; then
    name="${names[0]}"
    log "stage $name"
    started=$SECONDS
    # Through a fifo, not a pipe: a process the stage left holding its output cannot keep this loop
    # waiting for tee (the leftover check below names that process instead).
    rm -f "$LOGS/$name.fifo" && mkfifo "$LOGS/$name.fifo"
    tee "$LOGS/$name.log" < "$LOGS/$name.fifo" &
    tee_pid=$!
    if bash "${group[0]}" > "$LOGS/$name.fifo" 2>&1; then result_of[$name]=passed; else result_of[$name]=FAILED; fi
    for _ in $(seq 50); do kill -0 "$tee_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$tee_pid" 2>/dev/null || true
    wait "$tee_pid" 2>/dev/null || true
    rm -f "$LOGS/$name.fifo"
    time_of[$name]=$((SECONDS - started))
  else
    log "stages ${names[*]}, side by side"
    declare -A pid_of=()
    for stage in "${group[@]}"; do
      name="$(basename "$stage" .sh)"
      (started=$SECONDS
       if bash "$stage" > "$LOGS/$name.log" 2>&1; then rc=passed; else rc=FAILED; fi
       echo "$rc $((SECONDS - started))" > "$LOGS/$name.status") &
      pid_of[$name]=$!
    done
    for name in "${names[@]}"; do
      wait "${pid_of[$name]}" || true
      result_of[$name]=FAILED time_of[$name]=0
      [ ! -s "$LOGS/$name.status" ] || read -r "result_of[$name]" "time_of[$name]" < "$LOGS/$name.status"
      rm -f "$LOGS/$name.status"
      log "stage $name (side by side with the others of ${names[*]}): ${result_of[$name]} after ${time_of[$name]} s"
      cat "$LOGS/$name.log"
    done
  fi
  # Whatever the stages left behind (processes in this checkout, namespaces, files in TMPDIR,
  # containers, docker networks) fails them.
  left="$(comm -13 <(echo "$before" | sort) <(leftovers_snapshot | sort))"
  for name in "${names[@]}"; do
    if [ -n "$left" ]; then
      printf 'stage %s left behind:\n%s\n' "${names[*]}" "$left" | tee -a "$LOGS/$name.log" >&2
      result_of[$name]="FAILED (left behind $(echo "$left" | wc -l))"
    fi
    [ "${result_of[$name]}" = passed ] || failed+=("$name")
    summary+=("$(printf '%-40s %-7s %4ds' "$name" "${result_of[$name]}" "${time_of[$name]}")")
  done
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
