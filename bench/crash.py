"""Scenario 2, failover on a crash: one of three upstreams is killed (SIGKILL) under steady load.

Open-loop load (a fixed request rate, latency counted from each request's scheduled start), GET
only or POST only, through a fresh nginx per run: the generated rule (defaults), the generated
rule with ``retry_non_idempotent: true``, and nginx's defaults (hand-written config). The backends
take 20 ms per request, like an application doing some work, so that requests are in flight on
the upstream when it dies (an instant backend would almost never be caught mid-request).
"""
from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.loadclient import Target, run_open_loop

VARIANTS = [
    ("generated rule (defaults)", "rule", {}, "GET"),
    ("generated rule (defaults)", "rule", {}, "POST"),
    ("generated rule, retry_non_idempotent: true", "rule", {"retry_non_idempotent": True}, "POST"),
    ("nginx defaults (hand-written)", "plain", {}, "GET"),
    ("nginx defaults (hand-written)", "plain", {}, "POST"),
]
TINY_VARIANTS = [VARIANTS[0], VARIANTS[4]]


def serve(stack, scratch, kind, fields, addresses, server_name):
    port = common.free_port()
    if kind == "rule":
        nginx = common.start_nginx(stack, scratch, "lb")
        common.apply_rule(nginx, name="bench_crash", server_name=server_name, server_port=port,
                          upstreams=[{"address": a} for a in addresses], **fields)
    else:
        nginx = common.start_hand_written(stack, scratch, "lb", common.plain_config(port, server_name, addresses))
    common.wait_serving(port, server_name)
    return nginx, port


def window(records, start, end):
    return [r.latency for r in records if start <= r.start < end]


def run_variant(kind, fields, method, rate, duration, kill_at, delay):
    with common.world() as (stack, scratch):
        backends = common.start_backends(stack, 3, 32, delay=delay)
        nginx, port = serve(stack, scratch, kind, fields, [b.address for b in backends], "crash.bench.test")
        victim = backends[1]
        records, elapsed = run_open_loop(Target("127.0.0.1", port, "crash.bench.test"), rate, duration, timeout=30,
                                         post_every=1 if method == "POST" else 0, events=[(kill_at, victim.kill)])
        marked = common.count_in_file(nginx.error_log, "upstream server temporarily disabled")
    return records, elapsed, marked


def run(tiny=False, rate=600, duration=8.0, kill_at=3.0, delay=0.02):
    variants = VARIANTS
    if tiny:
        variants, rate, duration, kill_at = TINY_VARIANTS, 300, 1.0, 0.4
    section = common.Section(
        "2. Failover: one of three upstreams crashes (SIGKILL) under load",
        ["config", "method", "requests", "failed", "p99 before", "p99 / max in the second around the kill",
         "max after", "marked failed"],
        "Open loop, %d req/s for %g s, upstream 2 of 3 killed at t=%g s; backends answer in %d ms; "
        "a fresh nginx (2 workers) per row. Failed = the client got no 2xx (a 502, a reset, a "
        "timeout); a request the balancer retried on another upstream is not a failure. "
        "\"Around the kill\" = requests scheduled within 0.5 s either side of it; \"marked failed\" = "
        "nginx's 'upstream server temporarily disabled' log lines." % (rate, duration, kill_at, delay * 1000),
        short="crash")
    results = []
    budget = len(variants) * (duration + 40) + 30
    with common.time_bound(budget):
        for label, kind, fields, method in variants:
            records, elapsed, marked = run_variant(kind, fields, method, rate, duration, kill_at, delay)
            failed = [r for r in records if r.failed]
            before = common.percentile(window(records, 0.5, kill_at - 0.5), 0.99)
            around = window(records, kill_at - 0.5, kill_at + 0.5)
            after = window(records, kill_at + 0.5, duration)
            max_around = max(around) if around else None
            section.row(label, method, len(records), common.breakdown(failed), common.ms(before),
                        "%s / %s" % (common.ms(common.percentile(around, 0.99)), common.ms(max_around)),
                        common.ms(max(after) if after else None), marked)
            results.append({"label": label, "method": method, "requests": len(records), "failed": len(failed),
                            "p99_before": before, "max_around": max_around})
    for result in results:
        if result["label"] == VARIANTS[0][0]:
            section.target("failed %ss, upstream crash" % result["method"], result["failed"],
                           "0" if result["method"] == "GET" else "(reported)",
                           None if tiny or result["method"] != "GET" else result["failed"] == 0)
    section.note("POSTs are not retried by default once sent (the upstream may have acted on them); "
                 "retry_non_idempotent: true retries them too, at the risk of running one twice.")
    section.data = {"results": results}
    return section


if __name__ == "__main__":
    import sys
    print(run(tiny="--tiny" in sys.argv).markdown())
