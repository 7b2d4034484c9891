"""Shared pieces of the benchmark scenarios: imports, the test world, time bounds, statistics, tables.

The world comes from tests/support/harness.py (private nginx instances, backends); rules are
made and applied with the collection's own code (``normalize_rule`` + ``Transaction.run``), exactly
as the modules do.
"""
import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)

from ansible_collections.antsle.antman.tests.support.harness import Backend, NginxInstance, StaticBackend, free_port, nginx_binary  # noqa: F401

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule  # noqa: F401
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import cmdline, process_alive

# Re-exported for the scenario modules (common.Backend, common.free_port, ...).
__all__ = ["Backend", "NginxInstance", "StaticBackend", "free_port", "nginx_binary", "normalize_rule"]


class ScenarioTimeout(Exception):
    pass


class Stopped(BaseException):
    """SIGTERM: unwind like Ctrl-C so every cleanup runs."""


def _on_alarm(signum, frame):
    raise ScenarioTimeout("scenario exceeded its time bound")


def _on_term(signum, frame):
    raise Stopped()


signal.signal(signal.SIGTERM, _on_term)
signal.signal(signal.SIGHUP, _on_term)


@contextlib.contextmanager
def time_bound(seconds):
    """Abort the block (ScenarioTimeout) after ``seconds``; cleanups in it still run."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(max(1, int(seconds + 0.999)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


SCRATCH_PREFIX = "antman-bench-"
OWNER_FILE = "owner.pid"


@contextlib.contextmanager
def world():
    """An ExitStack for one scenario plus a private scratch directory, removed at the end."""
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
    with open(os.path.join(scratch, OWNER_FILE), "w") as handle:
        handle.write("%d\n" % os.getpid())
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, scratch, True)
        yield stack, scratch


def reap_stale():
    """Stop what a benchmark run killed with SIGKILL left behind (nothing else can clean up after
    it): nginx instances in scratch directories whose owner process is gone, then the directories.
    Returns how many directories were reaped."""
    reaped = 0
    for scratch in glob.glob(os.path.join(tempfile.gettempdir(), SCRATCH_PREFIX + "*")):
        try:
            with open(os.path.join(scratch, OWNER_FILE)) as handle:
                owner = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        if process_alive(owner):
            continue
        for pid_file in glob.glob(os.path.join(scratch, "*", "nginx.pid")):
            prefix = os.path.dirname(pid_file)
            instance = _existing_instance(prefix)
            if instance.master_pid() and prefix in cmdline(instance.master_pid()):
                instance.stop(fast=True)
        shutil.rmtree(scratch, True)
        reaped += 1
    return reaped


def _existing_instance(prefix):
    """An NginxInstance object for a prefix that already exists, without rewriting its files."""
    instance = NginxInstance.__new__(NginxInstance)
    instance.prefix = prefix
    instance.conf = os.path.join(prefix, "nginx.conf")
    instance.pid_file = os.path.join(prefix, "nginx.pid")
    return instance


def start_nginx(stack, scratch, name, access_log=True, workers=2):
    """A private nginx the collection manages (rules directory included in http {})."""
    instance = NginxInstance(os.path.join(scratch, name), workers=workers, access_log=access_log)
    instance.start()
    stack.callback(instance.stop, True)
    return instance


def start_hand_written(stack, scratch, name, conf_text, access_log=True, workers=2):
    """A private nginx serving a hand-written configuration (no collection involved)."""
    instance = NginxInstance(os.path.join(scratch, name), workers=workers, access_log=access_log)
    instance.write_conf("plain.conf", conf_text)
    instance.start()
    if instance.master_pid() is None:
        raise RuntimeError("hand-written nginx %s did not start, see %s" % (name, instance.error_log))
    stack.callback(instance.stop, True)
    return instance


def start_backends(stack, count, subnet, delay=0.0, prefix="antlet"):
    """``count`` Python backends on 127.0.<subnet>.1..count, stopped at the end."""
    made = []
    for index in range(1, count + 1):
        host = "127.0.%d.%d" % (subnet, index)
        backend = Backend("%s%d" % (prefix, index), host, free_port(host), delay=delay)
        stack.callback(backend.kill)
        made.append(backend.start())
    return made


def apply_rule(instance, **fields):
    """Make a rule with the collection's model and apply it with its transaction (a real reload)."""
    rule = normalize_rule(fields)
    outcome = instance.applier().run(lambda snapshot: {rule["name"]: rule})
    return rule, outcome


def plain_config(port, server_name, addresses):
    """nginx's defaults: the hand-written upstream + proxy_pass one would write without tuning
    (no keepalive, 60 s timeouts, proxy_next_upstream error timeout, no zone)."""
    servers = "".join("    server %s;\n" % address for address in addresses)
    return ("upstream plain {\n%s}\n"
            "server {\n    listen %d;\n    server_name %s;\n"
            "    location / { proxy_pass http://plain; }\n}\n" % (servers, port, server_name))


def wait_serving(port, host_header, deadline=5.0):
    """Wait until nginx answers 200 on ``port`` for ``host_header``."""
    from ansible_collections.antsle.antman.tests.support.harness import get
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        try:
            status, _unused = get(port, host_header, timeout=2)
            if status == 200:
                return
            last = status
        except OSError as error:
            last = error
        time.sleep(0.05)
    raise RuntimeError("nothing serves %s on port %d (last: %s)" % (host_header, port, last))


def count_in_file(path, needle):
    try:
        with open(path, "rb") as handle:
            return handle.read().count(needle.encode())
    except OSError:
        return 0


# ---------------------------------------------------------------- statistics

def percentile(values, fraction):
    """Nearest-rank percentile of ``values`` (fraction 0..1); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(round(fraction * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2.0


def ms(seconds):
    return "-" if seconds is None else ("%.1f ms" % (seconds * 1000) if seconds < 1 else "%.2f s" % seconds)


def breakdown(records):
    """"3x http 502, 1x client timeout" for failed records, or "0"."""
    kinds = {}
    for record in records:
        kinds[record.outcome] = kinds.get(record.outcome, 0) + 1
    if not kinds:
        return "0"
    return "%d (%s)" % (len(records), ", ".join("%s x%d" % (k, v) for k, v in sorted(kinds.items())))


# ---------------------------------------------------------------- tables

class Section:
    """One scenario's output: a markdown table, notes, and summary rows for the targets table."""

    def __init__(self, title, headers, about="", short=None):
        self.title, self.headers, self.about = title, list(headers), about
        self.short = short or title
        self.rows, self.notes, self.summary = [], [], []
        self.data = {}

    def row(self, *cells):
        self.rows.append([str(c) for c in cells])

    def note(self, text):
        self.notes.append(text)

    def target(self, measure, value, target, met):
        """met: True / False / None (not applicable, e.g. tiny mode)."""
        self.summary.append((self.short, measure, value, target, {True: "yes", False: "NO", None: "-"}[met]))

    def markdown(self):
        out = ["## %s" % self.title, ""]
        if self.about:
            out += [self.about, ""]
        out += table(self.headers, self.rows)
        if self.notes:
            out.append("")
            out += ["- %s" % n for n in self.notes]
        return "\n".join(out) + "\n"


def table(headers, rows):
    lines = ["| %s |" % " | ".join(headers), "|%s|" % "|".join("---" for _unused in headers)]
    lines += ["| %s |" % " | ".join(row) for row in rows]
    return lines


def publish(text, out=None):
    """A tool scenario's report (bench/run.py reads it from stdout), and into ``out`` when given (--out)."""
    print(text)
    if out:
        with open(out, "w") as handle:
            handle.write(text + "\n")


def run_quiet(args, timeout=30):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=timeout, check=False)
