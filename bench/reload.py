"""Scenario 4, reload under load: rule edits applied through the collection while clients keep asking.

Closed-loop keep-alive load (N connections, GET) through the generated rule while a thread applies
rule edits with ``Applier.run`` (the code every module uses): each edit changes the first
upstream's weight (1 <-> 2), so each is a real change: staged, ``nginx -t``, reload, wait for the
new workers. Failures are counted twice: raw (the first attempt of every request) and as a
browser-like client sees them (one retry on a fresh connection for an idempotent request whose
reused keep-alive connection was closed before any response byte, see loadclient.py).
"""
import asyncio
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.loadclient import CLOSED, Target, run_closed_loop


def edit_loop(nginx, port, addresses, edits, pause):
    """Apply ``edits`` rule edits; returns [(seconds, reloaded, workers changed)] per edit."""
    done = []
    for index in range(edits):
        weights = [2 if index % 2 == 0 else 1] + [1] * (len(addresses) - 1)
        before = set(nginx.workers())
        started = time.monotonic()
        _unused, outcome = common.apply_rule(nginx, name="bench_reload", server_name="reload.bench.test", server_port=port,
                                             upstreams=[{"address": a, "weight": w} for a, w in zip(addresses, weights)])
        done.append((time.monotonic() - started, outcome.reloaded, bool(set(nginx.workers()) - before)))
        time.sleep(pause)
    return done


def run(tiny=False, edits=20, connections=32, pause=0.3, margin=1.0):
    if tiny:
        edits, connections, pause, margin = 3, 8, 0.1, 0.3
    section = common.Section(
        "4. Reload under load: rule edits through the collection",
        ["edits (reloads)", "apply time median / max", "requests", "raw failures (first attempt)",
         "failed, browser-like", "5xx"],
        "%d keep-alive connections sending GETs back to back (closed loop) through the generated rule, "
        "from %g s before the first edit to %g s after the last; %d edits, %g s apart, each applied "
        "with Applier.run (stage, nginx -t, reload, wait for the new workers)." % (connections, margin, margin, edits,
                                                                                   pause),
        short="reload")
    with common.time_bound(edits * (pause + 10) + 60), common.world() as (stack, scratch):
        backends = common.start_backends(stack, 3, 35)
        addresses = [b.address for b in backends]
        nginx = common.start_nginx(stack, scratch, "lb")
        port = common.free_port()
        common.apply_rule(nginx, name="bench_reload", server_name="reload.bench.test", server_port=port,
                          upstreams=[{"address": a} for a in addresses])
        common.wait_serving(port, "reload.bench.test")

        async def edits_in_thread(loop, t0):
            await asyncio.sleep(margin)
            return await loop.run_in_executor(None, edit_loop, nginx, port, addresses, edits, pause)

        records, elapsed, applied = run_closed_loop(Target("127.0.0.1", port, "reload.bench.test"), connections,
                                                    duration=edits * (pause + 8) + 5, timeout=30,
                                                    background=edits_in_thread, tail=margin)
    raw = [r for r in records if r.raw_failed]
    failed = [r for r in records if r.failed]
    server_errors = [r for r in records if r.outcome.startswith("http 5")]
    reloads = sum(1 for _unused, reloaded, changed in applied if reloaded and changed)
    times = [seconds for seconds, _unused, _unused in applied]
    raw_kinds = {}
    for record in raw:
        raw_kinds[record.raw] = raw_kinds.get(record.raw, 0) + 1
    section.row("%d (%d)" % (len(applied), reloads),
                "%s / %s" % (common.ms(common.median(times)), common.ms(max(times))), len(records),
                "%d (%s)" % (len(raw), ", ".join("%s x%d" % kv for kv in sorted(raw_kinds.items())) or "-"),
                common.breakdown(failed), len(server_errors))
    section.note("A reload starts new workers and lets the old ones finish their requests; the old ones "
                 "close their idle keep-alive connections, and a request sent at that instant finds its "
                 "connection closed before any response byte (raw '%s'). Browsers and HTTP libraries "
                 "retry such an idempotent request once on a new connection; that is the 'browser-like' "
                 "count. A client that does not retry sees the raw count." % CLOSED)
    section.target("failed requests over %d reloads (browser-like)" % len(applied), len(failed), "0",
                   None if tiny else not failed)
    section.target("raw failures over %d reloads (no retry)" % len(applied), len(raw), "(reported)", None)
    section.data = {"edits": len(applied), "reloads": reloads, "requests": len(records), "raw": len(raw),
                    "failed": len(failed), "server_errors": len(server_errors)}
    return section


if __name__ == "__main__":
    import sys
    print(run(tiny="--tiny" in sys.argv).markdown())
