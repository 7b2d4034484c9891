"""The rolling update's bookkeeping (tests/support/under_load.py, and playrun.py's per-task results),
on made-up requests and reports: the molecule scenario 'fleet' asserts on these numbers (how long
each antlet was out of rotation as the clients saw it, whether two were out at once), so they must
mean what they say."""
import argparse
import sys

import pytest

from ansible_collections.antsle.antman.tests.support import under_load
from ansible_collections.antsle.antman.tests.support.playrun import task_results
from ansible_collections.antsle.antman.tests.support.traffic import Sample


def ok(start, answer, seconds_taken=0.01):
    return Sample(0, start, seconds_taken, 200, answer, None)


def test_a_new_version_belongs_to_its_antlet_and_no_other():
    assert under_load.belongs("fleet-a", "fleet-a")
    assert under_load.belongs("fleet-a-v2", "fleet-a")
    assert under_load.belongs("fleet-a-v12", "fleet-a")
    assert not under_load.belongs("fleet-ab", "fleet-a")
    assert not under_load.belongs("fleet-a-vx", "fleet-a")
    assert not under_load.belongs("fleet-a-v", "fleet-a")
    assert not under_load.belongs("fleet-b-v2", "fleet-a")


def test_the_longest_gap_between_two_answers_is_the_time_out_of_rotation():
    samples = [ok(0.0, "a"), ok(0.5, "b"), ok(1.0, "a"), ok(1.5, "b"), ok(4.0, "a-v2"), ok(4.5, "b"), ok(5.0, "a-v2")]
    gap = under_load.out_of_rotation(samples, "a", end=5.01)
    assert gap["out_s"] == pytest.approx(4.0 - 1.01)
    assert gap["from_s"] == pytest.approx(1.01)
    assert (gap["back"], gap["before"], gap["after"], gap["answers"]) == (True, "a", "a-v2", 4)
    # the median time between two of its answers: 1.0, 3.0, 1.0
    assert gap["every_s"] == pytest.approx(1.0)


def test_failed_requests_and_other_antlets_are_not_answers_of_the_antlet():
    failed = Sample(0, 2.0, 0.01, 502, None, "status 502")
    samples = [ok(0.0, "a"), failed, ok(2.5, "ab"), ok(3.0, "a")]
    gap = under_load.out_of_rotation(samples, "a", end=3.01)
    assert gap["out_s"] == pytest.approx(2.99) and gap["answers"] == 2


def test_an_antlet_never_back_is_out_until_the_end_of_the_load():
    samples = [ok(0.0, "a"), ok(0.5, "b"), ok(1.0, "b"), ok(9.0, "b")]
    gap = under_load.out_of_rotation(samples, "a", end=9.01)
    assert gap["out_s"] == pytest.approx(9.0) and gap["back"] is False and gap["after"] is None


def test_an_antlet_that_answered_nothing_has_no_window():
    assert under_load.out_of_rotation([ok(0.0, "b")], "a", end=1.0) is None


def test_windows_overlap_only_through_the_same_target():
    def window(antlet, target, start, length):
        return {"antlet": antlet, "target": target, "from_s": start, "out_s": length}

    one_after_another = [window("a", "t1", 1.0, 2.0), window("b", "t1", 3.5, 2.0), window("b", "t2", 1.5, 1.0)]
    assert under_load.overlapping(one_after_another) == []
    together = one_after_another + [window("c", "t1", 4.0, 1.0)]
    assert under_load.overlapping(together) == [["t1", "b", "c"]]


def test_targets_are_parsed_and_bad_ones_refused():
    assert under_load.parse_target("10.0.0.1=web.test") == {
        "target": "10.0.0.1=web.test", "address": "10.0.0.1", "port": 80, "host": "web.test"}
    assert under_load.parse_target("10.0.0.1:8080=web.test")["port"] == 8080
    for bad in ("10.0.0.1", "=web.test", "10.0.0.1:x=web.test", "10.0.0.1="):
        with pytest.raises(argparse.ArgumentTypeError):
            under_load.parse_target(bad)


def test_the_command_runs_under_load_and_its_json_output_is_kept():
    """No load balancer needed: a target nobody listens on fails every request, which is counted."""
    command = [sys.executable, "-c", "import json; print(json.dumps({'rc': 0}))"]
    result = under_load.run([under_load.parse_target("127.0.0.1:9=x.test")], rate=20.0, clients=1, lead=0.2, tail=0.2,
                            antlets=["a"], command=command)
    assert result["command"]["rc"] == 0 and result["command"]["output"] == {"rc": 0}
    assert result["requests"] >= 4 and result["failed"] == result["requests"]
    assert result["out_of_rotation"] == [] and result["overlapping"] == []


def test_playrun_keeps_each_item_result_of_the_tasks_asked_for_with_its_host():
    report = {"tasks": [
        {"task": "Disable", "host": "fleet-a", "status": "ok",
         "result": {"results": [{"item": ["h1", "x"], "drained_in": 0.5, "diff": {"before": ""}, "invocation": {},
                                 "_ansible_item_label": "x"},
                                {"item": ["h2", "x"], "drained_in": 0.7}]}},
        {"task": "Other", "host": "fleet-a", "status": "ok", "result": {"changed": True}},
        {"task": "Enable", "host": "fleet-b", "status": "failed", "result": {"msg": "did not pass"}},
    ]}
    found = task_results(report, ["Disable", "Enable", "Missing"])
    assert found["Disable"] == [{"item": ["h1", "x"], "drained_in": 0.5, "host": "fleet-a", "status": "ok"},
                                {"item": ["h2", "x"], "drained_in": 0.7, "host": "fleet-a", "status": "ok"}]
    assert found["Enable"] == [{"msg": "did not pass", "host": "fleet-b", "status": "failed"}]
    assert found["Missing"] == []
