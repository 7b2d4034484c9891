# shellcheck shell=bash
# What a test stage must not leave behind (scripts/test.sh compares a snapshot before each stage
# with one after it). Source it after lib.sh, do not run it.
#
#   leftovers_snapshot   one line per thing a stage could leave: a process whose working directory
#                        is in this checkout (tests run in its build/ tree; test.sh's own process
#                        group excepted), a network namespace, an entry of $TMPDIR (test.sh gives
#                        the stages a TMPDIR of their own: every temp file and dir they make is
#                        there), a container or network of the scenarios (when Docker answers)
#
# A line present after a stage and not before it is something the stage left behind.

leftovers_snapshot() {
  local proc pid cwd own_group
  own_group="$(ps -o pgid= -p $$ | tr -d ' ')"
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    cwd="$(readlink "$proc/cwd" 2>/dev/null)" || continue
    case "$cwd" in "$ROOT" | "$ROOT"/*) ;; *) continue ;; esac
    [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$own_group" ] && continue
    echo "process $pid: $(tr '\0' ' ' < "$proc/cmdline" 2>/dev/null | cut -c1-120)"
  done
  ip netns list 2>/dev/null | awk '{print "network namespace " $1}'
  find "${TMPDIR:-/tmp}" -mindepth 1 -maxdepth 1 -printf 'file %p\n' 2>/dev/null
  if docker info >/dev/null 2>&1; then
    docker ps -a --filter label=antman.world --format 'container {{.Names}}'
    docker network ls --filter label=antman.world --format 'docker network {{.Name}}'
    docker network ls --filter label=owner=molecule --format 'docker network {{.Name}}'
  fi
}
