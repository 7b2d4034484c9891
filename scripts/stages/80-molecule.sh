#!/usr/bin/env bash
# needs: docker
# Molecule scenarios (every molecule/<scenario>/molecule.yml) on molecule's docker driver, from the
# collection installed from its tarball, as users get it. Each scenario has its own docker
# network and subnet, so they run side by side, $ANTMAN_MOLECULE_JOBS at a time (default 3; the
# longest first). The antsle hosts are containers running systemd (the
# image: scripts/docker.sh), the antlets containers on the scenario's network. A scenario that
# fails or runs out of time is destroyed here too. Afterwards: this machine's /etc/nginx and
# system nginx exactly as before, and no container or network of the scenarios left.
# Time budget for all scenarios together: $ANTMAN_MOLECULE_BUDGET seconds (default 900).
source "$(dirname "$0")/../lib.sh"
source "$ROOT/scripts/docker.sh"

budget="${ANTMAN_MOLECULE_BUDGET:-900}"
jobs="${ANTMAN_MOLECULE_JOBS:-3}"
deadline=$((SECONDS + budget))
work="$(mktemp -d "${TMPDIR:-/tmp}/antman-molecule-XXXXXX")"
trap 'rm -rf "$work"; docker_down' EXIT  # replaced by cleanup (below) once scenarios run

scenarios=()
for file in "$ROOT"/molecule/*/molecule.yml; do
  [ -e "$file" ] && scenarios+=("$(basename "$(dirname "$file")")")
done
if [ "${#scenarios[@]}" -eq 0 ]; then
  echo "no molecule scenarios"
  exit 0
fi
# The longest ones first (measured: acme, role, failover, fleet, ha), so that none ends up alone at the end.
ordered=()
for scenario in acme role failover fleet ha "${scenarios[@]}"; do
  [ -e "$ROOT/molecule/$scenario/molecule.yml" ] || continue
  [[ " ${ordered[*]} " == *" $scenario "* ]] || ordered+=("$scenario")
done

docker_up
docker_image
machine_before="$(pymod tests.support.nginx_host_state state --settled)"
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
# checkout's runs of the same scenario would share it), and so is HOME, where the docker driver's
# create/destroy playbooks keep their async job files (~/.ansible_async) and Ansible its temp files.
base_config="$installed/extensions/molecule/config.yml"
mkdir -p "$work/home"
export HOME="$work/home"
destroy() {
  # molecule's own destroy playbook; it is safe when nothing or only part was created.
  MOLECULE_EPHEMERAL_DIRECTORY="$work/ephemeral/$1" molecule -c "$base_config" destroy -s "$1" >>"$work/$1.log" 2>&1 ||
    echo "WARNING: molecule destroy -s $1 failed"
}

declare -A pid_of started_at
running=()
finished() {  # SCENARIO RC: print its log and record its result
  local scenario="$1" rc="$2" result=passed
  if [ "$rc" -ne 0 ]; then
    result=FAILED
    [ "$rc" -eq 124 ] && result="FAILED (out of time)"
    failed+=("$scenario")
    destroy "$scenario"  # molecule destroys after a failed step, but not when it was killed
  fi
  log "molecule test -s $scenario: $result after $((SECONDS - started_at[$scenario])) s"
  cat "$work/$scenario.log"
  results+=("$(printf '%-12s %-8s %4ds' "$scenario" "$result" $((SECONDS - started_at[$scenario])))")
}
cleanup() {
  local scenario
  for scenario in "${running[@]}"; do
    kill -TERM "${pid_of[$scenario]}" 2>/dev/null || true
    wait "${pid_of[$scenario]}" 2>/dev/null || true
    destroy "$scenario"
  done
  rm -rf "$work"
  docker_down  # only a dockerd this stage started itself (run alone, not from test.sh)
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap runs when the stage is stopped

failed=()
results=()
queue=("${ordered[@]}")
while [ "${#queue[@]}" -gt 0 ] || [ "${#running[@]}" -gt 0 ]; do
  while [ "${#queue[@]}" -gt 0 ] && [ "${#running[@]}" -lt "$jobs" ]; do
    scenario="${queue[0]}"
    queue=("${queue[@]:1}")
    remaining=$((deadline - SECONDS))
    if [ "$remaining" -le 0 ]; then
      failed+=("$scenario")
      results+=("$(printf '%-12s %-8s' "$scenario" "NOT RUN (time budget of ${budget}s used up)")")
      continue
    fi
    echo "start: molecule test -s $scenario (at most ${remaining}s)"
    started_at[$scenario]=$SECONDS
    timeout --kill-after=30 "$remaining" env MOLECULE_EPHEMERAL_DIRECTORY="$work/ephemeral/$scenario" \
      molecule -c "$base_config" test -s "$scenario" >"$work/$scenario.log" 2>&1 &
    pid_of[$scenario]=$!
    running+=("$scenario")
  done
  [ "${#running[@]}" -gt 0 ] || continue
  pids=()
  for scenario in "${running[@]}"; do pids+=("${pid_of[$scenario]}"); done
  rc=0
  wait -n -p ended "${pids[@]}" || rc=$?
  still=()
  for scenario in "${running[@]}"; do
    if [ "${pid_of[$scenario]}" = "$ended" ]; then finished "$scenario" "$rc"; else still+=("$scenario"); fi
  done
  running=("${still[@]}")
done

# The docker driver runs container creation and removal as async jobs; their wrappers linger a few
# seconds after the job ended. Ours are the ones with this stage's ephemeral directories.
ours_still_running() {
  local pid
  for pid in $(pgrep -f async_wrapper); do
    grep -qzF "MOLECULE_EPHEMERAL_DIRECTORY=$work/" "/proc/$pid/environ" 2>/dev/null && return 0
  done
  return 1
}
for _wait in $(seq 1 60); do
  ours_still_running || break
  sleep 0.5
done

log "molecule scenarios (${jobs} at a time, ${SECONDS} s in this stage)"
printf '%s\n' "${results[@]}"

log "this machine afterwards"
machine_after="$(pymod tests.support.nginx_host_state state --settled)"
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
