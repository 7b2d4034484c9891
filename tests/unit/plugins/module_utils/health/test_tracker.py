"""One upstream of one rule as the agent judges it: fails in a row take it out, passes in a row
bring it back, a flapping one must keep passing for longer each time."""
from ansible_collections.antsle.antman.plugins.module_utils.health.damping import FIRST_HOLD, MAX_HOLD
from ansible_collections.antsle.antman.plugins.module_utils.health.prober import Result
from ansible_collections.antsle.antman.plugins.module_utils.health.tracker import (
    BACK, FOUND_HEALTHY, HEALTHY, OUT, UNHEALTHY, UNKNOWN, Tracker)


def ok(at=0.0):
    return Result(True, 1.0, "status 200", 200, at)


def fail(at=0.0):
    return Result(False, 1000.0, "no answer within 1000 ms", None, at)


def feed(tracker, results, start=0.0, step=1.0):
    """Feed results one ``step`` apart; the transitions, in order."""
    return [tracker.feed(result, start + index * step) for index, result in enumerate(results)]


def test_unknown_until_enough_results_then_healthy_without_a_change_to_nginx():
    tracker = Tracker(fails=2, passes=2)
    assert tracker.state == UNKNOWN
    assert feed(tracker, [ok(), ok(5.0)]) == [None, FOUND_HEALTHY]
    assert (tracker.state, tracker.since, tracker.detail) == (HEALTHY, 5.0, "status 200")


def test_fails_in_a_row_take_it_out_and_a_pass_between_starts_again():
    tracker = Tracker(fails=3, passes=2)
    assert feed(tracker, [ok(), ok(), fail(), fail(), ok(), fail(), fail()]) == [None, FOUND_HEALTHY] + [None] * 5
    assert tracker.state == HEALTHY
    assert tracker.feed(fail(9.0), 10) == OUT
    assert (tracker.state, tracker.since, tracker.detail) == (UNHEALTHY, 9.0, "no answer within 1000 ms")
    assert tracker.feed(fail(), 11) is None  # still out, no new transition


def test_unknown_can_go_straight_out_and_passes_bring_it_back():
    tracker = Tracker(fails=2, passes=2)
    assert feed(tracker, [fail(), fail(), ok(), fail(), ok(), ok()]) == [None, OUT, None, None, None, BACK]
    assert tracker.state == HEALTHY


def test_a_restarted_agent_starts_from_the_applied_verdict():
    tracker = Tracker(fails=2, passes=2, state=UNHEALTHY, since=100.0, detail="status 500")
    assert feed(tracker, [fail(), fail()]) == [None, None]  # already out: nothing to apply
    assert tracker.since == 100.0
    assert feed(tracker, [ok(), ok()]) == [None, BACK]


def test_a_flapping_upstream_must_pass_longer_each_time():
    tracker = Tracker(fails=1, passes=1)
    now = 0.0
    holds = []
    for _flap in range(6):
        assert tracker.feed(fail(), now) == OUT
        now += 1.0
        started = now
        while tracker.feed(ok(), now) != BACK:
            now += 1.0
        holds.append(now - started)
        now += 1.0
    # the first return is at once, then 10 s, 20 s, 40 s, 80 s, then at most MAX_HOLD
    assert holds == [0.0, FIRST_HOLD, 2 * FIRST_HOLD, 4 * FIRST_HOLD, 8 * FIRST_HOLD, MAX_HOLD]


def test_flaps_long_ago_are_forgotten():
    tracker = Tracker(fails=1, passes=1)
    assert tracker.feed(fail(), 0.0) == OUT and tracker.feed(ok(), 1.0) == BACK
    assert tracker.feed(fail(), 2000.0) == OUT and tracker.feed(ok(), 2001.0) == BACK
