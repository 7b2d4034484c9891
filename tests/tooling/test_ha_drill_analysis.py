"""The HA drill's bookkeeping (tests/support/ha_drill.py), on made-up requests, journal and log lines:
the molecule scenario 'ha' asserts on these numbers, so they must mean what they say."""
from ansible_collections.antsle.antman.tests.support import ha_drill
from ansible_collections.antsle.antman.tests.support.ha_drill import LOG_LINE, STATE_LINE, analyse
from ansible_collections.antsle.antman.tests.support.traffic import Sample

JOURNAL = """1000.500000 ha-1 Keepalived_vrrp[12]: (antman_79) Entering FAULT STATE
1000.600000 ha-1 Keepalived_vrrp[12]: VRRP_Script(antman_nginx_status) failed (exited with status 1)
1001.100000 ha-2 Keepalived_vrrp[15]: (antman_79) Entering MASTER STATE
1002.000000 ha-2 Keepalived[14]: Stopping
1002.100000 ha-2 systemd[1]: Stopping keepalived.service - Keepalive Daemon (LVS and VRRP)...
"""


def ok(index, start, seconds=0.002):
    return Sample(index, start, seconds, 200, "ha-a", None)


def failed(index, start, why="ConnectionRefusedError"):
    return Sample(index, start, 0.001, None, None, why)


def test_journal_lines_give_state_changes_and_stops(monkeypatch):
    class Proc:
        stdout = JOURNAL

    monkeypatch.setattr(ha_drill, "docker", lambda *args, **kwargs: Proc())
    assert ha_drill.transitions("ha-1", 999.0, 1000.0) == [
        {"host": "ha-1", "at": 0.5, "state": "FAULT"},
        {"host": "ha-1", "at": 1.1, "state": "MASTER"},
        {"host": "ha-1", "at": 2.0, "state": "STOP"},
    ]
    assert not STATE_LINE.match("1.0 ha-1 systemd[1]: Stopping keepalived.service - Keepalive Daemon")


def test_access_log_lines_name_the_request():
    line = '2026-01-01T00:00:00+00:00 10.79.7.1 "web.ha.test" "GET /ha/0a1b2c/17 HTTP/1.1" 200 5 rt=0.001 upstream=...'
    match = LOG_LINE.search(line)
    assert (match.group("run"), match.group("index"), match.group("status")) == ("0a1b2c", "17", "200")


def test_windows_split_at_the_action_and_the_move():
    samples = [
        ok(0, 0.10), ok(1, 0.95, seconds=0.08),   # 1 was in progress when the action started (1.0)
        failed(2, 1.02),                          # sent while the action ran (it ended at 1.05): in flight
        failed(3, 1.20),                          # sent after it ended, before the move
        ok(4, 1.30, seconds=0.6),                 # waited for the move
        ok(5, 1.70), ok(6, 2.00),                 # after the move (1.6)
    ]
    where = {0: "ha-1", 1: "ha-1", 4: "ha-2", 5: "ha-2", 6: "ha-2"}
    action = {"started": 1.0, "done": 1.05}
    moves = [{"host": "ha-2", "at": 1.6, "state": "MASTER"}]
    ready = {"host": "ha-1", "at": 1.9, "state": "BACKUP"}
    result = analyse(samples, where, action, moves, ready)
    assert (result["moved_after_s"], result["moved_to"]) == (0.6, "ha-2")
    windows = result["windows"]
    assert windows["before"]["requests"] == 1 and windows["before"]["served_by"] == {"ha-1": 1}
    assert windows["switch"]["requests"] == 4 and windows["switch"]["failed"] == 2
    assert windows["switch"]["served_by"] == {"ha-1": 1, "ha-2": 1, "unlogged": 2}
    assert windows["after"] == dict(windows["after"], requests=2, failed=0, served_by={"ha-2": 2})
    assert result["switch_failures"] == [
        {"index": 2, "start_s": 0.02, "failure": "ConnectionRefusedError", "in_flight": True},
        {"index": 3, "start_s": 0.2, "failure": "ConnectionRefusedError", "in_flight": False}]
    assert (result["ready_after_s"], result["watched_after_ready_s"]) == (0.9, 0.102)


def test_without_a_move_everything_from_the_action_on_is_after():
    samples = [ok(0, 0.1), ok(1, 1.5), ok(2, 3.0)]
    result = analyse(samples, {0: "ha-2", 1: "ha-2", 2: "ha-2"}, {"started": 1.0, "done": 1.2}, [], None)
    assert result["moved_after_s"] is None and result["moved_to"] is None and result["ready_after_s"] is None
    assert result["windows"]["switch"]["requests"] == 0
    assert result["windows"]["after"]["requests"] == 2 and result["windows"]["after"]["served_by"] == {"ha-2": 2}
