"""lb_rules against a real nginx, run by ansible-playbook as users run it."""
import json

from ansible_collections.antsle.antman.tests.support.harness import counting_nginx, distribution, free_port, get, run_playbook

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - antsle.antman.lb_rules:
        state: {state}
        config: {config}
        rules_dir: {rules_dir}
        nginx_conf: {conf}
        nginx_binary: {binary}
      register: result
      ignore_errors: true
"""


def run(nginx, tmp_path, state, config, binary=None, check=False):
    text = PLAY.format(state=state, config=json.dumps(config), rules_dir=nginx.rules_dir, conf=nginx.conf,
                       binary=binary or nginx.binary)
    proc, result = run_playbook(text, tmp_path, ["--check", "--diff"] if check else [])
    assert result is not None, proc.stdout
    return result


def rules_for(backends, count, port):
    return [{"name": "site%03d" % i, "server_name": "site%03d.local" % i, "server_port": port,
             "upstreams": [{"address": b.address, "weight": w} for b, w in zip(backends, (3, 1, 1))]}
            for i in range(count)]


def test_many_rules_one_nginx_test_one_reload_and_real_traffic(nginx, backends, tmp_path):
    a, b, c = backends(3)
    port = free_port()
    wrapper, calls = counting_nginx(tmp_path)
    config = rules_for([a, b, c], 60, port)
    result = run(nginx, tmp_path, "overridden", config, binary=wrapper)
    assert result["changed"] and len(result["changes"]) == 60 and result["reloaded"]
    tests = [c for c in calls() if "-t" in c.split()]
    reloads = [c for c in calls() if "reload" in c.split()]
    assert len(tests) == 1 and len(reloads) == 1, calls()
    seen = distribution(port, "site042.local", 100)
    assert seen == {a.name: 60, b.name: 20, c.name: 20}
    again = run(nginx, tmp_path, "overridden", config, binary=wrapper)
    assert not again["changed"] and len([c for c in calls() if "-t" in c.split()]) == 1


def test_one_bad_rule_rolls_back_the_whole_set_and_is_named(nginx, backends, tmp_path):
    a, b, c = backends(3)
    port = free_port()
    config = rules_for([a, b, c], 5, port)
    run(nginx, tmp_path, "overridden", config)
    before = nginx.snapshot_files()
    config[0]["upstreams"].append({"address": a.host + ":1"})
    config[3]["upstreams"] = [{"address": "no-such-antlet.invalid"}]
    config.append({"name": "extra", "server_name": "extra.local", "server_port": port, "upstreams": [{"address": b.address}]})
    result = run(nginx, tmp_path, "overridden", config)
    assert result["failed"] and result["rules"] == ["site003"] and "no-such-antlet.invalid" in result["msg"]
    assert nginx.snapshot_files() == before
    assert get(port, "site003.local")[0] == 200
    assert distribution(port, "site000.local", 50) == {a.name: 30, b.name: 10, c.name: 10}


def test_round_trip_gather_override_restore_is_byte_identical(nginx, backends, tmp_path):
    a, b, c = backends(3)
    port = free_port()
    run(nginx, tmp_path, "overridden", rules_for([a, b, c], 4, port))
    original = nginx.snapshot_files()
    gathered = run(nginx, tmp_path, "gathered", None)["gathered"]
    changed = run(nginx, tmp_path, "overridden", [{"name": "other", "server_name": "other.local", "server_port": port,
                                                   "upstreams": [{"address": c.address}]}])
    assert changed["changed"] and list(nginx.snapshot_files()) == ["other.conf"]
    assert get(port, "other.local") == (200, c.name)
    check = run(nginx, tmp_path, "overridden", gathered, check=True)
    assert check["changed"] and list(nginx.snapshot_files()) == ["other.conf"]
    restored = run(nginx, tmp_path, "overridden", gathered)
    assert restored["changed"] and nginx.snapshot_files() == original
    assert sorted((c["name"], c["action"]) for c in restored["changes"]) == sorted(
        (c["name"], c["action"]) for c in check["changes"])
    assert distribution(port, "site001.local", 50) == {a.name: 30, b.name: 10, c.name: 10}
