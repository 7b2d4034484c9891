"""bench/fleet.py's bookkeeping without Docker: the recap it reads and the table it prints from it
(the benchmark itself runs with `bench/run.sh --only fleet`, which needs Docker)."""
from ansible_collections.antsle.antman.bench import fleet

RECAP = """
PLAY RECAP *********************************************************************
bench-h01                  : ok=10   changed=1    unreachable=0    failed=0    skipped=11   rescued=0    ignored=0
bench-h02                  : ok=10   changed=0    unreachable=0    failed=0    skipped=11   rescued=0    ignored=0
"""


def test_the_recap_is_read_per_host():
    assert fleet.parse_recap(RECAP) == {
        "bench-h01": {"ok": 10, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 11},
        "bench-h02": {"ok": 10, "changed": 0, "unreachable": 0, "failed": 0, "skipped": 11}}
    assert fleet.parse_recap("no recap here") == {}


def test_every_host_gets_the_shared_rules_and_its_own_site():
    inventory = fleet.inventory(3, connection="docker")["all"]["children"]
    assert sorted(inventory["antsle"]["hosts"]) == ["bench-h01", "bench-h02", "bench-h03"]
    variables = inventory["antsle"]["vars"]
    assert variables["ansible_connection"] == "docker"
    assert [rule["name"] for rule in variables["antman_lb_rules"]] == ["shared", "api", "site"]
    assert set(inventory["bench_shared"]["hosts"]) | set(inventory["bench_api"]["hosts"]) == set(fleet.ANTLETS)


def test_the_table_gives_each_run_against_the_floor_of_its_round():
    quiet = fleet.parse_recap(RECAP.replace("changed=1", "changed=0"))
    changed = fleet.parse_recap(RECAP.replace("changed=0", "changed=1"))
    rounds = [dict((name, (seconds, changed if name in ("first", "one change", "check", "change back") else quiet))
                   for name, seconds in (("first", 8.0), ("no-op", 4.0), ("floor", 2.0), ("one change", 5.0),
                                         ("check", 4.5), ("change back", 5.0)))]
    text = fleet.report(rounds, 2, 2, "true", 30.0)
    rows = dict((line.split(" | ")[0].lstrip("| "), line) for line in text.splitlines() if line.startswith("| "))
    assert rows["no-op"].startswith("| no-op | 4.0 s | 2.00 s | 2.00x | 4.0 | 0 | 10 / 11 |"), rows
    assert rows["one change"].startswith("| one change | 5.0 s | 2.50 s | 2.50x | 5.0, 5.0 | 2 |"), rows
    assert "predicted a change on 2 host(s), the real run after it changed 2 (the same hosts)" in text
