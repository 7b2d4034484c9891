"""The reload governor: transitions close together share a reload, reloads are spaced, and a
change that only returns upstreams waits while old nginx workers pile up."""
from ansible_collections.antsle.antman.plugins.module_utils.health.damping import (
    FREE, MAX_DEFER, MAX_GAP, MIN_GAP, SETTLE, ReloadGovernor)


def test_a_first_change_waits_only_for_the_ones_that_come_with_it():
    governor = ReloadGovernor()
    assert governor.ready_at(10.0, 10.0, urgent=True) == 10.0 + SETTLE


def test_reloads_are_spaced_and_the_gap_grows_when_they_keep_coming():
    governor = ReloadGovernor()
    now = 0.0
    gaps = []
    for _reload in range(FREE + 6):
        at = governor.ready_at(now, now, urgent=True)
        gaps.append(round(at - now, 3))
        now = at
        governor.record(now)
    assert gaps[0] == SETTLE and gaps[1:FREE + 1] == [MIN_GAP] * FREE
    assert gaps[FREE + 1:] == [min(MAX_GAP, MIN_GAP * 2 ** k) for k in range(1, 6)]
    # a quiet while later the gap is back to the minimum
    assert governor.ready_at(now + 700, now + 700, urgent=True) == now + 700 + SETTLE


def test_returns_wait_while_old_workers_pile_up_but_not_for_ever():
    governor = ReloadGovernor(max_old_workers=4)
    assert governor.ready_at(5.0, 5.0, urgent=False, old_workers=2) == 5.0 + SETTLE
    assert governor.ready_at(5.0, 5.0, urgent=False, old_workers=8) == 6.0
    assert governor.ready_at(5.0, 5.0, urgent=True, old_workers=8) == 5.0 + SETTLE
    assert governor.ready_at(5.0 + MAX_DEFER, 5.0, urgent=False, old_workers=8) == 5.0 + SETTLE
