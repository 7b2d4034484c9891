#!/usr/bin/env bash
# needs: docker
# Molecule scenarios on molecule's docker driver, from the collection installed from its tarball, as
# users get it: each run of molecule/runs.txt (a scenario, the Debian release of its antsle hosts,
# the ansible-core that runs it). Each scenario has its own docker network and subnet, so runs of
# different scenarios go side by side, $ANTMAN_MOLECULE_JOBS at a time (default 3), in the order of
# runs.txt. The antsle hosts are containers running systemd (the images: scripts/docker.sh), the
# antlets containers on the scenario's network. A run that fails or runs out of time is destroyed
# here too. Afterwards: this machine's /etc/nginx and system nginx exactly as before, and no
# container or network of the scenarios left.
# Time budget for all runs together: $ANTMAN_MOLECULE_BUDGET seconds (default 1200).
# ANTMAN_MOLECULE_RUNS="SCENARIO[:HOST[:CONTROLLER]] ..." runs only the matching lines of runs.txt.
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/docker.sh"
source "$ROOT/scripts/gates.sh"

budget="${ANTMAN_MOLECULE_BUDGET:-1200}"
jobs="${ANTMAN_MOLECULE_JOBS:-3}"
deadline=$((SECONDS + budget))
work="$(mktemp -d "${TMPDIR:-/tmp}/antman-molecule-XXXXXX")"
trap 'rm -rf "$work"; docker_down' EXIT  # replaced by cleanup (below) once scenarios run

# The runs: every line of molecule/runs.txt (see there), for every scenario in molecule/.
scenarios=()
for file in "$ROOT"/molecule/*/molecule.yml; do
  [ -e "$file" ] && scenarios+=("$(basename "$(dirname "$file")")")
done
if [ "${#scenarios[@]}" -eq 0 ]; then
  echo "no molecule scenarios"
  exit 0
fi
runs=()
while read -r scenario host controller _rest; do
  [[ -z "$scenario" || "$scenario" == \#* ]] && continue
  if [ ! -e "$ROOT/molecule/$scenario/molecule.yml" ] || [[ ! "$host" =~ ^(debian12|debian13|mixed)$ ]] ||
      [[ ! "$controller" =~ ^(2\.19|2\.21)$ ]]; then
    echo "molecule/runs.txt: '$scenario $host $controller' is not SCENARIO (in molecule/) debian12|debian13|mixed 2.19|2.21" >&2
    exit 1
  fi
  wanted=yes
  if [ -n "${ANTMAN_MOLECULE_RUNS:-}" ]; then
    wanted=no
    for pattern in $ANTMAN_MOLECULE_RUNS; do
      [[ "$scenario:$host:$controller" == "$pattern"* ]] && wanted=yes
    done
  fi
  [ "$wanted" = yes ] && runs+=("$scenario:$host:$controller")
done < "$ROOT/molecule/runs.txt"
for scenario in "${scenarios[@]}"; do
  grep -qE "^${scenario}[[:space:]]" "$ROOT/molecule/runs.txt" ||
    { echo "molecule/$scenario has no line in molecule/runs.txt (which host, which controller)" >&2; exit 1; }
done

docker_up
docker_image bookworm trixie
# molecule/prometheus's Prometheus server (built only for a run that needs it).
if [[ " ${runs[*]} " == *" prometheus:"* ]]; then
  docker_prometheus_image
fi
ensure_core_latest_venv
# The controller of a run: its venv.
declare -A controller_venv=([2.19]="$VENV" [2.21]="$CORE_LATEST_VENV")
declare -A controller_version
for controller in "${!controller_venv[@]}"; do
  controller_version[$controller]="$("${controller_venv[$controller]}/bin/python" -c \
    'import platform, ansible.release as r; print("ansible-core %s, Python %s" % (r.__version__, platform.python_version()))')"
  echo "controller $controller: ${controller_version[$controller]} (${controller_venv[$controller]})"
done
# The hosts of these scenarios start bare, as a fresh Debian, and the role installs nginx and its
# stream module there, on both releases (runs.txt). The other scenarios' hosts start with nginx
# installed as the role's first task installs it (docker.sh: the nginx flavour of each image), like
# an antsle host whose nginx already serves antMan's UI: the same apt work (package lists, dpkg,
# 35 s a run) is not repeated in every run. What the role installs beyond nginx it still installs
# there (acme: Python's cryptography; ha: keepalived, on both releases), on a host without package
# lists (the images keep none): the role refreshes them before it installs anything.
bare_hosts=(role)
# images RUN: the run's images as the variables the scenarios name (ANTMAN_MOLECULE_IMAGE: the
# image of a one-release scenario's hosts and of every scenario's antlets).
images() {
  local scenario host d12="$ANTMAN_DEBIAN12_NGINX_IMAGE" d13="$ANTMAN_DEBIAN13_NGINX_IMAGE"
  IFS=: read -r scenario host _ <<< "$1"
  if [[ " ${bare_hosts[*]} " == *" $scenario "* ]]; then
    # shellcheck disable=SC2153  # both exported by docker_image (scripts/docker.sh)
    d12="$ANTMAN_DEBIAN12_IMAGE" d13="$ANTMAN_DEBIAN13_IMAGE"
  fi
  local -A of=([debian12]="$d12" [debian13]="$d13" [mixed]="$d12")
  echo "ANTMAN_MOLECULE_IMAGE=${of[$host]} ANTMAN_DEBIAN12_IMAGE=$d12 ANTMAN_DEBIAN13_IMAGE=$d13"
}
machine_before="$(pymod tests.support.nginx_host_state state)"
# What Docker already holds before the scenarios (a daemon whose /var/lib/docker came from an
# earlier run, another checkout's containers): only what appears during this stage is ours.
scenario_things() {
  docker ps -a --filter label=antman.world --format 'container {{.Names}}'
  docker network ls --filter label=owner=molecule --format 'network {{.Name}}'
}
docker_before="$(scenario_things | sort)"
[ -z "$docker_before" ] || echo "already in Docker before the scenarios (not ours, left alone): $(echo "$docker_before" | tr '\n' ' ')"

log "the collection from its tarball"
ansible-galaxy collection build "$ROOT" --output-path "$work/dist" >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=true
ansible-galaxy collection install --offline -p "$work/collections" "$work/dist"/antsle-antman-*.tar.gz >/dev/null
installed="$work/collections/ansible_collections/antsle/antman"
echo "installed in $installed; molecule runs there"
cd "$installed" || exit 1

# An installed collection has no galaxy.yml, by which molecule finds extensions/molecule/config.yml:
# it is named here (-c). Each scenario's ephemeral directory is in the stage's temp dir (molecule's
# default, under ~/.ansible/tmp, is named after the project directory's name only: another
# checkout's runs of the same scenario would share it), and so is HOME, where Ansible keeps its temp
# files.
base_config="$installed/extensions/molecule/config.yml"
mkdir -p "$work/home"
export HOME="$work/home"
# in_run RUN COMMAND...: COMMAND with the run's environment: its controller's venv first on PATH
# (molecule, ansible-playbook) and as the interpreter of local tasks, its images, its own ephemeral
# directory.
in_run() {
  local run="$1" scenario host controller
  local -a run_images
  shift
  IFS=: read -r scenario host controller <<< "$run"
  read -ra run_images <<< "$(images "$run")"
  env PYTHONUNBUFFERED=1 PATH="${controller_venv[$controller]}/bin:$PATH" ANSIBLE_PYTHON_INTERPRETER="${controller_venv[$controller]}/bin/python" \
    "${run_images[@]}" MOLECULE_EPHEMERAL_DIRECTORY="$work/ephemeral/${run//:/-}" "$@"
}
destroy() {  # RUN: molecule destroy (molecule/resources/playbooks/destroy.yml: safe when nothing or only part was created)
  in_run "$1" molecule -c "$base_config" destroy -s "${1%%:*}" >>"$work/${1//:/-}.log" 2>&1 ||
    echo "WARNING: molecule destroy -s ${1%%:*} ($1) failed"
}

declare -A pid_of started_at
running=()
# steps RUN: stdin to stdout unchanged, and molecule's line for each step of the run to
# $work/RUN.steps with the time; step_times RUN: how long each step took ("create 21 s, ...").
steps() {
  local line
  while IFS= read -r line; do
    printf '%s\n' "$line"
    if [[ "$line" =~ \[[a-z0-9_-]+\ \>\ ([a-z_]+)\]\ (Executing|Executed) ]]; then
      echo "$EPOCHREALTIME ${BASH_REMATCH[2]} ${BASH_REMATCH[1]}" >> "$work/${1//:/-}.steps"
    fi
  done
}
step_times() {
  awk '$2 == "Executing" {began = $1} $2 == "Executed" {printf "%s%s %.0f s", sep, $3, $1 - began; sep = ", "}' \
    "$work/${1//:/-}.steps" 2>/dev/null || true
}
# deprecated_uses LOG: the collection's files that ansible-core's deprecation warnings in LOG point
# at (file:line:column): what a newer core will refuse, found while this one still runs it.
deprecated_uses() {
  grep -A2 -F '[DEPRECATION WARNING]' "$1" | grep -oP '^Origin: \S*/ansible_collections/antsle/antman/\K\S+' | sort -u | paste -sd' ' - || true
}
finished() {  # RUN RC: print its log and record its result
  local run="$1" rc="$2" result=passed scenario host controller deprecated
  IFS=: read -r scenario host controller <<< "$run"
  deprecated="$(deprecated_uses "$work/${run//:/-}.log")"
  if [ "$rc" -eq 0 ] && [ -n "$deprecated" ]; then
    echo "ERROR: ansible-core $controller's deprecation warnings point at $deprecated" >> "$work/${run//:/-}.log"
    rc=1
  fi
  if [ "$rc" -ne 0 ]; then
    result=FAILED
    [ "$rc" -eq 124 ] && result="FAILED (out of time)"
    [ -n "$deprecated" ] && result="FAILED (deprecated: $deprecated)"
    failed+=("$run")
    destroy "$run"  # molecule destroys after a failed step, but not when it was killed
  fi
  log "molecule test -s $scenario on $host under ansible-core $controller: $result after $((SECONDS - started_at[$run])) s"
  cat "$work/${run//:/-}.log"
  results+=("$(printf '%-10s %-9s %-5s %-8s %4ds  %s' "$scenario" "$host" "$controller" "$result" $((SECONDS - started_at[$run])) \
    "$(step_times "$run")")")
}
# stop_run RUN: TERM to the run's timeout, which passes it on to molecule (timeout runs in a process
# group of its own, so stopping the run's subshell alone would leave molecule running). Found by the
# run's ephemeral directory in its environment.
stop_run() {
  local pid
  for pid in $(pgrep -x timeout); do
    if grep -qzF "MOLECULE_EPHEMERAL_DIRECTORY=$work/ephemeral/${1//:/-}" "/proc/$pid/environ" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
}
cleanup() {
  local run
  for run in "${running[@]}"; do
    stop_run "$run"
    kill -TERM "${pid_of[$run]}" 2>/dev/null || true
    wait "${pid_of[$run]}" 2>/dev/null || true
    destroy "$run"
  done
  rm -rf "$work"
  docker_down  # only a dockerd this stage started itself (run alone, not from test.sh)
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs when the stage is stopped

failed=()
results=()
queue=("${runs[@]}")
while [ "${#queue[@]}" -gt 0 ] || [ "${#running[@]}" -gt 0 ]; do
  # Start the first queued runs whose scenario is not running (its network is taken meanwhile).
  while [ "${#running[@]}" -lt "$jobs" ]; do
    next=""
    for run in "${queue[@]}"; do
      busy=no
      for other in "${running[@]}"; do [ "${other%%:*}" = "${run%%:*}" ] && busy=yes; done
      if [ "$busy" = no ]; then next="$run"; break; fi
    done
    [ -n "$next" ] || break
    still=()
    for run in "${queue[@]}"; do [ "$run" = "$next" ] || still+=("$run"); done
    queue=("${still[@]}")
    IFS=: read -r scenario host controller <<< "$next"
    remaining=$((deadline - SECONDS))
    if [ "$remaining" -le 0 ]; then
      failed+=("$next")
      results+=("$(printf '%-10s %-9s %-5s %-8s' "$scenario" "$host" "$controller" "NOT RUN (time budget of ${budget}s used up)")")
      continue
    fi
    echo "start: molecule test -s $scenario on $host under ansible-core $controller (at most ${remaining}s; $(images "$next"))"
    started_at[$next]=$SECONDS
    (in_run "$next" timeout --kill-after=30 "$remaining" molecule -c "$base_config" test -s "$scenario" 2>&1 |
      steps "$next") >"$work/${next//:/-}.log" &
    pid_of[$next]=$!
    running+=("$next")
  done
  [ "${#running[@]}" -gt 0 ] || continue
  pids=()
  for run in "${running[@]}"; do pids+=("${pid_of[$run]}"); done
  rc=0
  wait -n -p ended "${pids[@]}" || rc=$?
  still=()
  for run in "${running[@]}"; do
    if [ "${pid_of[$run]}" = "$ended" ]; then finished "$run" "$rc"; else still+=("$run"); fi
  done
  running=("${still[@]}")
done

log "molecule runs (${jobs} at a time, ${SECONDS} s in this stage)"
note "80-molecule: ${#runs[@]} runs, ${jobs} at a time, ${SECONDS} s (hosts: debian12 nginx 1.22, debian13 nginx 1.26; mixed: both;" \
  "  the hosts of ${bare_hosts[*]} start bare and the role installs nginx there, the others start with nginx installed)" \
  "$(printf '  %-10s %-9s %-5s %-8s %5s  %s' scenario host core result time steps)" "${results[@]/#/  }" \
  "  core 2.19: ${controller_version[2.19]}; core 2.21: ${controller_version[2.21]}"

log "this machine afterwards"
machine_after="$(pymod tests.support.nginx_host_state state)"
if [ "$machine_after" = "$machine_before" ]; then
  echo "/etc/nginx: every file has the checksum it had ($(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["files"]))' "$machine_after") files); system nginx: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pids"])' "$machine_after"), as before"
else
  echo "the machine's own nginx changed: before $machine_before, after $machine_after" >&2
  failed+=("(machine's /etc/nginx or system nginx)")
fi
left="$(comm -13 <(echo "$docker_before") <(scenario_things | sort) | tr '\n' ' ')"
if [ -n "${left// /}" ]; then
  echo "left behind by the scenarios: $left" >&2
  failed+=("(containers or networks left)")
else
  echo "no container or network of the scenarios left"
fi
[ "${#failed[@]}" -eq 0 ] || { echo "FAILED: ${failed[*]}"; exit 1; }
