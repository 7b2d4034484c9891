"""Scenario 3, failover on a hang: one of three upstreams stops answering under a steady open-loop rate.

Two ways to hang, each against three configurations (a fresh nginx and fresh backends per row):

* process stopped: SIGSTOP; the kernel still accepts connections for it, nothing is ever answered;
* link cut: the upstream lives in a network namespace whose link is taken down (see netcut.py);
  every packet to it, SYNs included, is silently dropped;

* the generated rule with its defaults, the generated rule with ``read_timeout: 2s``, and nginx's
  defaults (hand-written config: 60 s timeouts).

The upstream stays hung until every request has ended, so the numbers show what users see for as
long as it stays hung (passive health checks probe it again once per ``fail_timeout``).
"""
from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench import netcut
from ansible_collections.antsle.antman.bench.loadclient import Target, run_open_loop

CONFIGS = [
    ("generated rule (defaults)", "rule", {}),
    ("generated rule, read_timeout 2s", "rule", {"read_timeout": "2s"}),
    ("nginx defaults (hand-written)", "plain", {}),
]
EVENTS = [("stop", "process stopped (SIGSTOP)"), ("link", "link cut (packets dropped)")]
SLOW = 1.0


def seconds_of(time_text):
    """'5s' / '500ms' / '1m' (canonical times) -> seconds."""
    for unit, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if time_text.endswith(unit) and time_text[:-len(unit)].isdigit():
            return int(time_text[:-len(unit)]) * factor
    raise ValueError(time_text)


def bursts(records, origin):
    """Slow requests grouped by start time (a gap of more than 1 s starts a new group), as text
    relative to ``origin`` (the hang): '+0.0..+5.0 s: 333; +15.0 s: 1'."""
    slow = sorted(r.start - origin for r in records if r.latency > SLOW)
    groups = []
    for start in slow:
        if groups and start - groups[-1][1] <= 1.0:
            groups[-1][1] = start
            groups[-1][2] += 1
        else:
            groups.append([start, start, 1])

    def at(seconds):
        return "%+.1f" % (0.0 if abs(seconds) < 0.05 else seconds)
    return "; ".join(("%s s: %d" % (at(a), n)) if b - a < 0.05 else ("%s..%s s: %d" % (at(a), at(b), n))
                     for a, b, n in groups) or "-"


def run_case(event, kind, fields, rate, duration, hang_at, post_every, timeout):
    with common.world() as (stack, scratch):
        first, third = common.start_backends(stack, 2, 33)
        if event == "link":
            victim, host = netcut.start_cuttable_backend(stack, "antlet2")
            action = host.cut
        else:
            victim = common.start_backends(stack, 1, 34, prefix="antlet-victim")[0]
            action = victim.hang
        addresses = [first.address, victim.address, third.address]
        port = common.free_port()
        if kind == "rule":
            nginx = common.start_nginx(stack, scratch, "lb")
            rule, _unused = common.apply_rule(nginx, name="bench_hang", server_name="hang.bench.test", server_port=port,
                                              upstreams=[{"address": a} for a in addresses], **fields)
        else:
            rule = None
            plain = common.plain_config(port, "hang.bench.test", addresses)
            nginx = common.start_hand_written(stack, scratch, "lb", plain)
        common.wait_serving(port, "hang.bench.test")
        records, elapsed = run_open_loop(Target("127.0.0.1", port, "hang.bench.test"), rate, duration, timeout,
                                         post_every=post_every, events=[(hang_at, action)])
        marked = common.count_in_file(nginx.error_log, "upstream server temporarily disabled")
    return records, elapsed, marked, rule


def run(tiny=False, rate=200, duration=24.0, hang_at=2.0, post_every=10, timeout=65.0, include_defaults=True,
        rule_fields=None):
    """``rule_fields``: measure only the generated rule with these fields (e.g. candidate defaults)."""
    configs, events = CONFIGS, EVENTS
    if rule_fields:
        configs = [("generated rule, %s" % ", ".join("%s %s" % kv for kv in sorted(rule_fields.items())), "rule",
                    rule_fields)]
    if tiny:
        rate, duration, hang_at, timeout = 100, 1.0, 0.2, 3.0
        configs = [("generated rule, read_timeout 1s", "rule", {"read_timeout": "1s"})]
    elif not include_defaults:
        configs = CONFIGS[:2]
    available, why = netcut.available()
    section = common.Section(
        "3. Failover: one of three upstreams hangs under a steady rate",
        ["hang", "config", "requests", "failed GETs", "failed POSTs", "slowest", "p99", "> 1 s",
         "slow requests started (s after the hang: count)", "marked failed", "run"],
        "Open loop, %d req/s for %g s (every %dth request a POST), upstream 2 of 3 hangs at t=%g s "
        "and stays hung until every request has ended (client timeout %g s). Latency counts from each "
        "request's scheduled start. Backends answer at once." % (rate, duration, post_every, hang_at, timeout),
        short="hang")
    budget = len(events) * len(configs) * (duration + timeout + 15) + 30
    results = []
    with common.time_bound(budget):
        for event, event_label in events:
            if event == "link" and not available:
                section.row(event_label, "skipped: %s" % why, *(["-"] * 9))
                continue
            for label, kind, fields in configs:
                records, elapsed, marked, rule = run_case(event, kind, fields, rate, duration, hang_at, post_every,
                                                          timeout)
                gets = [r for r in records if r.method == "GET"]
                posts = [r for r in records if r.method == "POST"]
                slowest = max(r.latency for r in records)
                slow = [r for r in records if r.latency > SLOW]
                failed_gets = [r for r in gets if r.failed]
                section.row(event_label, label, len(records), common.breakdown(failed_gets),
                            common.breakdown([r for r in posts if r.failed]), common.ms(slowest),
                            common.ms(common.percentile([r.latency for r in records], 0.99)), len(slow),
                            bursts(records, hang_at), marked, "%.0f s" % elapsed)
                result = {"event": event, "label": label, "requests": len(records), "failed_gets": len(failed_gets),
                          "failed_posts": len([r for r in posts if r.failed]), "slowest": slowest, "slow": len(slow)}
                results.append(result)
                if rule is not None:
                    limit = seconds_of(rule["read_timeout"]) + 1.0
                    section.target("%s, %s: failed GETs" % (event_label, label), len(failed_gets), "0",
                                   None if tiny else not failed_gets)
                    section.target("%s, %s: slowest" % (event_label, label), common.ms(slowest),
                                   "<= %s (read_timeout + 1 s)" % common.ms(limit), None if tiny else slowest <= limit)
    section.note("A hung upstream is only known to be hung when a request to it times out: until then "
                 "round robin keeps sending it its share, so about rate x 1/3 x read_timeout requests wait "
                 "read_timeout before nginx retries them on another upstream; afterwards one request about "
                 "every fail_timeout + read_timeout probes it and waits again. With a link cut, new connections wait "
                 "connect_timeout (1 s) and only requests on already open keep-alive connections wait read_timeout.")
    section.note("POSTs are not retried after they were sent (the upstream may have acted on them): a POST "
                 "that reached the hung upstream fails with 504 after read_timeout, unless the rule sets "
                 "retry_non_idempotent.")
    section.data = {"results": results}
    return section


if __name__ == "__main__":
    import argparse
    import json
    parser = argparse.ArgumentParser(description="scenario 3 alone")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--no-defaults", action="store_true", help="skip nginx's defaults (saves 2.5 minutes)")
    parser.add_argument("--rule-fields", type=json.loads, help='only the rule with these fields, e.g. {"max_fails": 3}')
    options = parser.parse_args()
    print(run(tiny=options.tiny, include_defaults=not options.no_defaults, rule_fields=options.rule_fields).markdown())
