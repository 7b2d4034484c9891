"""Scenario 6, real applications through a rule with its defaults (aiohttp antlets,
tests/support/app_backend.py): what a new user gets without setting an option.

- WebSockets that sit idle for a minute, then send a message every 30 s, for several minutes: they
  outlive the 5 s read_timeout that bounds ordinary requests (websocket_timeout, 1 h by default);
- a 100 MB upload (client_max_body_size, 200m by default), streamed, checked byte for byte;
- server-sent events: how long each event takes from the application to the client;
- all primaries killed at once (weights 5/1/1 and a backup) under an open-loop load: the default
  tries reach the backup; next to it the former default (next_upstream_tries: 3, given).
"""
import asyncio
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.loadclient import Target, run_open_loop
from ansible_collections.antsle.antman.tests.support.app_clients import (
    MB, post_bytes, sse_delays, upload_arrived_whole, websocket_soak)
from ansible_collections.antsle.antman.tests.support.harness import AppBackend

HOST = "apps.bench.test"


def start_apps(stack, count, subnet):
    made = []
    for index in range(1, count + 1):
        host = "127.0.%d.%d" % (subnet, index)
        app = AppBackend("app%d" % index, host, common.free_port(host))
        stack.callback(app.kill)
        made.append(app.start())
    return made


def rule_for(port, addresses, **fields):
    return dict({"name": "bench_apps", "server_name": HOST, "server_port": port,
                 "upstreams": [{"address": a} for a in addresses]}, **fields)


def soak(section, port, sockets, idle, every, duration):
    started = time.monotonic()
    result = asyncio.run(websocket_soak("ws://127.0.0.1:%d/ws" % port, sockets, idle, every, duration))
    took = time.monotonic() - started
    section.row("WebSocket echo: %d sockets, %g s idle, then a message every %g s" % (sockets, idle, every),
                "%.0f s" % took, "%d/%d echoed, %d closed early%s, slowest echo %s"
                % (result["echoed"], result["sent"], len(result["closed"]),
                   " (%s)" % "; ".join(result["closed"]) if result["closed"] else "", common.ms(result["slowest"])))
    return result


def uploads(section, port, size, rounds):
    times, whole = [], 0
    for _round in range(rounds):
        status, answer, sent, took = post_bytes(port, size, HOST)
        whole += status == 200 and upload_arrived_whole(answer, size, sent)
        times.append(took)
    median = common.median(times)
    section.row("upload of %d MB (POST, streamed), %d rounds" % (size // MB, rounds), "%.2f s median" % median,
                "%d/%d arrived whole (sha256), %.0f MB/s" % (whole, rounds, size / MB / median))
    return whole


def events(section, port, count, interval):
    status, content_type, delays = sse_delays(port, count, interval, HOST)
    section.row("server-sent events: %d, one every %g s" % (count, interval), "%s" % status,
                "%d arrived (%s), first after %s, slowest %s"
                % (len(delays), content_type, common.ms(delays[0] if delays else None),
                   common.ms(max(delays) if delays else None)))
    return delays


def takeover(stack, scratch, label, fields, rate, duration, kill_at):
    """Weights 5/1/1 and a backup; all three primaries killed at ``kill_at``: the records."""
    primaries = common.start_backends(stack, 3, 41, prefix="primary")
    (backup,) = common.start_backends(stack, 1, 42, prefix="backup")
    nginx = common.start_nginx(stack, scratch, "lb-" + label)
    port = common.free_port()
    upstreams = [{"address": b.address, "weight": w} for b, w in zip(primaries, (5, 1, 1))]
    upstreams.append({"address": backup.address, "backup": True})
    common.apply_rule(nginx, name="bench_takeover", server_name=HOST, server_port=port, upstreams=upstreams, **fields)
    common.wait_serving(port, HOST)

    def kill_all():
        for primary in primaries:
            primary.kill()
    records, _elapsed = run_open_loop(Target("127.0.0.1", port, HOST), rate, duration, timeout=30,
                                      events=[(kill_at, kill_all)])
    return records


def run(tiny=False, sockets=3, idle=60.0, every=30.0, soak_for=240.0, upload_mb=100, upload_rounds=3,
        sse_events=10, sse_interval=0.5, rate=200, load_for=6.0, kill_at=2.0):
    if tiny:
        sockets, idle, every, soak_for, upload_mb, upload_rounds = 2, 1.0, 0.5, 2.0, 5, 1
        sse_events, sse_interval, rate, load_for, kill_at = 3, 0.2, 100, 1.0, 0.4
    section = common.Section(
        "7. Real applications through a rule with its defaults",
        ["what", "time / status", "result"],
        "aiohttp antlets behind a rule given only name, server_name, server_port and upstreams (read_timeout "
        "5s, websocket_timeout 3600s, client_max_body_size 200m, buffering on); a fresh nginx (2 workers).",
        short="applications")
    budget = soak_for + upload_rounds * 60 + sse_events * sse_interval + 2 * (load_for + 40) + 60
    with common.time_bound(budget):
        with common.world() as (stack, scratch):
            apps = start_apps(stack, 2, 40)
            nginx = common.start_nginx(stack, scratch, "lb")
            port = common.free_port()
            common.apply_rule(nginx, **rule_for(port, [a.address for a in apps]))
            common.wait_serving(port, HOST)
            soaked = soak(section, port, sockets, idle, every, soak_for)
            whole = uploads(section, port, upload_mb * MB, upload_rounds)
            delays = events(section, port, sse_events, sse_interval)
        takeovers = []
        for label, fields in (("defaults", {}), ("tries 3", {"next_upstream_tries": 3})):
            with common.world() as (stack, scratch):
                records = takeover(stack, scratch, label.replace(" ", ""), fields, rate, load_for, kill_at)
            failed = [r for r in records if r.failed]
            after = [r for r in records if r.start >= kill_at]
            section.row("all 3 primaries (weights 5/1/1) killed at once, a backup; %s" % (
                "default tries" if not fields else "next_upstream_tries: 3 given"),
                "%d req/s, %d after the kill" % (rate, len(after)),
                "%d requests, failed %s" % (len(records), common.breakdown(failed)))
            takeovers.append((label, len(records), len(failed)))
    section.target("WebSockets alive after %g s idle + a message every %g s (%g s)" % (idle, every, soak_for),
                   "%d/%d" % (soaked["opened"] - len(soaked["closed"]), sockets), "all",
                   None if tiny else not soaked["closed"] and soaked["opened"] == sockets)
    section.target("%d MB uploads arrived whole" % upload_mb, "%d/%d" % (whole, upload_rounds), "all",
                   None if tiny else whole == upload_rounds)
    section.target("SSE: slowest event, application to client", common.ms(max(delays) if delays else None), "< 1 s",
                   None if tiny else bool(delays) and max(delays) < 1.0)
    section.target("all primaries killed, a backup: failed requests (default tries)", takeovers[0][2], "0",
                   None if tiny else takeovers[0][2] == 0)
    section.note("The sockets outlive read_timeout (5 s) by far: an upgraded connection is proxied from "
                 "location @antman_websocket, whose idle timeout is websocket_timeout.")
    section.note("Without the default tries (next_upstream_tries: 3 given, the former default), a request spends "
                 "its tries on dead primaries before nginx has marked them failed.")
    section.data = {"soak": soaked, "uploads_whole": whole, "sse": delays, "takeover": takeovers}
    return section


if __name__ == "__main__":
    import sys
    print(run(tiny="--tiny" in sys.argv).markdown())
