"""The world of the health benchmarks (bench/health.py, bench/health_reloads.py): the agent in a
process of its own, a watcher of what nginx serves, antlets that can break, one rule over them.

"Out of rotation" is timed pessimistically from nginx's side (``Served``): the moment nginx has
started the workers of the reload that followed the rule file's change (the error log's "start
worker process" lines, read every 20 ms).
"""
import os
import threading
import time

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.bench.loadclient import Target, run_open_loop
from ansible_collections.antsle.antman.plugins.module_utils.health.status import read_status, status_path
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import proc_cpu_seconds
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import HELD_OUT_NOTE
from ansible_collections.antsle.antman.tests.support import health_agent

HOST = "health.bench.test"


class AgentProcess(health_agent.AgentProcess):
    """The agent in a process of its own (its CPU and memory are its own), stopped with the stack."""

    def start(self, stack):  # pylint: disable=arguments-differ
        super().start()
        stack.callback(self.stop)
        return self

    def status(self):
        return read_status(status_path(self.nginx.rules_dir)) or {}

    def wait_healthy(self, count, within=30.0):
        """Until the agent is ready and has found ``count`` (rule, upstream) pairs healthy."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status = self.status()
            states = [u.get("state") for rule in status.get("rules", {}).values() for u in rule.values()]
            if status.get("ready") and len(states) == count and all(s == "healthy" for s in states):
                return
            time.sleep(0.05)
        raise RuntimeError("the agent did not find %d upstreams healthy within %g s:\n%s" % (count, within, self.log()))

    def cpu_seconds(self):
        """User + system CPU seconds of the agent process so far."""
        return proc_cpu_seconds(self.proc.pid)

    def memory(self):
        """(VmRSS, VmHWM) in MB."""
        values = {}
        with open("/proc/%d/status" % self.proc.pid) as handle:
            for line in handle:
                key, _sep, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(value.split()[0]) / 1024.0
        return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)

    def log(self):
        try:
            with open(self.log_path) as handle:
                return handle.read()
        except OSError:
            return ""

    def transitions(self):
        """(taken out, returned) decisions the agent logged."""
        text = self.log()
        return text.count("to be taken out of rotation"), text.count("to return to rotation")


def held_out(text):
    """The addresses a rule file marks down for the agent."""
    return frozenset(line.split()[1] for line in text.splitlines()
                     if line.strip().startswith("server ") and line.endswith(" down;" + HELD_OUT_NOTE))


class Background:
    """A daemon thread running ``_run`` until ``stop()``; ``start(stack)`` has the stack stop it."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        raise NotImplementedError

    def start(self, stack):
        self._thread.start()
        stack.callback(self.stop)
        return self

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(60)


class Served(Background):
    """What nginx serves, watched every 20 ms: each rule file's held-out addresses, and the moment
    the reload after a change serves it alone: its new workers started and the old ones told to
    stop (their "gracefully shutting down"; nginx's master waits 100 ms between the two, and until
    then the old workers still take requests with the old rotation). ``changes[rule]``: [(file
    time, served time or None, held-out set)], monotonic clock."""

    def __init__(self, nginx, rules, period=0.02):
        super(Served, self).__init__()
        self.nginx, self.rules, self.period = nginx, list(rules), period
        self.changes = dict((rule, []) for rule in self.rules)
        self.reloads = 0
        self.starting = False  # a reload's new workers started, the old ones not yet told to stop

    def _files(self):
        found = {}
        for rule in self.rules:
            for suffix in (".conf", ".stream"):
                try:
                    with open(os.path.join(self.nginx.rules_dir, rule + suffix)) as handle:
                        found[rule] = held_out(handle.read())
                    break
                except OSError:
                    continue
        return found

    def _run(self):
        last = self._files()
        offset = os.path.getsize(self.nginx.error_log) if os.path.exists(self.nginx.error_log) else 0
        while not self._stop.wait(self.period):
            now = time.monotonic()
            files = self._files()
            for rule, held in files.items():
                if held != last.get(rule):
                    self.changes[rule].append([now, None, held])
            last = files
            with open(self.nginx.error_log, "rb") as handle:
                handle.seek(offset)
                text = handle.read()
            offset += len(text)
            if b"start worker process" in text:
                self.reloads += 1
                self.starting = True
            if self.starting and b"gracefully shutting down" in text:
                self.starting = False
                for entries in self.changes.values():
                    for entry in entries:
                        if entry[1] is None:
                            entry[1] = now

    def first(self, rule, predicate, after):
        """(file time, served time) of the first change of ``rule`` after ``after`` whose held-out set
        satisfies ``predicate``; (None, None) when there is none."""
        for file_time, served_time, held in self.changes[rule]:
            if file_time >= after and predicate(held):
                return file_time, served_time
        return None, None


def make_antlets(stack, scratch, count=3, subnet=61):
    antlets = []
    for index in range(1, count + 1):
        antlet = common.Backend("antlet%d" % index, "127.0.%d.%d" % (subnet, index), common.free_port("127.0.%d.%d" % (subnet, index)),
                                broken=os.path.join(scratch, "broken%d" % index))
        stack.callback(antlet.kill)
        antlets.append(antlet.start())
    return antlets


class World:
    """nginx, three antlets, the rule ``web`` over them (``fields`` added), optionally the agent."""

    def __init__(self, stack, scratch, agent, fields=None, tcp=False):
        self.stack, self.scratch = stack, scratch
        self.nginx = common.start_nginx(stack, scratch, "lb")
        self.antlets = make_antlets(stack, scratch)
        self.port = common.free_port()
        raws = [dict({"name": "web", "server_name": HOST, "server_port": self.port,
                      "upstreams": [{"address": a.address} for a in self.antlets]}, **(fields or {}))]
        if tcp:
            self.tcp_port = common.free_port()
            raws.append({"name": "raw", "protocol": "tcp", "server_port": self.tcp_port,
                         "upstreams": [{"address": a.address} for a in self.antlets]})
        self.nginx.apply(raws)
        common.wait_serving(self.port, HOST)
        self.served = Served(self.nginx, [raw["name"] for raw in raws]).start(stack)
        self.agent = None
        if agent:
            self.agent = AgentProcess(self.nginx, scratch).start(stack)
            self.agent.wait_healthy(3 * len(raws))
        self.events = {}

    def load(self, rate, duration, events, timeout=65.0):
        """Open-loop GETs with ``events`` [(seconds after the start, name, action)]; each event's
        monotonic time is kept in ``events[name]``. Returns the records, their ``start`` made
        monotonic too (the first event's time fixes the load's clock to it)."""
        def timed(name, action):
            def run():
                self.events[name] = time.monotonic()
                action()
            return run
        records, _elapsed = run_open_loop(Target("127.0.0.1", self.port, HOST), rate, duration, timeout,
                                          events=[(at, timed(name, action)) for at, name, action in events])
        at, name, _action = events[0]
        origin = self.events[name] - at
        for record in records:
            record.start += origin
        return records

    def reloads_and_transitions(self):
        if self.agent is None:
            return None
        out, back = self.agent.transitions()
        return self.agent.status().get("reloads", 0), out + back
