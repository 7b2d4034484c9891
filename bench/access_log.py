"""Scenario access_log: what the health agent's access-log metrics cost (module_utils/health/access_log.py).

* parse: microseconds per line of ``count_lines`` and its publication, 64 KiB at a time as the
  reader reads, on lines in the role's log_format with repeating upstream times (a fast antlet:
  milliseconds repeat), with every line's time distinct (the worst case: each line taken apart on
  its own), and with failovers;
* follow: the reader on a loop as the agent runs it (``on_tick`` after each 0.2 s wait, at once
  while it says more is waiting) following a file that another process appends to at a steady
  rate (20,000 lines/s): the reader's CPU (% of one core), the longest turn (how long a probe
  result could wait for the loop), lines counted against lines written, memory after 1,000 and
  more distinct upstream addresses.

Numbers are reported, never asserted (the tests check the behaviour).
"""
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

from ansible_collections.antsle.antman.bench import common
from ansible_collections.antsle.antman.plugins.module_utils.health.access_log import (
    AccessLogReader, TrafficCounters, count_lines, server_keys)
from ansible_collections.antsle.antman.plugins.module_utils.health.log_follower import CHUNK

RULES = {"web": {"protocol": "http", "server_name": ["web.example.com"], "server_port": 80,
                 "upstreams": [{"address": "10.1.1.%d:80" % i} for i in (101, 102, 103)]}}
LINE = ('2026-12-07T09:00:00+00:00 192.0.2.7 "web.example.com" "GET /shop/item?id=%d HTTP/1.1" 200 5120 '
        'rt=0.004 upstream=%s upstream_status=%s upstream_connect=0.000%s upstream_time=%s server=web.example.com:80\n')

WRITER = r"""
import sys, time
path, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
line = (b'2026-12-07T09:00:00+00:00 192.0.2.7 "web.example.com" "GET /shop/item?id=12345 HTTP/1.1" 200 5120 '
        b'rt=0.004 upstream=10.1.1.%d:80 upstream_status=200 upstream_connect=0.000 upstream_time=0.0%02d '
        b'server=web.example.com:80\n')
lines = [line % (101 + i % 3, i % 40) for i in range(1200)]
began = time.monotonic()
written = 0
with open(path, "ab", buffering=0) as log:
    while time.monotonic() - began < seconds:
        due = int((time.monotonic() - began) * rate) - written
        if due > 0:
            # nginx writes whole lines (buffered logging: up to its buffer at once)
            log.write(b"".join(lines[(written + i) % 1200] for i in range(due)))
            written += due
        time.sleep(0.01)
print(written)
"""


def lines(count, distinct_times=False, failover=False):
    out = []
    for i in range(count):
        upstream = "10.1.1.%d:80" % (101 + i % 3)
        seconds = "%d.%03d" % (i // 1000, i % 1000) if distinct_times else "0.00%d" % (i % 5)
        if failover:
            out.append(LINE % (i, "10.1.1.104:80, " + upstream, "502, 200", ", 0.000", "0.000, " + seconds))
        else:
            out.append(LINE % (i, upstream, "200", "", seconds))
    return "".join(out).encode("ascii")


def per_line(block, count, repeat):
    """Microseconds per line, the block counted and published in pieces of about CHUNK bytes as the reader reads them."""
    servers = server_keys(RULES)
    counters = TrafficCounters(time.monotonic)
    counters.set_rules(RULES)
    counters.publish(count_lines(block, servers))  # warm up: the series exist, as in a running agent
    pieces, start = [], 0
    while start < len(block):
        end = block.rfind(b"\n", start, start + CHUNK) + 1 or len(block)
        pieces.append(block[start:end])
        start = end
    began = time.perf_counter()
    for _n in range(repeat):
        for piece in pieces:
            counters.publish(count_lines(piece, servers))
    return (time.perf_counter() - began) / (repeat * count) * 1e6


class LoopAgent:
    """What the reader needs of the agent: its clock, rules and ``traffic``."""

    def __init__(self):
        self.clock = time.monotonic
        self.rules = RULES
        self.traffic = None


def follow(rate, seconds):
    """The reader on an agent-like loop while a writer process appends ``rate`` lines/s."""
    directory = tempfile.mkdtemp(prefix="antman-bench-log-")
    path = os.path.join(directory, "access.log")
    open(path, "wb").close()
    agent = LoopAgent()
    reader = AccessLogReader(agent, path)
    reader.on_rules(None, set())
    writer = subprocess.Popen([sys.executable, "-c", WRITER, path, str(rate), str(seconds)], stdout=subprocess.PIPE)
    cpu, began = time.process_time(), time.monotonic()
    busy = False
    try:
        while writer.poll() is None or busy:
            if not busy:
                time.sleep(0.2)  # the probe loop's wait when no probe is due (Prober.step(0.2))
            busy = reader.on_tick(time.monotonic())
        busy = reader.on_tick(time.monotonic() + 2)
        used, elapsed = time.process_time() - cpu, time.monotonic() - began
        written = int(writer.stdout.read().strip() or 0)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
        writer.stdout.close()
        reader.on_stop()
        os.unlink(path)
        os.rmdir(directory)
    counted = reader.counters.lines["counted"]
    return {"cpu": 100.0 * used / elapsed, "longest_ms": reader.longest_turn * 1000.0, "written": written,
            "counted": counted, "us_per_line": used / max(counted, 1) * 1e6}


def memory_after_addresses(count):
    servers = server_keys(RULES)
    counters = TrafficCounters(time.monotonic)
    counters.set_rules(RULES)
    tracemalloc.start()
    for first in range(0, count, 1000):
        block = b"".join((LINE % (i, "10.%d.%d.%d:80" % (i // 65536, i // 256 % 256, i % 256), "200", "", "0.001"))
                         .encode("ascii") for i in range(first, min(first + 1000, count)))
        counters.publish(count_lines(block, servers))
        del block
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return len(counters.series), held / 1024.0


def run(tiny=False):
    section = common.Section("9. Access-log metrics: the health agent's cost", ["measure", "value"], about=(
        "`module_utils/health/access_log.py` on this machine: lines in the role's log_format; the reader on a loop "
        "that waits 0.2 s between turns, as the agent's probe loop does, while another process appends lines."),
        short="access_log")
    count, repeat = (2000, 2) if tiny else (20000, 10)
    for label, block in (("repeating times (fast antlets)", lines(count)),
                         ("every time distinct (worst case)", lines(count, distinct_times=True)),
                         ("failovers, repeating times", lines(count, failover=True))):
        section.row("parse and publish, %s: us per line" % label, "%.2f" % per_line(block, count, repeat))
    rate, seconds = (2000, 2.0) if tiny else (20000, 20.0)
    followed = follow(rate, seconds)
    label = "follow %d lines/s for %.0f s" % (rate, seconds)
    section.row("%s: reader CPU, %% of one core" % label, "%.1f %%" % followed["cpu"])
    section.row("%s: CPU per line counted, us" % label, "%.2f" % followed["us_per_line"])
    section.row("%s: longest turn of the loop (a probe's worst wait), ms" % label, "%.1f" % followed["longest_ms"])
    section.row("%s: lines counted / written" % label, "%d / %d" % (followed["counted"], followed["written"]))
    series, kib = memory_after_addresses(2000 if tiny else 100000)
    section.row("%d distinct upstream addresses: series kept, memory held (KiB)" % (2000 if tiny else 100000),
                "%d, %.0f" % (series, kib))
    section.target("reader CPU at %d lines/s" % rate, "%.1f %%" % followed["cpu"], "< 10 %",
                   None if tiny else followed["cpu"] < 10)
    section.data = {"followed": followed}
    return section


if __name__ == "__main__":
    print(run(tiny="--tiny" in sys.argv).markdown())
