"""Warnings about rules whose backups a request cannot reach (rule_set.backup_reach_warning)."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import backup_reach_warning, rule_warnings
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import effective_tries, normalize_rule


def rule_with(primaries, backups=1, down=0, **fields):
    stream = fields.get("protocol", "http") != "http"
    upstreams = [{"address": "10.0.0.%d" % (i + 1)} for i in range(primaries)]
    upstreams += [{"address": "10.0.1.%d" % (i + 1), "down": True} for i in range(down)]
    upstreams += [{"address": "10.0.2.%d" % (i + 1), "backup": True} for i in range(backups)]
    base = {"name": "web", "upstreams": upstreams}
    if not stream:
        base["server_name"] = "web.test"
    return normalize_rule(dict(base, **fields))


@pytest.mark.parametrize("primaries, tries, warned", [
    (1, 3, False), (2, 3, False), (3, 3, True), (5, 3, True), (3, 4, False), (5, 6, False), (5, 5, True),
    (3, 0, False), (2, 2, True), (1, 1, True)])
def test_tries_must_reach_past_every_primary(primaries, tries, warned):
    note = backup_reach_warning(rule_with(primaries, next_upstream_tries=tries))
    assert (note is not None) == warned
    if warned:
        assert "rule 'web'" in note and "next_upstream_tries %d" % tries in note
        assert "set it to at least %d" % (primaries + 1) in note and "Leave next_upstream_tries out" in note


@pytest.mark.parametrize("primaries, backups, down", [(1, 1, 0), (3, 1, 0), (5, 2, 1), (40, 3, 4), (127, 1, 0)])
def test_the_default_tries_reach_every_backup_and_never_warn(primaries, backups, down):
    rule = rule_with(primaries, backups=backups, down=down)
    assert rule["next_upstream_tries"] is None and backup_reach_warning(rule) is None
    assert effective_tries(rule) == primaries + backups
    assert effective_tries(rule_with(primaries, backups=0, down=down)) == 3


def test_down_upstreams_do_not_count_and_down_backups_are_not_backups():
    assert backup_reach_warning(rule_with(2, down=3)) is None
    assert backup_reach_warning(rule_with(3, backups=0)) is None
    rule = rule_with(3, next_upstream_tries=3)
    assert backup_reach_warning(rule) is not None
    rule["upstreams"][-1]["down"] = True
    assert backup_reach_warning(rule) is None


@pytest.mark.parametrize("protocol", ["tcp", "udp"])
def test_stream_rules_are_checked_too(protocol):
    assert backup_reach_warning(rule_with(3, protocol=protocol, server_port=9000, next_upstream_tries=3)) is not None


def test_rule_warnings_skips_deletions_and_quiet_rules():
    starved = rule_with(4, next_upstream_tries=3)
    assert rule_warnings([None, rule_with(1), rule_with(4), starved]) == [backup_reach_warning(starved)]
