"""Health benchmark, reloads: what the agent's transitions cost nginx while WebSockets stay open
(bench/health.py reports it). Old nginx workers live on after a reload while they hold upgraded
connections, so reloads that come often pile up worker generations; ``ReloadGovernor``
(plugins/module_utils/health/damping.py) makes transitions close together share one reload. The
same transitions applied one reload each show what it saves.
"""
import asyncio
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.health_world import AgentProcess, Background, make_antlets
from ansible_collections.antsle.antman.bench.loadclient import CLOSED, BackgroundLoad, Target
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdict, Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.health.writer import VerdictWriter
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import child_pids, cmdline
from ansible_collections.antsle.antman.tests.support.harness import AppBackend, run_command


class SocketOpener(Background):
    """Opens a WebSocket through ``port`` every ``every`` seconds and holds them all open, as users of
    a chat or a dashboard do, until ``stop()``."""

    def __init__(self, port, every):
        super(SocketOpener, self).__init__()
        self.url, self.every = "ws://127.0.0.1:%d/ws" % port, every
        self.opened, self.failed = 0, 0

    def _run(self):
        asyncio.run(self._open_and_hold())

    async def _open_and_hold(self):
        from websockets.asyncio.client import connect
        held = []
        try:
            while not self._stop.is_set():
                try:
                    ws = await connect(self.url, ping_interval=None, open_timeout=10)
                    await ws.recv()
                    held.append(ws)
                    self.opened += 1
                except Exception:  # pylint: disable=broad-except  # counted, the run goes on
                    self.failed += 1
                await asyncio.sleep(self.every)
        finally:
            for ws in held:
                await ws.close()


def nginx_processes(nginx):
    """(workers serving, old workers shutting down, total PSS MB, total RSS MB) of ``nginx``, master included."""
    master = nginx.master_pid()
    pids = sorted(child_pids(master)) if master else []
    old = [pid for pid in pids if "shutting down" in cmdline(pid)]
    pss = rss = 0.0
    for pid in pids + ([master] if master else []):
        try:
            with open("/proc/%d/smaps_rollup" % pid) as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) / 1024.0
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1]) / 1024.0
        except OSError:
            continue
    return len(pids) - len(old), len(old), pss, rss


def transitions_world(stack, scratch, rules):
    """``rules`` rules over three antlets, checked on /health, and the rule ``chat`` (a port of its
    own) over an aiohttp antlet serving WebSockets. Returns (nginx, antlets, port, chat port)."""
    nginx = common.start_nginx(stack, scratch, "lb", access_log=False)
    antlets = make_antlets(stack, scratch)
    chat_host = "127.0.63.1"
    chat = AppBackend("chat", chat_host, common.free_port(chat_host))
    stack.callback(chat.kill)
    chat.start()
    port = common.free_port()
    raws = [{"name": "site%d" % i, "server_name": "site%d.bench.test" % i, "server_port": port,
             "health_check": {"path": "/health", "status": "200"},
             "upstreams": [{"address": a.address} for a in antlets]} for i in range(rules)]
    chat_port = common.free_port()
    raws.append({"name": "chat", "server_name": "chat.bench.test", "server_port": chat_port,
                 "upstreams": [{"address": chat.address}]})
    nginx.apply(raws)
    common.wait_serving(port, "site0.bench.test")
    return nginx, antlets, port, chat_port


def with_load(port, rate, body):
    """Run ``body()`` under open-loop keep-alive GETs at ``rate``; (body's result, records)."""
    load = BackgroundLoad([Target("127.0.0.1", port, "site0.bench.test")], rate, timeout=30.0).start()
    try:
        result = body()
    finally:
        (records,) = load.stop()
    return result, records


def transitions_case(rules, cycles, down, up, rate, sockets_every, settle):
    """With the agent: each antlet's health endpoint fails for ``down`` s, then works for ``up`` s,
    one antlet after another, ``cycles`` antlets in all (every rule's upstream leaves and returns)."""
    with common.world() as (stack, scratch):
        nginx, antlets, port, chat_port = transitions_world(stack, scratch, rules)
        agent = AgentProcess(nginx, scratch).start(stack)
        agent.wait_healthy(rules * 3 + 1)
        before = nginx_processes(nginx)
        opener = SocketOpener(chat_port, sockets_every).start(stack)
        reloads_before = agent.status().get("reloads", 0)

        def flap():
            for index in range(cycles):
                antlet = antlets[index % len(antlets)]
                antlet.break_paths("/health")
                time.sleep(down)
                antlet.repair()
                time.sleep(up)
            time.sleep(settle)
        _unused, records = with_load(port, rate, flap)
        out, back = agent.transitions()
        reloads = agent.status().get("reloads", 0) - reloads_before
        after_run = nginx_processes(nginx)
        opener.stop()
        return result_of("agent", out + back, reloads, records, before, after_run, opener)


def one_reload_each_case(rules, transitions, pause, rate, sockets_every):
    """The same kind of transitions without the agent's governor: each applied as its own change
    through the agent's writer (one reload each), as fast as they come."""
    with common.world() as (stack, scratch):
        nginx, antlets, port, chat_port = transitions_world(stack, scratch, rules)
        writer = VerdictWriter(nginx.rules_dir, nginx.binary, nginx.conf, run_command)
        before = nginx_processes(nginx)
        opener = SocketOpener(chat_port, sockets_every).start(stack)
        reloads = []

        def apply_each():
            held = {}
            for index in range(transitions):
                key = ("site%d" % ((index // 2) % rules), antlets[(index // (2 * rules)) % len(antlets)].address)
                if key in held:
                    held.pop(key)
                else:
                    held[key] = Verdict(time.time(), "bench")
                wanted = {}
                for (name, address), verdict in held.items():
                    wanted.setdefault(name, {})[address] = verdict
                outcome = writer.apply(lambda _rules, _applied, wanted=wanted: Verdicts(wanted))
                reloads.append(outcome.reloaded)
                time.sleep(pause)
            time.sleep(1.0)
        _unused, records = with_load(port, rate, apply_each)
        after_run = nginx_processes(nginx)
        opener.stop()
        return result_of("one reload per transition", transitions, sum(reloads), records, before, after_run, opener)


def result_of(label, transitions, reloads, records, before, after_run, opener):
    raw = [r for r in records if r.raw == CLOSED]
    return {"label": label, "transitions": transitions, "reloads": reloads, "requests": len(records),
            "raw": len(raw), "failed": len([r for r in records if r.failed]), "before": before, "after": after_run,
            "sockets": opener.opened, "socket_failures": opener.failed}
