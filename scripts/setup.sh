#!/usr/bin/env bash
# Install everything the tests and the demo need, idempotently: system packages from apt (nginx,
# wrk, iproute2, curl, docker.io, debootstrap, pebble), a Python 3.11 venv with the pinned requirements and
# the collections molecule's docker driver needs, a Python 3.13 venv with the newest ansible-core as a
# second controller (pyenv's Python), and the collection tree. Starts no service.
source "$(dirname "$0")/lib.sh"
# Already run by scripts/test.sh for the stages it runs (the demo's call, stage 55).
[ -z "${ANTMAN_SETUP_DONE:-}" ] || exit 0
source "$ROOT/scripts/docker.sh"
source "$ROOT/scripts/gates.sh"

# The collections of WHEEL_COLLECTIONS (scripts/gates.sh) for .venv come from the `ansible` release
# that pairs with its ansible-core.
WHEEL_COLLECTIONS_PACKAGE="ansible==12.3.0"

need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v curl >/dev/null || need_apt+=(curl)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)  # ansible-test sanity
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need_apt+=(libnginx-mod-stream)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v ssh-keygen >/dev/null || need_apt+=(openssh-client)  # ansible-test's key pair (stage 40)
# What the role installs on a host for its ACME certificates (community.crypto on the system python),
# for the functional test of its decision (tests/functional/test_role_on_host_layouts.py).
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || need_apt+=(python3-cryptography)
# The ACME test server (Let's Encrypt's pebble) whose binaries molecule/acme mounts into its CA container.
command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null || need_apt+=(pebble)
# promtool, which checks the health agent's /metrics output and the alert rules (docs/metrics.md).
command -v promtool >/dev/null || need_apt+=(prometheus)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Only its promtool is wanted: a Prometheus server its package started (on a systemd machine) is stopped.
  if [[ " ${need_apt[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi
# The distribution's nginx may have been started by its package; the tests run their own instances.
# The Docker engine (not started here) and debootstrap, for the molecule scenarios and the demo.
docker_install

ensure_venv() {
  local stamp="$VENV/.requirements.sha" want
  want="$( (cat "$ROOT/requirements-dev.txt"; echo "$WHEEL_COLLECTIONS_PACKAGE ${WHEEL_COLLECTIONS[*]}") | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "python venv $VENV"
    python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
    log "collections ${WHEEL_COLLECTIONS[*]} from $WHEEL_COLLECTIONS_PACKAGE"
    install_wheel_collections "$VENV" "$WHEEL_COLLECTIONS_PACKAGE" "${WHEEL_COLLECTIONS[@]}"
    echo "$want" > "$stamp"
  fi
}
# Beside it, the newest ansible-core as a second controller (Python 3.13, molecule and the same
# collections from its own `ansible` release): stages 20, 30, 40 and 80 run under it too. Side by
# side: pip keeps one CPU busy, so the two venvs take the time of the longer one.
ensure_venv &
venv_pid=$!
ensure_core_latest_venv
wait "$venv_pid"
sync_tree
dev_collections
echo "setup done: venv $VENV, collection tree $TREE"
