#!/usr/bin/env bash
# The demo: an antsle host with three antlets, in Docker: the host is a container running systemd
# (Debian 12; nginx is installed and configured by the collection's own playbook), the antlets are
# containers on a docker network, each an HTTP server saying its name. Shows the rule table, the
# weighted spread of 300 requests, a crash of one antlet and a hang of another under traffic (the
# health agent takes the hung one out), the table's HEALTH column. This machine's own
# nginx is never touched. Needs root (it installs Docker and starts dockerd when none runs);
# installs what it needs first (scripts/setup.sh).
#
#   scripts/demo.sh            run the demo, then clean up (containers and network removed, the
#                              dockerd it started stopped)
#   scripts/demo.sh --keep     leave the containers (and dockerd) running to play with
#   scripts/demo.sh --cleanup  clean up after --keep (or after an interrupted run)
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/docker.sh"

# One docker exec per module, not several (as in the molecule scenarios).
export ANSIBLE_PIPELINING=true
INVENTORY="$ROOT/examples/demo/inventory.yml"
WORLD=demo
SUBNET=10.79.1.0/24
HOST=antsle-demo
HOST_ADDRESS=10.79.1.10
SERVER_NAME=demo.antsle.local
ACCESS_LOG=/var/log/nginx/antman_access.log
REQUESTS=300

cleanup() {
  log "clean up: the demo's containers and network removed"
  pymod tests.support.docker_world down "$WORLD" || true
}

keep=no
case "${1:-}" in
  "") ;;
  --keep) keep=yes ;;
  --cleanup)
    cleanup
    docker_stop_recorded
    exit 0
    ;;
  *) echo "usage: $0 [--keep | --cleanup]" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "the demo installs Docker and may start dockerd: run it as root" >&2
  exit 1
fi

started=$SECONDS
"$ROOT/scripts/setup.sh"
machine_before="$(pymod tests.support.nginx_host_state state)"
if [ "$keep" = yes ]; then
  trap 'echo; echo "Left running: the antsle host $HOST ($HOST_ADDRESS) and the antlets of network $WORLD. Clean up with: $0 --cleanup"' EXIT
else
  trap 'cleanup; docker_down' EXIT
fi
docker_up
docker_image bookworm

log "1. an antsle host and three antlets: containers on the docker network $WORLD ($SUBNET)"
pymod tests.support.docker_world up "$WORLD" --subnet "$SUBNET" --image "$ANTMAN_MOLECULE_IMAGE" --port 80 \
  --host "$HOST=$HOST_ADDRESS" web1=10.79.1.102 web2=10.79.1.103 web3=10.79.1.104
echo "antsle host $HOST at $HOST_ADDRESS: $(docker exec "$HOST" systemctl is-system-running) systemd, no nginx yet"

log "2. ansible-playbook -i examples/demo/inventory.yml antsle.antman.site --diff  (what changed on the antsle host)"
# The rule takes its upstreams from the inventory group demo_antlets: weights 3/2/1 are host vars.
# The role installs nginx (apt, inside the container) and runs it under systemd.
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DISPLAY_OK_HOSTS=false \
  ansible-playbook -i "$INVENTORY" antsle.antman.site --diff

log "3. ansible-playbook -i examples/demo/inventory.yml antsle.antman.rules -e probe=true  (the rule table)"
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ansible-playbook -i "$INVENTORY" antsle.antman.rules -e probe=true

log "4. $REQUESTS requests to http://$SERVER_NAME/ through the host's nginx at $HOST_ADDRESS (weights web1=3, web2=2, web3=1)"
pymod tests.support.traffic --address "$HOST_ADDRESS" --host "$SERVER_NAME" --count "$REQUESTS"

log "5. $REQUESTS more requests, 100 per second; web2's server is crashed (SIGKILL) after the 100th while they keep coming"
log_lines=$(docker exec "$HOST" wc -l "$ACCESS_LOG" | cut -d" " -f1)
pymod tests.support.traffic --address "$HOST_ADDRESS" --host "$SERVER_NAME" --count "$REQUESTS" --rate 100 --at 100 -- \
  "$ROOT/scripts/pymod.sh" tests.support.docker_world kill "$WORLD" web2
sleep 1.5  # the role writes its access log buffered (flush=1s): the last requests' lines reach the file within a second
echo "nginx's access log on $HOST: requests that were retried on another antlet (upstreams tried, their statuses):"
docker exec "$HOST" tail -n "+$((log_lines + 1))" "$ACCESS_LOG" | grep -F ', ' | sed 's/^/  /' ||
  echo "  (none: the crash fell between requests)"

log "6. $REQUESTS more requests, 100 per second; web3 hangs (docker pause: it accepts connections, never answers) after the 100th"
# The health agent (antman_lb_health, on by default) probes every antlet each second and takes one out
# of the rule's rotation after 2 failed probes, through a validated reload: requests that reached web3
# before that wait for read_timeout (5 s) and are retried on another antlet; later ones never wait.
pymod tests.support.traffic --address "$HOST_ADDRESS" --host "$SERVER_NAME" --count "$REQUESTS" --rate 100 --at 100 -- \
  "$ROOT/scripts/pymod.sh" tests.support.docker_world hang "$WORLD" web3
echo "the health agent's journal on $HOST (journalctl -u antman-health):"
docker exec "$HOST" journalctl -u antman-health --no-pager -o cat | grep -E "out of rotation|back in rotation|fail open" | sed 's/^/  /' ||
  echo "  (no transition logged)"

log "7. the rule table now (antsle.antman.rules -e probe=true): web2 refuses connections, web3 hangs; HEALTH says both are out"
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ansible-playbook -i "$INVENTORY" antsle.antman.rules -e probe=true

log "8. a Host name no rule serves gets the catch-all answer, not the first rule"
printf 'curl -H "Host: unknown.example" http://%s/ -> HTTP %s\n' "$HOST_ADDRESS" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: unknown.example' "http://$HOST_ADDRESS/")"

log "9. this machine's own nginx: untouched"
machine_now="$(pymod tests.support.nginx_host_state state)"
if [ "$machine_now" = "$machine_before" ]; then
  echo "every file under /etc/nginx has the checksum it had, the system nginx runs as before"
else
  echo "this machine's /etc/nginx or nginx changed during the demo: before $machine_before, now $machine_now" >&2
  exit 1
fi
echo
echo "demo done in $((SECONDS - started)) s"
