"""The access log's traffic figures (health/access_log.py): lines in the role's log_format counted
per rule (server=name:port), per upstream try (status class, response time), failovers across
tries and upstream groups, requests nginx answered itself; a client's text (hostile Host and
request line) never taken for the trailing fields; unknown servers and foreign lines counted
apart; the series per rule capped (1,000 and more addresses fold into upstream="other"); the
one-minute window the status file carries; the families pass promtool."""
import os
import subprocess
import tracemalloc

from ansible_collections.antsle.antman.plugins.module_utils.health.access_log import (
    BUDGET, EXTRA_UPSTREAMS, OTHER, SNAPSHOT_EVERY, AccessLogReader, TrafficCounters, count_lines, server_keys)
from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import exposition
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION

RULES = {
    "web": {"protocol": "http", "server_name": ["web.example.com", "www.example.com"], "server_port": 80,
            "upstreams": [{"address": "10.1.1.101:80"}, {"address": "10.1.1.102:80"}, {"address": "10.1.1.103:80"}]},
    "api": {"protocol": "http", "server_name": ["api.example.com"], "server_port": 8443,
            "upstreams": [{"address": "10.1.1.201:8080"}]},
    "ssh": {"protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.1.1.50:22"}]},
}


def line(upstream="10.1.1.101:80", upstream_status="200", connect="0.000", upstream_time="0.004", status="200",
         server="web.example.com:80", host="web.example.com", request="GET / HTTP/1.1"):
    """A line as nginx writes it in the role's log_format (roles/load_balancer/templates/antman.conf.j2)."""
    return ('2026-12-07T09:00:00+00:00 192.0.2.7 "%s" "%s" %s 612 rt=0.005 upstream=%s upstream_status=%s '
            'upstream_connect=%s upstream_time=%s server=%s\n'
            % (host, request, status, upstream, upstream_status, connect, upstream_time, server)).encode("utf-8")


def counters(*lines):
    published = TrafficCounters(lambda: 0.0)
    published.set_rules(RULES)
    published.publish(count_lines(b"".join(lines), server_keys(RULES)))
    return published


def samples(published):
    found = {}
    for text in exposition(published.families()).decode("utf-8").splitlines():
        if text and not text.startswith("#"):
            name, _sep, value = text.rpartition(" ")
            found[name] = float(value)
    return found


def tries(rule, upstream, code):
    return 'antman_lb_upstream_requests_total{rule="%s",upstream="%s",code="%s"}' % (rule, upstream, code)


def test_server_keys_name_every_http_rule_by_each_name_and_its_port():
    assert server_keys(RULES) == {b"web.example.com:80": "web", b"www.example.com:80": "web",
                                  b"api.example.com:8443": "api"}


def test_requests_and_tries_are_counted_by_rule_upstream_and_status_class():
    found = samples(counters(line(), line(), line(upstream="10.1.1.102:80", upstream_status="503", status="503"),
                             line(server="api.example.com:8443", upstream="10.1.1.201:8080", upstream_status="404",
                                  status="404")))
    assert found[tries("web", "10.1.1.101:80", "2xx")] == 2
    assert found[tries("web", "10.1.1.102:80", "5xx")] == 1
    assert found[tries("api", "10.1.1.201:8080", "4xx")] == 1
    assert found['antman_lb_requests_total{rule="web",code="2xx"}'] == 2
    assert found['antman_lb_requests_total{rule="web",code="5xx"}'] == 1
    assert found['antman_lb_requests_total{rule="api",code="4xx"}'] == 1
    assert found['antman_lb_access_log_lines_total{result="counted"}'] == 4
    assert found['antman_lb_failover_requests_total{rule="web"}'] == 0


def test_response_times_fill_the_histogram_per_try():
    found = samples(counters(line(upstream_time="0.004"), line(upstream_time="0.300"), line(upstream_time="-")))
    key = 'rule="web",upstream="10.1.1.101:80"'
    assert found['antman_lb_upstream_response_seconds_bucket{%s,le="0.005"}' % key] == 1
    assert found['antman_lb_upstream_response_seconds_bucket{%s,le="0.5"}' % key] == 2
    assert found['antman_lb_upstream_response_seconds_count{%s}' % key] == 2  # "-": no time, not observed
    assert abs(found['antman_lb_upstream_response_seconds_sum{%s}' % key] - 0.304) < 1e-9
    assert found[tries("web", "10.1.1.101:80", "2xx")] == 3


def test_a_failover_counts_each_try_and_the_request_once():
    found = samples(counters(line(upstream="10.1.1.103:80, 10.1.1.102:80", upstream_status="502, 200",
                                  connect="-, 0.000", upstream_time="0.001, 0.010")))
    assert found[tries("web", "10.1.1.103:80", "5xx")] == 1
    assert found[tries("web", "10.1.1.102:80", "2xx")] == 1
    assert found['antman_lb_failover_requests_total{rule="web"}'] == 1
    assert found['antman_lb_requests_total{rule="web",code="2xx"}'] == 1
    assert found['antman_lb_no_upstream_requests_total{rule="web"}'] == 0


def test_tries_across_upstream_groups_after_an_internal_redirect_are_each_counted():
    found = samples(counters(line(upstream="10.1.1.101:80, 10.1.1.102:80 : 10.1.1.103:80",
                                  upstream_status="502, 404 : 200", connect="-, 0.000 : 0.001",
                                  upstream_time="0.000, 0.002 : 0.003")))
    assert found[tries("web", "10.1.1.101:80", "5xx")] == 1
    assert found[tries("web", "10.1.1.102:80", "4xx")] == 1
    assert found[tries("web", "10.1.1.103:80", "2xx")] == 1
    assert found['antman_lb_failover_requests_total{rule="web"}'] == 1


def test_a_redirect_alone_between_groups_is_no_failover():
    found = samples(counters(line(upstream="10.1.1.101:80 : 10.1.1.102:80", upstream_status="404 : 200",
                                  connect="0.000 : 0.000", upstream_time="0.001 : 0.002")))
    assert found['antman_lb_failover_requests_total{rule="web"}'] == 0
    assert found[tries("web", "10.1.1.102:80", "2xx")] == 1


def test_502_and_504_nginx_made_itself_count_as_no_upstream_answered():
    found = samples(counters(
        # every try refused: no connection
        line(upstream="10.1.1.101:80, 10.1.1.102:80", upstream_status="502, 502", connect="-, -",
             upstream_time="0.000, 0.000", status="502"),
        # every upstream held down by nginx: it logs the group's name
        line(upstream="antman_web", upstream_status="502", connect="-", upstream_time="0.000", status="502"),
        # timed out reading the answer
        line(upstream_status="504", connect="0.000", upstream_time="60.001", status="504"),
        # the antlet's own 502: it answered
        line(upstream_status="502", connect="0.000", upstream_time="0.002", status="502")))
    assert found['antman_lb_no_upstream_requests_total{rule="web"}'] == 3
    assert found['antman_lb_requests_total{rule="web",code="5xx"}'] == 4


def test_a_request_nginx_answered_without_an_upstream_counts_for_the_rule_only():
    found = samples(counters(line(upstream="-", upstream_status="-", connect="-", upstream_time="-", status="429")))
    assert found['antman_lb_requests_total{rule="web",code="4xx"}'] == 1
    assert not any(name.startswith("antman_lb_upstream_requests_total") for name in found)


def test_a_try_without_status_counts_as_code_none():
    found = samples(counters(line(upstream_status="-", upstream_time="-", status="499")))
    assert found[tries("web", "10.1.1.101:80", "none")] == 1


def test_lines_of_other_servers_are_counted_apart_and_nothing_else():
    published = counters(line(server="_:80"), line(server="antman.local:443"), line(server="web.example.com:8080"))
    found = samples(published)
    assert found['antman_lb_access_log_lines_total{result="other_server"}'] == 3
    assert found['antman_lb_access_log_lines_total{result="counted"}'] == 0
    assert published.series == {}


def test_any_name_of_the_rule_counts_for_it():
    found = samples(counters(line(server="www.example.com:80")))
    assert found[tries("web", "10.1.1.101:80", "2xx")] == 1


HOSTILE_REQUESTS = [
    # what a client sends sits in the quoted fields; nginx writes '"' as \x22 and control bytes as \xHH
    'GET /\\x22 200 1 rt=0 upstream=6.6.6.6:80 upstream_status=200 upstream_connect=0 upstream_time=0 server=api.example.com:8443 HTTP/1.1',
    'GET /?a=1&b=2 upstream=evil server=x HTTP/1.1',
    'GET /\\x0A\\x0D\\x00\\xFF\\x5C HTTP/1.1',
    '\\x16\\x03\\x01',  # a TLS hello on a plain port
    '-',
    'GET / HTTP/1.1\\x22 404 0 rt=0.000 upstream=10.1.1.102:80 upstream_status=500',
]


def test_a_clients_text_is_never_taken_for_the_trailing_fields():
    published = counters(*[line(request=request, host=request) for request in HOSTILE_REQUESTS])
    found = samples(published)
    assert found[tries("web", "10.1.1.101:80", "2xx")] == len(HOSTILE_REQUESTS)
    assert set(key[0] for key in published.series) == {"web"}
    assert set(key[1] for key in published.series) == {"10.1.1.101:80"}
    assert found['antman_lb_access_log_lines_total{result="unparsed"}'] == 0


def test_lines_not_in_the_format_are_counted_as_unparsed():
    foreign = [b'127.0.0.1 - - [07/Dec/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"\n',
               b"\xff\xfe garbage without quotes\n", b"\n", line()[:60] + b"\n",
               line().replace(b" 200 612 ", b" 2000 612 "), line().replace(b"server=", b"server=a=b")]
    found = samples(counters(*foreign))
    assert found['antman_lb_access_log_lines_total{result="unparsed"}'] == len(foreign) - 1  # the empty line is none
    assert found['antman_lb_access_log_lines_total{result="counted"}'] == 0


def test_the_series_of_a_rule_are_capped_and_the_rest_folds_into_other():
    published = TrafficCounters(lambda: 0.0)
    published.set_rules(RULES)
    servers = server_keys(RULES)
    block = b"".join(line(upstream="10.9.%d.%d:80" % (i // 250, i % 250)) for i in range(1000))
    published.publish(count_lines(block + line() + line(upstream="10.1.1.102:80"), servers))
    kept = set(upstream for rule, upstream in published.series)
    assert len(kept) == EXTRA_UPSTREAMS + 2 + 1  # 16 others, the two declared ones seen, "other"
    assert {"10.1.1.101:80", "10.1.1.102:80", OTHER} <= kept
    found = samples(published)
    assert found[tries("web", OTHER, "2xx")] == 1000 - EXTRA_UPSTREAMS
    assert found['antman_lb_upstream_folded_requests_total{rule="web"}'] == 1000 - EXTRA_UPSTREAMS
    # memory: another 20,000 distinct addresses add nothing that stays
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for batch in range(20):
        block = b"".join(line(upstream="10.%d.%d.%d:80" % (20 + batch, i // 250, i % 250)) for i in range(1000))
        published.publish(count_lines(block, servers))
    del block
    grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert len(published.series) == EXTRA_UPSTREAMS + 3
    assert grown < 64 * 1024, grown
    assert samples(published)[tries("web", OTHER, "2xx")] == 21000 - EXTRA_UPSTREAMS


def test_declared_upstreams_always_get_series_of_their_own_past_the_cap():
    published = counters(*[line(upstream="10.9.0.%d:80" % i) for i in range(50)])
    published.publish(count_lines(line(upstream="10.1.1.103:80"), server_keys(RULES)))
    assert ("web", "10.1.1.103:80") in published.series


def test_counters_of_rules_that_went_are_dropped():
    published = counters(line(), line(server="api.example.com:8443", upstream="10.1.1.201:8080"))
    published.set_rules(dict((name, RULES[name]) for name in ("api",)))
    assert set(rule for rule, _upstream in published.series) == {"api"}
    assert all(rule == "api" for rule, _code in published.requests)


def test_the_window_gives_requests_per_second_and_5xx_share_per_upstream():
    now = [1000.0]
    published = TrafficCounters(lambda: now[0])
    published.set_rules(RULES)
    servers = server_keys(RULES)
    published.snapshot(now[0])
    for _second in range(12):
        now[0] += SNAPSHOT_EVERY
        block = line() * 8 + line(upstream="10.1.1.102:80", upstream_status="502", status="502") * 2
        published.publish(count_lines(block, servers))
        published.snapshot(now[0])
    rates, seconds = published.window()
    assert seconds == 60.0
    assert rates["web"]["10.1.1.101:80"] == [round(96 / 60.0, 3), 0.0]
    assert rates["web"]["10.1.1.102:80"] == [round(24 / 60.0, 3), 1.0]
    for _second in range(12):  # a minute without traffic: the window forgets it
        now[0] += SNAPSHOT_EVERY
        published.snapshot(now[0])
    rates, seconds = published.window()
    assert seconds == 60.0
    assert rates["web"]["10.1.1.101:80"] == [0.0, None]


def test_the_families_pass_promtool():
    published = counters(line(), line(upstream="10.1.1.103:80, 10.1.1.102:80", upstream_status="502, 200",
                                      connect="-, 0.000", upstream_time="0.001, 0.010"),
                         line(upstream="[2001:db8::1]:80"), line(server="_:80"))
    checked = subprocess.run(["promtool", "check", "metrics"], input=exposition(published.families()),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert (checked.returncode, checked.stdout) == (0, b"")


class TickingClock:
    """A clock that moves ``step`` seconds each time it is read: a turn's budget runs out after a known number of reads."""

    def __init__(self, step):
        self.now, self.step = 1000.0, step

    def __call__(self):
        self.now += self.step
        return self.now


class LogAgent:
    def __init__(self, clock):
        self.clock = clock
        self.rules = RULES
        self.traffic = None


def test_the_reader_follows_the_log_on_the_loop_in_bounded_turns(tmp_path):
    path = str(tmp_path / "access.log")
    with open(path, "wb") as handle:
        handle.write(line() * 10)  # before the agent started: not counted
    agent = LogAgent(TickingClock(BUDGET / 4))
    reader = AccessLogReader(agent, path)
    assert agent.traffic is reader
    reader.on_rules("generation-1", set())
    with open(path, "ab") as handle:
        handle.write(line() * 40000)  # about 8 MB: more than one turn may read
    turns = 0
    while reader.on_tick(agent.clock()):
        turns += 1
        assert turns < 100
    assert turns >= 2  # the budget ended the first turns: the probe loop came back in between
    found = samples(reader.counters)
    assert found[tries("web", "10.1.1.101:80", "2xx")] == 40000
    assert reader.status()["open"] is True and reader.status()["problem"] is None
    reader.on_stop()


def test_the_reader_of_a_missing_log_counts_nothing_and_says_why(tmp_path):
    agent = LogAgent(TickingClock(0.001))
    reader = AccessLogReader(agent, str(tmp_path / "none.log"))
    reader.on_rules("generation-1", set())
    assert reader.on_tick(agent.clock()) is False
    status = reader.status()
    assert status["open"] is False and "No such file" in status["problem"]
    assert samples(reader.counters)['antman_lb_access_log_lines_total{result="counted"}'] == 0


def test_the_documented_line_counts_as_it_says():
    with open(os.path.join(COLLECTION, "docs", "metrics.md")) as handle:
        blocks = handle.read().split("\n```\n")[1::2]
    (example,) = [b for b in blocks if " server=shop.example.com:80" in b]
    rules = {"shop": {"protocol": "http", "server_name": ["shop.example.com"], "server_port": 80,
                      "upstreams": [{"address": "10.1.1.102:80"}, {"address": "10.1.1.103:80"}]}}
    published = TrafficCounters(lambda: 0.0)
    published.set_rules(rules)
    published.publish(count_lines(example.encode("utf-8") + b"\n", server_keys(rules)))
    found = samples(published)
    assert found[tries("shop", "10.1.1.103:80", "5xx")] == 1 and found[tries("shop", "10.1.1.102:80", "2xx")] == 1
    assert found['antman_lb_failover_requests_total{rule="shop"}'] == 1
