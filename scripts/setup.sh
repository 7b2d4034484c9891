#!/usr/bin/env bash
# Install everything the tests and the demo need, idempotently: system packages from apt (nginx,
# wrk, iproute2, curl), a Python 3.11 venv with the pinned requirements, and the collection tree.
source "$(dirname "$0")/lib.sh"

need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v curl >/dev/null || need_apt+=(curl)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)  # ansible-test sanity
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need_apt+=(libnginx-mod-stream)
command -v openssl >/dev/null || need_apt+=(openssl)
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The distribution's nginx may have been started by its package; the tests run their own instances.

stamp="$VENV/.requirements.sha"
want="$(sha256sum < "$ROOT/requirements-dev.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "python venv $VENV"
  python3.11 -m venv "$VENV" 2>/dev/null || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
  echo "$want" > "$stamp"
fi
sync_tree
# The checkout itself as a collection, for running molecule from the checkout (molecule test -s
# NAME): extensions/molecule/config.yml puts build/dev-collections first on the collections path.
# A link, not a copy, so that molecule always tests the files being edited.
mkdir -p "$ROOT/build/dev-collections/ansible_collections/antsle"
ln -sfn "$ROOT" "$ROOT/build/dev-collections/ansible_collections/antsle/antman"
echo "setup done: venv $VENV, collection tree $TREE"
