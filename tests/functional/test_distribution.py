"""Generated configuration does what the rule says, measured with real requests through nginx."""
import pytest

from ansible_collections.antsle.antman.tests.support.harness import NginxInstance, distribution, free_port, get

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule


def apply(nginx, **fields):
    rule = normalize_rule(fields)
    nginx.applier().run(lambda snapshot: {rule["name"]: rule})
    return rule


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_weights_3_1_1_split_500_requests_300_100_100(tmp_path, backends, workers):
    nginx = NginxInstance(tmp_path / "nginx", workers=workers).start()
    try:
        a, b, c = backends(3)
        port = free_port()
        apply(nginx, name="web", server_name="web.local", server_port=port, upstreams=[
            {"address": a.address, "weight": 3}, {"address": b.address}, {"address": c.address}])
        seen = distribution(port, "web.local", 500)
    finally:
        nginx.stop()
    assert abs(seen[a.name] - 300) <= 3 and abs(seen[b.name] - 100) <= 1 and abs(seen[c.name] - 100) <= 1, seen


def test_backup_gets_nothing_while_primaries_are_up_and_everything_when_they_are_down(nginx, backends):
    a, b, spare = backends(3)
    port = free_port()
    apply(nginx, name="web", server_name="web.local", server_port=port, upstreams=[
        {"address": a.address}, {"address": b.address}, {"address": spare.address, "backup": True}])
    assert distribution(port, "web.local", 100)[spare.name] == 0
    a.kill()
    b.kill()
    seen = distribution(port, "web.local", 100)
    assert seen == {spare.name: 100}, seen


def test_down_upstream_gets_no_traffic(nginx, backends):
    a, b = backends(2)
    port = free_port()
    apply(nginx, name="web", server_name="web.local", server_port=port, upstreams=[
        {"address": a.address}, {"address": b.address, "down": True}])
    assert distribution(port, "web.local", 50) == {a.name: 50}


def test_crashed_upstream_is_skipped_without_failed_requests(nginx, backends):
    a, b, c = backends(3)
    port = free_port()
    apply(nginx, name="web", server_name="web.local", server_port=port,
          upstreams=[{"address": x.address} for x in (a, b, c)])
    b.kill()
    seen = distribution(port, "web.local", 90)
    assert b.name not in seen and sum(v for k, v in seen.items() if k.startswith("status")) == 0, seen


def test_hung_upstream_costs_at_most_read_timeout(nginx, backends):
    import time
    a, b, c = backends(3)
    port = free_port()
    apply(nginx, name="web", server_name="web.local", server_port=port, read_timeout="1s",
          upstreams=[{"address": x.address} for x in (a, b, c)])
    b.hang()
    slowest, failed = 0.0, 0
    for _request in range(30):
        started = time.monotonic()
        status, body = get(port, "web.local")
        slowest = max(slowest, time.monotonic() - started)
        failed += status != 200
    b.resume()
    assert failed == 0
    assert slowest < 1.0 + 1.0, slowest


def test_unknown_host_header_is_not_served_by_rule_on_other_port(nginx, backends):
    (a,) = backends(1)
    port = free_port()
    apply(nginx, name="web", server_name="web.local", server_port=port, upstreams=[{"address": a.address}])
    status, body = get(port, "web.local")
    assert status == 200 and body == a.name
