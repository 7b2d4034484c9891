"""The reload governor: transitions close together share a reload, returns are spaced, taking an
antlet out is not delayed until reloads keep coming, and a change that only returns upstreams
waits while old nginx workers pile up."""
from ansible_collections.antsle.antman.plugins.module_utils.health.damping import (
    FREE, MAX_DEFER, MAX_GAP, MIN_GAP, SETTLE, ReloadGovernor)


def test_a_first_change_waits_only_for_the_ones_that_come_with_it():
    governor = ReloadGovernor()
    assert governor.ready_at(10.0, 10.0, urgent=True) == 10.0 + SETTLE


def gaps(urgent, count):
    """The wait of each of ``count`` changes, each pending from the moment the last was applied."""
    governor = ReloadGovernor()
    now, waits = 0.0, []
    for _reload in range(count):
        at = governor.ready_at(now, now, urgent=urgent)
        waits.append(round(at - now, 3))
        now = at
        governor.record(now)
    return governor, now, waits


def test_returns_are_spaced_and_the_gap_grows_when_reloads_keep_coming():
    governor, now, waits = gaps(False, FREE + 6)
    assert waits[0] == SETTLE and waits[1:FREE + 1] == [MIN_GAP] * FREE
    assert waits[FREE + 1:] == [min(MAX_GAP, MIN_GAP * 2 ** k) for k in range(1, 6)]
    # a quiet while later the gap is back to the minimum
    assert governor.ready_at(now + 700, now + 700, urgent=False) == now + 700 + SETTLE


def test_taking_out_waits_only_to_settle_until_reloads_keep_coming():
    governor, now, waits = gaps(True, FREE + 6)
    assert waits[:FREE + 1] == [SETTLE] * (FREE + 1)
    # a storm of failures is bounded as returns are
    assert waits[FREE + 1:] == [min(MAX_GAP, MIN_GAP * 2 ** k) for k in range(1, 6)]


def test_returns_wait_while_old_workers_pile_up_but_not_for_ever():
    governor = ReloadGovernor(max_old_workers=4)
    assert governor.ready_at(5.0, 5.0, urgent=False, old_workers=2) == 5.0 + SETTLE
    assert governor.ready_at(5.0, 5.0, urgent=False, old_workers=8) == 6.0
    assert governor.ready_at(5.0, 5.0, urgent=True, old_workers=8) == 5.0 + SETTLE
    assert governor.ready_at(5.0 + MAX_DEFER, 5.0, urgent=False, old_workers=8) == 5.0 + SETTLE
