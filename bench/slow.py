"""Scenario 3b, the price of a short read timeout: requests that are legitimately slower than it.

Passive health checks cannot tell a hung upstream from a slow page: a GET that takes longer than
``read_timeout`` times out, counts as a failure of that upstream, and is retried on the next one,
where it times out again. Every upstream that collects ``max_fails`` such failures within
``fail_timeout`` is taken out of rotation for ``fail_timeout``, and when all are out nginx answers
everyone else with 502 ("no live upstreams"). This scenario measures that: a steady open-loop rate of ordinary GETs, and at t=1 s
one or three GETs of a page that takes read_timeout + 2 s (backend path ``/delay/SECONDS``).
"""
import threading
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.tests.support.harness import get
from ansible_collections.antsle.antman.bench.hang import seconds_of
from ansible_collections.antsle.antman.bench.loadclient import Target, run_open_loop

VARIANTS = [
    ("generated rule (defaults)", "rule", {}, 1),
    ("generated rule (defaults)", "rule", {}, 3),
    ("generated rule, read_timeout 2s", "rule", {"read_timeout": "2s"}, 1),
    ("generated rule, max_fails 1 (nginx's default count)", "rule", {"max_fails": 1}, 3),
    ("generated rule, next_upstream_tries 2", "rule", {"next_upstream_tries": 2}, 3),
    ("nginx defaults (hand-written)", "plain", {}, 3),
]
TINY_VARIANTS = [("generated rule, read_timeout 1s, next_upstream_tries 1", "rule",
                  {"read_timeout": "1s", "next_upstream_tries": 1}, 1)]
PLAIN_SLOW = 7.0  # the slow page for nginx's defaults (60 s timeout): as slow as for the rule defaults


def fire_slow(port, count, seconds, results, host="slow.bench.test"):
    """Start ``count`` slow GETs in threads; each appends (status or error, duration)."""
    def one():
        started = time.monotonic()
        try:
            status, _unused = get(port, host, path="/delay/%g" % seconds, timeout=120)
        except OSError as error:
            status = type(error).__name__
        results.append((status, time.monotonic() - started))
    threads = [threading.Thread(target=one, daemon=True) for _unused in range(count)]
    for thread in threads:
        thread.start()
    return threads


def run_variant(kind, fields, slow_count, rate, duration, slow_at):
    with common.world() as (stack, scratch):
        backends = common.start_backends(stack, 3, 39)
        addresses = [b.address for b in backends]
        port = common.free_port()
        if kind == "rule":
            nginx = common.start_nginx(stack, scratch, "lb")
            rule, _unused = common.apply_rule(nginx, name="bench_slow", server_name="slow.bench.test", server_port=port,
                                              upstreams=[{"address": a} for a in addresses], **fields)
            slow_seconds = seconds_of(rule["read_timeout"]) + 2.0
        else:
            nginx = common.start_hand_written(stack, scratch, "lb",
                                              common.plain_config(port, "slow.bench.test", addresses))
            slow_seconds = PLAIN_SLOW
        common.wait_serving(port, "slow.bench.test")
        slow_results, threads = [], []
        records, elapsed = run_open_loop(
            Target("127.0.0.1", port, "slow.bench.test"), rate, duration, timeout=30,
            events=[(slow_at, lambda: threads.extend(fire_slow(port, slow_count, slow_seconds, slow_results)))])
        for thread in threads:
            thread.join(timeout=60)
        no_live = common.count_in_file(nginx.error_log, "no live upstreams")
    return records, slow_seconds, slow_results, no_live


def run(tiny=False, rate=100, duration=18.0, slow_at=1.0):
    variants = VARIANTS
    if tiny:
        variants, rate, duration, slow_at = TINY_VARIANTS, 100, 1.5, 0.2
    section = common.Section(
        "3b. Failover settings vs legitimately slow requests",
        ["config", "slow GETs at t=%g s" % slow_at, "their answers", "other requests", "others failed",
         "others failed between (s after the slow GETs)", "'no live upstreams'"],
        "Open loop, %d ordinary GETs/s for %g s through three healthy upstreams; at t=%g s one or three "
        "GETs of a page that takes read_timeout + 2 s (%g s for nginx's defaults). Shows what a read "
        "timeout shorter than a real page costs: that page, and possibly everyone else."
        % (rate, duration, slow_at, PLAIN_SLOW),
        short="slow requests")
    results = []
    with common.time_bound(len(variants) * (duration + 60) + 30):
        for label, kind, fields, slow_count in variants:
            records, slow_seconds, slow_results, no_live = run_variant(kind, fields, slow_count, rate, duration,
                                                                       slow_at)
            failed = [r for r in records if r.failed]
            starts = [r.start - slow_at for r in failed]
            window = "%+.1f..%+.1f s" % (min(starts), max(starts)) if starts else "-"
            answers = ", ".join("%s after %.1f s" % (status, seconds)
                                for status, seconds in sorted(slow_results, key=str))
            section.row(label, "%d x %g s" % (slow_count, slow_seconds), answers or "none", len(records),
                        common.breakdown(failed), window, no_live)
            results.append({"label": label, "slow": slow_count, "failed_others": len(failed),
                            "slow_answers": slow_results})
    defaults = [r for r in results if r["label"] == VARIANTS[0][0]]
    for result in defaults:
        section.target("other requests failed after %d slow GET(s), defaults" % result["slow"],
                       result["failed_others"], "(reported; ideally 0)", None)
    section.note("A GET that times out is retried on the next upstream (next_upstream_tries), so one slow "
                 "page visits every upstream and its answer (504) comes after tries x read_timeout; each "
                 "visit counts as a failure of that upstream, and max_fails failures within fail_timeout "
                 "take it out of rotation. Raising max_fails and lowering next_upstream_tries makes a few "
                 "slow pages harmless to everyone else, at a small cost elsewhere (see docs/benchmarks.md).")
    section.data = {"results": results}
    return section


if __name__ == "__main__":
    import sys
    print(run(tiny="--tiny" in sys.argv).markdown())
