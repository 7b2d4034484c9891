"""The failover drill's bookkeeping (tests/support/drill.py), on made-up requests and log lines:
the molecule scenario 'failover' asserts on these numbers, so they must mean what they say."""
from ansible_collections.antsle.antman.tests.support import drill
from ansible_collections.antsle.antman.tests.support.drill import Event, analyse, parse_tries, seconds, try_kind
from ansible_collections.antsle.antman.tests.support.traffic import Sample

ADDRESSES = {"a": "10.0.0.1:80", "b": "10.0.0.2:80"}
LOG = ('2026-01-01T00:00:00+00:00 127.0.0.1 "web.test" "GET /drill/abc123/%d HTTP/1.1" %d 2 rt=0.001 '
       'upstream=%s upstream_status=%s upstream_connect=%s upstream_time=%s server=web.test:80\n')


def event(spec, started, done_by=None):
    result = Event(spec)
    result.started = started
    result.done_by = done_by or dict((name, started + 0.01) for name in result.names)
    result.done = max(result.done_by.values())
    return result


def ok(index, start, name, seconds_taken=0.001):
    return Sample(index, start, seconds_taken, 200, name, None)


def test_log_lines_give_each_request_its_tries():
    log = (
        "unrelated line\n"
        + LOG % (7, 200, "10.0.0.1:80, 10.0.0.2:80", "504, 200", "0.000, 0.001", "2.001, 0.002")
        + LOG % (8, 200, "10.0.0.1:80, 10.0.0.2:80", "504, 200", "-, 0.000", "1.000, 0.001")
        + LOG.replace("abc123", "other") % (9, 200, "10.0.0.2:80", "200", "0.000", "0.001"))
    tries = parse_tries(log.encode(), "abc123")
    assert sorted(tries) == [7, 8]
    assert tries[7][0] == {"address": "10.0.0.1:80", "status": 504, "connect": 0.0, "time": 2.001}
    assert [try_kind(t) for t in tries[7]] == ["read_timeout", "other"]
    assert try_kind(tries[8][0]) == "connect_timeout" and tries[8][0]["connect"] is None
    assert try_kind({"status": 502, "connect": None, "time": 0.0}) == "refused"


def test_rule_times_in_seconds():
    assert (seconds("2s"), seconds("500ms"), seconds("10s")) == (2.0, 0.5, 10.0)


def test_detection_avoidance_and_return_of_a_hung_antlet():
    hang, resume = event("1:hang:a", 1.0), event("9:resume:a", 9.0)
    samples, tries = [], {}
    # Before the fault both answer; during it, two requests stall on a (read timeout 2 s) and are
    # retried on b (failures end at 3.2 and 3.4); a is probed at 6.7 (stalls until 8.7) and answers
    # again at 12.0, 3.3 s after that.
    plan = [(0.5, ["a"]), (0.6, ["b"]), (1.2, ["a", "b"]), (1.4, ["a", "b"]), (2.0, ["b"]),
            (6.7, ["a", "b"]), (9.5, ["b"]), (12.0, ["a"]), (12.5, ["b"])]
    for index, (start, route) in enumerate(plan):
        failed_first = len(route) == 2
        tries[index] = [{"address": ADDRESSES[name], "status": 504 if failed_first and n == 0 else 200,
                         "connect": 0.0, "time": 2.0 if failed_first and n == 0 else 0.001}
                        for n, name in enumerate(route)]
        samples.append(ok(index, start, route[-1], 2.001 if failed_first else 0.001))
    windows, antlets = analyse(samples, [hang, resume], ADDRESSES, tries, 13.0)
    a = antlets["a"]
    assert a["failed_tries"] == {"read_timeout": 3}
    assert a["detected_at"] == 3.2  # the first stalled try ended 2 s after it started
    assert a["sent_before_detection"] == 2
    assert a["probes"] == 1
    assert a["avoided_s"] == 3.3  # the shortest of 3.2 -> 6.7, 3.4 -> 6.7 and 8.7 -> 12.0
    assert a["returned_after_s"] == round(12.0 - 9.01, 3)
    assert a["slowest_ms_by_kind"] == {"read_timeout": 2001.0}
    assert windows["before"]["answered"] == {"a": 1, "b": 1}
    assert windows["detecting"]["requests"] == 3  # 1.2, 1.4, 2.0
    assert windows["faulted"]["requests"] == 1 and windows["returning"]["requests"] == 1  # 6.7; 9.5
    assert windows["after"]["answered"] == {"a": 1, "b": 1} and a["share_after"] == 0.5
    assert windows["outage"]["requests"] == 4


def test_an_antlet_started_first_of_several_answers_in_returning_not_in_faulted():
    # every primary killed at 1 s (a refused try at 1.1 s marks it); the start of a and b takes
    # 1.5 s: a answers at 6.3 s, before b is up (done at 7.5 s)
    kill = event("1:kill:a,b", 1.0)
    start = event("6:start:a,b", 6.0, {"a": 6.2, "b": 7.5})
    refused = {"status": 502, "connect": None, "time": 0.0}
    answered = {"status": 200, "connect": 0.0, "time": 0.001}
    backup = dict(answered, address="10.0.0.9:80")
    tries = {0: [dict(refused, address=ADDRESSES["a"]), backup], 1: [dict(refused, address=ADDRESSES["b"]), backup],
             2: [backup], 3: [dict(answered, address=ADDRESSES["a"])], 4: [dict(answered, address=ADDRESSES["b"])]}
    samples = [ok(0, 1.1, "backup"), ok(1, 1.2, "backup"), ok(2, 3.0, "backup"), ok(3, 6.3, "a"), ok(4, 8.0, "b")]
    windows, _antlets = analyse(samples, [kill, start], ADDRESSES, tries, 9.0)
    assert windows["faulted"]["answered"] == {"backup": 1}
    assert windows["returning"]["answered"] == {"a": 1}


def test_failures_and_slowest_are_counted_per_window():
    kill = event("1:kill:a,b", 1.0)
    # b answers one more request while a is being killed: not part of the outage yet.
    samples = [ok(0, 0.2, "a"), ok(3, 1.005, "b"), Sample(1, 1.5, 0.004, 502, None, "status 502"),
               Sample(2, 2.5, 0.003, 502, None, "status 502")]
    tries = {1: [{"address": ADDRESSES["a"], "status": 502, "connect": None, "time": 0.001},
                 {"address": ADDRESSES["b"], "status": 502, "connect": None, "time": 0.001}],
             2: [{"address": "antman_web", "status": 502, "connect": None, "time": None}]}
    windows, antlets = analyse(samples, [kill], ADDRESSES, tries, 3.0)
    assert windows["outage"]["failures"] == {"status 502": 2}
    assert windows["outage"]["slowest_ms"] == 4.0 and windows["outage"]["answered"] == {}
    assert antlets["b"]["detected_at"] == 1.502 and antlets["a"]["returned_after_s"] is None
    assert drill.WINDOWS[-1] == "outage"


def test_with_max_fails_3_the_antlet_is_marked_at_its_third_failure():
    kill, start = event("1:kill:a", 1.0), event("6:start:a", 6.0)
    refused = {"address": ADDRESSES["a"], "status": 502, "connect": None, "time": 0.001}
    answer = {"address": ADDRESSES["b"], "status": 200, "connect": 0.0, "time": 0.001}
    # a is still tried after its first and second refusal (1.0, 1.1), marked at the third (1.2),
    # probed at 5.3, and answers again at 7.0.
    starts = [1.0, 1.1, 1.2, 5.3]
    tries = dict((index, [refused, answer]) for index in range(4))
    samples = [ok(index, start_at, "b", 0.002) for index, start_at in enumerate(starts)]
    samples += [ok(4, 2.0, "b"), ok(5, 7.0, "a")]
    tries.update({4: [answer], 5: [dict(answer, address=ADDRESSES["a"])]})
    windows, antlets = analyse(samples, [kill, start], ADDRESSES, tries, 8.0, max_fails=3)
    a = antlets["a"]
    assert a["failed_tries"] == {"refused": 4}
    assert a["detected_at"] == 1.201
    assert a["sent_before_detection"] == 3 and a["probes"] == 1
    assert a["avoided_s"] == round(min(5.3 - 1.201, 7.0 - 5.301), 3)
    assert windows["detecting"]["requests"] == 3
