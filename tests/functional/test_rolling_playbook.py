"""The antsle.antman.rolling playbook, run by ansible-playbook as users run it, against a private
nginx and three antlets whose application the deployment tasks restart (tests/support/rolling.py),
under a steady load (failures counted browser-like, see bench/loadclient.py)."""
import pytest

from ansible_collections.antsle.antman.bench.loadclient import BackgroundLoad, Target
from ansible_collections.antsle.antman.tests.support.harness import distribution, free_port, get
from ansible_collections.antsle.antman.tests.support.rolling import (
    DISABLE_TASK, ENABLE_TASK, make_antlets, module_results, run_rolling, write_deploy_tasks, write_inventory)

RATE = 60


@pytest.fixture
def world(nginx, tmp_path):
    antlets = make_antlets(str(tmp_path), 3, 2)
    try:
        port = free_port()
        nginx.apply([{"name": "web", "server_name": "web.local", "server_port": port,
                      "upstreams": [{"address": a.address} for a in antlets]}])
        # antlet3's address holds its port (antman_lb_address: host:port), the others' do not
        inventory = write_inventory(str(tmp_path / "inventory.json"), nginx, antlets, port_in_address=["antlet3"])
        yield antlets, port, inventory
    finally:
        for antlet in antlets:
            antlet.stop()


def down_flags(nginx):
    import json
    text = nginx.snapshot_files()["web.conf"].decode()
    return [u["down"] for u in json.loads(text.split("\n")[1][len("# antman-rule: "):])["upstreams"]]


def test_rolling_update_one_antlet_at_a_time_without_failures(world, nginx, tmp_path):
    antlets, port, inventory = world
    deploy = write_deploy_tasks(str(tmp_path / "deploy.yml"), start_after=1.0, warmup=2)
    with BackgroundLoad([Target("127.0.0.1", port, "web.local")], RATE) as load:
        rc, tasks, output = run_rolling(str(tmp_path), inventory, {
            "rolling_deploy_tasks": deploy, "rolling_health_interval": 0.2, "rolling_health_timeout": 20,
            "rolling_health_path": "/"})
        (records,) = load.stop()
    assert rc == 0, output[-3000:]
    disabled, enabled = module_results(tasks, DISABLE_TASK), module_results(tasks, ENABLE_TASK)
    assert [host for host, _result in disabled] == ["antlet1", "antlet2", "antlet3"]
    assert [host for host, _result in enabled] == ["antlet1", "antlet2", "antlet3"]
    order = [(t["host"], t["task"]) for t in tasks if t["task"] in (DISABLE_TASK, ENABLE_TASK)]
    assert order == [(a.name, task) for a in antlets for task in (DISABLE_TASK, ENABLE_TASK)]  # serial: 1
    for (host, drained), (_host, back), antlet in zip(disabled, enabled, antlets):
        assert drained["changed"] and drained["rules"] == ["web"] and drained["connections_left"] == 0
        assert drained["address"] == antlet.address and back["rules"] == ["web"]
        # the new version listens 1 s after the restart and answers its first 2 requests (the
        # probes: nginx sends it nothing while it is disabled) 503: the health check waited for it
        assert not back["health"][0]["ok"] and all(p["ok"] for p in back["health"][-2:])
        assert [p["status"] for p in back["health"] if p["status"] is not None][:2] == [503, 503]
    assert down_flags(nginx) == [False, False, False]
    assert [get(a.port, "x", address=a.host)[1] for a in antlets] == ["antlet1-v2", "antlet2-v2", "antlet3-v2"]
    assert distribution(port, "web.local", 30) == {"antlet1-v2": 10, "antlet2-v2": 10, "antlet3-v2": 10}
    assert len(records) > 5 * RATE and [r for r in records if r.failed] == []


def test_a_deployment_that_breaks_the_application_stops_the_update(world, nginx, tmp_path):
    antlets, port, inventory = world
    deploy = write_deploy_tasks(str(tmp_path / "broken.yml"), broken=True)
    with BackgroundLoad([Target("127.0.0.1", port, "web.local")], RATE) as load:
        rc, tasks, output = run_rolling(str(tmp_path), inventory, {
            "rolling_deploy_tasks": deploy, "rolling_health_interval": 0.5, "rolling_health_timeout": 2})
        (records,) = load.stop()
    assert rc != 0
    (failed,) = [t for t in tasks if t["status"] == "failed"]
    assert failed["host"] == "antlet1" and failed["task"] == ENABLE_TASK
    assert "did not pass the health check" in failed["result"]["results"][0]["msg"]
    assert [t["host"] for t in tasks if t["task"] == DISABLE_TASK] == ["antlet1"]  # the others never touched
    assert down_flags(nginx) == [True, False, False]
    assert distribution(port, "web.local", 20) == {"antlet2": 10, "antlet3": 10}
    assert [r for r in records if r.failed] == []
