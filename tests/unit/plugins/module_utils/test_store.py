import os

from ansible_collections.antsle.antman.plugins.module_utils.render import render_rule
from ansible_collections.antsle.antman.plugins.module_utils.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.store import read_snapshot


def write(path, text):
    with open(str(path), "w") as handle:
        handle.write(text)


def test_snapshot_reads_managed_rules_and_reports_the_rest(tmp_path):
    rule = normalize_rule({"name": "web", "server_name": "a.com", "upstreams": [{"address": "b"}]})
    write(tmp_path / "web.conf", render_rule(rule))
    write(tmp_path / "hand.conf", "server { listen 81; }\n")
    write(tmp_path / "notes.txt", "x")
    write(tmp_path / "drift.conf", render_rule(normalize_rule({"name": "drift", "server_name": "d.com",
                                                               "upstreams": [{"address": "b"}]})) + "# edit\n")
    write(tmp_path / "broken.conf", "# Managed by antsle.antman: rule broken.\n# antman-rule: {not json\n")
    snapshot = read_snapshot(str(tmp_path))
    assert list(snapshot.rules()) == ["drift", "web"]
    assert snapshot.rules()["web"] == rule
    assert snapshot.managed["web"].in_sync and not snapshot.managed["drift"].in_sync
    assert snapshot.managed["broken"].rule is None
    assert snapshot.unmanaged == ["hand.conf", "notes.txt"]
    warnings = " ".join(snapshot.warnings())
    assert "hand.conf: not managed" in warnings and "broken.conf: unreadable rule header" in warnings


def test_missing_directory_is_empty(tmp_path):
    snapshot = read_snapshot(os.path.join(str(tmp_path), "nope"))
    assert not snapshot.managed and not snapshot.unmanaged
