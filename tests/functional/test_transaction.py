"""Transactions against a real nginx: validation, rollback, reload, recovery."""
import socket

import pytest

from ansible_collections.antsle.antman.tests.support.harness import free_port, get

from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule


def make(name, port, *addresses, **fields):
    return normalize_rule(dict(dict(name=name, server_name="%s.local" % name, server_port=port,
                                    upstreams=[{"address": a} for a in addresses]), **fields))


def apply(nginx, *rules, **kwargs):
    return nginx.applier(**kwargs).run(lambda snapshot: dict((r["name"], r) for r in rules))


@pytest.fixture
def serving(nginx, backends):
    """nginx with rule 'web' serving through one backend."""
    (backend,) = backends(1)
    port = free_port()
    apply(nginx, make("web", port, backend.address))
    assert get(port, "web.local") == (200, backend.name)
    return nginx, port, backend


def test_reload_keeps_the_master_process_and_takes_effect_at_once(serving, backends):
    nginx, port, backend = serving
    master = nginx.master_pid()
    (other,) = backends(1, first_host=9)
    outcome = apply(nginx, make("web", port, other.address))
    assert outcome.reloaded and nginx.master_pid() == master
    assert get(port, "web.local") == (200, other.name)


def test_unresolvable_upstream_is_rolled_back_byte_for_byte(serving):
    nginx, port, backend = serving
    before = nginx.snapshot_files()
    with pytest.raises(ApplyError) as error:
        apply(nginx, make("api", free_port(), "does-not-exist.invalid"))
    assert error.value.rules == ["api"]
    assert 'host not found in upstream "does-not-exist.invalid:80"' in str(error.value)
    assert nginx.snapshot_files() == before
    assert get(port, "web.local") == (200, backend.name)


def test_port_nginx_cannot_bind_is_rolled_back_after_reload(serving):
    nginx, port, backend = serving
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", 0))
    blocker.listen(1)
    taken = blocker.getsockname()[1]
    before = nginx.snapshot_files()
    master, workers = nginx.master_pid(), nginx.workers()
    try:
        with pytest.raises(ApplyError) as error:
            apply(nginx, make("api", taken, backend.address))
    finally:
        blocker.close()
    assert "bind()" in str(error.value) and error.value.rules == ["api"]
    assert nginx.snapshot_files() == before and nginx.master_pid() == master
    assert get(port, "web.local") == (200, backend.name)


def test_check_mode_changes_nothing(serving):
    nginx, port, backend = serving
    before, workers = nginx.snapshot_files(), nginx.workers()
    outcome = apply(nginx, make("web", port, backend.address, read_timeout="9s"), check_mode=True)
    assert outcome.changed and [c.action for c in outcome.changes] == ["updated"]
    assert nginx.snapshot_files() == before and nginx.workers() == workers


def test_nginx_not_running_is_refused_before_anything(nginx, backends):
    (backend,) = backends(1)
    nginx.stop()
    with pytest.raises(ApplyError, match="nginx is not running"):
        apply(nginx, make("web", free_port(), backend.address))
    assert nginx.snapshot_files() == {}
    apply(nginx, make("web", free_port(), backend.address), reload=False)
    assert list(nginx.snapshot_files()) == ["web.conf"]
