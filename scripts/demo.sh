#!/usr/bin/env bash
# The demo: this machine becomes an antsle host with three antlets, load balanced by the
# collection's own playbook, and shows the rule table, the weighted spread of 300 requests and a
# crash of one antlet under traffic. Needs root (it configures the system nginx and creates network
# namespaces); installs what it needs first (scripts/setup.sh).
#
#   scripts/demo.sh            run the demo, then clean up (antlets removed, /etc/nginx and nginx's
#                              running state restored exactly as they were)
#   scripts/demo.sh --keep     leave the antlets and nginx running to play with
#   scripts/demo.sh --cleanup  clean up after --keep (or after an interrupted run)
source "$(dirname "$0")/lib.sh"

SUPPORT="$ROOT/tests/support"
INVENTORY="$ROOT/examples/demo/inventory.yml"
WORLD=demo
SNAPSHOT=demo
SUBNET=10.77.1.0/24
SERVER_NAME=demo.antsle.local
ACCESS_LOG=/var/log/nginx/antman_access.log
REQUESTS=300

cleanup() {
  log "clean up: antlets removed, system nginx restored"
  python3 "$SUPPORT/antlets.py" down "$WORLD" || true
  python3 "$SUPPORT/system_nginx.py" restore "$SNAPSHOT" || true
}

keep=no
case "${1:-}" in
  "") ;;
  --keep) keep=yes ;;
  --cleanup) cleanup; exit 0 ;;
  *) echo "usage: $0 [--keep | --cleanup]" >&2; exit 2 ;;
esac
if [ "$(id -u)" != 0 ]; then
  echo "the demo configures the system nginx and network namespaces: run it as root" >&2
  exit 1
fi

started=$SECONDS
"$ROOT/scripts/setup.sh"
if [ "$keep" = yes ]; then
  trap 'echo; echo "Left running: antlets ($WORLD) and nginx with the demo rule. Clean up with: $0 --cleanup"' EXIT
else
  trap cleanup EXIT
fi
python3 "$SUPPORT/system_nginx.py" save "$SNAPSHOT"

log "1. three antlets: network namespaces on bridge al-$WORLD ($SUBNET), each an HTTP server saying its name"
python3 "$SUPPORT/antlets.py" up "$WORLD" --subnet "$SUBNET" --port 80 \
  web1=10.77.1.102 web2=10.77.1.103 web3=10.77.1.104

log "2. ansible-playbook -i examples/demo/inventory.yml antsle.antman.site --diff  (what changed on this host)"
# The rule takes its upstreams from the inventory group demo_antlets: weights 3/2/1 are host vars.
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DISPLAY_OK_HOSTS=false \
  ansible-playbook -i "$INVENTORY" antsle.antman.site --diff

log "3. ansible-playbook -i examples/demo/inventory.yml antsle.antman.rules -e probe=true  (the rule table)"
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ansible-playbook -i "$INVENTORY" antsle.antman.rules -e probe=true

log "4. $REQUESTS requests to http://$SERVER_NAME/ through nginx (weights web1=3, web2=2, web3=1)"
pymod tests.support.traffic --host "$SERVER_NAME" --count "$REQUESTS"

log "5. $REQUESTS more requests, 100 per second; web2 is crashed (SIGKILL) after the 100th while they keep coming"
log_lines=$(wc -l < "$ACCESS_LOG")
pymod tests.support.traffic --host "$SERVER_NAME" --count "$REQUESTS" --rate 100 --at 100 -- \
  python3 "$SUPPORT/antlets.py" kill "$WORLD" web2
echo "nginx's access log: requests that were retried on another antlet (upstreams tried, their statuses):"
tail -n "+$((log_lines + 1))" "$ACCESS_LOG" | grep -F ', ' | sed 's/^/  /' || echo "  (none: the crash fell between requests)"

log "6. the rule table now (antsle.antman.rules -e probe=true): web2 refuses connections"
ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ansible-playbook -i "$INVENTORY" antsle.antman.rules -e probe=true

log "7. a Host name no rule serves gets the catch-all answer, not the first rule"
printf 'curl -H "Host: unknown.example" http://127.0.0.1/ -> HTTP %s\n' \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: unknown.example' http://127.0.0.1/)"

echo
echo "demo done in $((SECONDS - started)) s"
