# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent's traffic figures from nginx's access log (the role's ``antman_lb_access_log``,
written in the role's ``log_format``, roles/load_balancer/templates/antman.conf.j2): requests per
rule and status class, and per upstream tried: its status classes and response times, failovers,
requests no upstream answered. ``/metrics`` shows them (docs/metrics.md); the status file carries
each upstream's requests per second and 5xx share over the last minute (lb_rule_info, the rule
table).

A line is read from its end: ``... "$request" $status $body_bytes_sent rt=... upstream=...
upstream_status=... upstream_connect=... upstream_time=... server=$server_name:$server_port``. A
client's text (Host, the request line) sits inside the quoted fields before them, where nginx
escapes ``"`` (``\x22``) and control bytes: the last ``"`` of a line ends ``"$request"``, and what
follows it is nginx's own (the trailing fields hold no ``=`` of their own; the pattern is anchored
at the end of the line), so a client's text cannot be taken for them. ``server=`` names
the rule's server block (its first name and port); lines of other servers (the host's own, the
catch-all) are counted as such and nothing else.

Cost: lines stay bytes; a line costs two searches and a dictionary update (lines are grouped by
their trailing text, which repeats: the same upstreams, statuses and millisecond times), each
distinct text is matched by pre-compiled patterns once per block, and the block's counts are
published (decoded once per distinct key) under the lock at its end. Memory is bounded: per rule, the upstreams it declares plus ``EXTRA_UPSTREAMS`` other
addresses nginx logged (a name that resolves to several addresses, one just removed); further
addresses are counted as ``upstream="other"`` and in ``folded``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import collections
import re
import threading

from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import Family, Histogram
from ansible_collections.antsle.antman.plugins.module_utils.health.log_follower import LogFollower

# The trailing fields after the last '"' (the end of "$request"): " $status " is taken apart from the
# rest, whose pattern is checked once per distinct text of a block.
STATUS_RE = re.compile(rb"\A [1-5][0-9][0-9] \Z")
TAIL_RE = re.compile(rb" upstream=([^=]*) upstream_status=([^=]*) upstream_connect=([^=]*) upstream_time=([^=]*)"
                     rb" server=([^ =]*)\Z")
CLASSES = dict((str(n).encode("ascii"), "%dxx" % n) for n in range(1, 6))
NO_STATUS = "none"  # a try nginx logged no status for (the client went away first)
CODES = ("1xx", "2xx", "3xx", "4xx", "5xx", NO_STATUS)
# Upstream response times (seconds): from an antlet on the host (a millisecond) to proxy_read_timeout's order.
RESPONSE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
EXTRA_UPSTREAMS = 16  # addresses per rule beyond its declared upstreams kept as series of their own
OTHER = "other"
BUDGET = 0.02  # seconds of the probe loop one turn may spend on the log
TURN_BYTES = 256 * 1024  # bytes read between looks at the clock
WINDOW = 60.0  # seconds of the status file's requests per second and 5xx share
SNAPSHOT_EVERY = 5.0
RULE_UPSTREAM = ("rule", "upstream")


def server_keys(rules):
    """{b"name:port": rule name} of the http rules ({name: canonical rule}): every name of a rule on
    its port (nginx logs the first; any is the rule's)."""
    keys = {}
    for name, rule in rules.items():
        if rule.get("protocol", "http") != "http":
            continue
        for server_name in rule.get("server_name") or ():
            keys[("%s:%d" % (server_name.lower(), rule["server_port"])).encode("utf-8")] = name
    return keys


def split_tries(field):
    """The entries of a per-try field: ``, `` between tries, `` : `` between upstream groups."""
    if b" : " in field:
        field = field.replace(b" : ", b", ")
    return field.split(b", ")


class _Block:
    """Counts of one block of lines, keyed by bytes (published at its end)."""

    __slots__ = ("requests", "tries", "times", "failover", "no_upstream", "counted", "other_server", "unparsed")

    def __init__(self):
        self.requests = collections.Counter()  # (rule, class) -> n
        self.tries = collections.Counter()  # (rule, address bytes, status bytes or b"-") -> n
        self.times = {}  # (rule, address bytes) -> [bucket counts..., sum]
        self.failover = collections.Counter()  # rule -> n
        self.no_upstream = collections.Counter()
        self.counted = self.other_server = self.unparsed = 0


def count_lines(block, servers, into=None):
    """Count ``block`` (complete lines, bytes) into a _Block; ``servers``: server_keys().

    The per-line work is two searches and a dictionary update: lines are grouped by their status
    and the text from ``upstream=`` on (the same upstreams, statuses and times), and each distinct
    group is taken apart once."""
    counts = into or _Block()
    groups = {}
    for line in block.split(b"\n"):
        quote = line.rfind(b'"')
        key = (line[quote + 1:quote + 6], line[line.find(b" upstream=", quote):])
        groups[key] = groups.get(key, 0) + 1
    if groups.get((b"", b"")):
        del groups[(b"", b"")]  # the empty text after the block's last newline
    match = TAIL_RE.match
    for (status, tail), n in groups.items():
        fields = match(tail) if STATUS_RE.match(status) else None
        if fields is None:
            counts.unparsed += n
            continue
        _count_group(counts, servers, status[1:4], fields.groups(), n)
    return counts


def _count_group(counts, servers, status, fields, n):
    """Count ``n`` requests of one ``status`` and trailing ``fields``."""
    addresses, statuses, connects, seconds, server = fields
    rule = servers.get(server)
    if rule is None:
        counts.other_server += n
        return
    counts.counted += n
    counts.requests[(rule, status[:1])] += n
    if addresses == b"-":
        return  # answered by nginx itself (a redirect, a limit, a refusal): no upstream tried
    if b", " in addresses:
        counts.failover[rule] += n
    addresses, statuses, connects, seconds = (split_tries(addresses), split_tries(statuses),
                                              split_tries(connects), split_tries(seconds))
    bounds, size = RESPONSE_BUCKETS, len(RESPONSE_BUCKETS)
    for address, try_status, spent in zip(addresses, statuses, seconds):
        counts.tries[(rule, address, try_status[:1])] += n
        try:
            value = float(spent)
        except ValueError:
            continue  # "-": no time
        slot = counts.times.get((rule, address))
        if slot is None:
            slot = counts.times[(rule, address)] = [0] * (size + 2)
        slot[bisect.bisect_left(bounds, value)] += n
        slot[size + 1] += value * n
    if (status == b"502" or status == b"504") and (connects[-1] == b"-" or statuses[-1] == b"504"):
        counts.no_upstream[rule] += n


class _Series:
    """The published counters of one (rule, upstream)."""

    __slots__ = ("codes", "times")

    def __init__(self):
        self.codes = dict((code, 0) for code in CODES)
        self.times = Histogram(RESPONSE_BUCKETS)


class TrafficCounters:
    """The published counters, bounded (see the module's docstring); read by a scrape (``families``)
    and by the status file (``window``) on other threads, under ``lock``."""

    def __init__(self, clock):
        self.clock = clock
        self.lock = threading.Lock()
        self.declared = {}  # rule -> set of its upstreams' addresses
        self.series = {}  # (rule, upstream) -> _Series
        self.extra = {}  # rule -> set of addresses kept beyond the declared ones
        self.requests = {}  # (rule, class) -> n
        self.failover = {}
        self.no_upstream = {}
        self.folded = {}  # rule -> tries counted as upstream="other"
        self.lines = {"counted": 0, "other_server": 0, "unparsed": 0, "too_long": 0}
        self.snapshots = collections.deque()  # (time, {(rule, upstream): (tries, 5xx tries)})

    def set_rules(self, rules):
        """The rules now served: counters of rules that went are dropped, as are upstreams of a rule
        that are neither declared now nor among its extra ones (the bound holds across changes)."""
        with self.lock:
            self.declared = dict((name, set(u["address"] for u in rule.get("upstreams") or ()))
                                 for name, rule in rules.items() if rule.get("protocol", "http") == "http")
            for key in [k for k in self.series if k[0] not in self.declared]:
                del self.series[key]
            for table in (self.requests,):
                for key in [k for k in table if k[0] not in self.declared]:
                    del table[key]
            for table in (self.failover, self.no_upstream, self.folded, self.extra):
                for key in [k for k in table if k not in self.declared]:
                    del table[key]

    def _slot(self, rule, address):
        """(under the lock) The _Series of ``address`` (str) in ``rule``, or of ``other`` past the cap."""
        series = self.series.get((rule, address))
        if series is not None:
            return series, False
        if address not in self.declared.get(rule, ()):
            extra = self.extra.setdefault(rule, set())
            if len(extra) >= EXTRA_UPSTREAMS:
                series = self.series.get((rule, OTHER))
                if series is None:
                    series = self.series[(rule, OTHER)] = _Series()
                return series, True
            extra.add(address)
        series = self.series[(rule, address)] = _Series()
        return series, False

    def publish(self, block, too_long=0):
        """Add a counted _Block."""
        with self.lock:
            for (rule, head), n in block.requests.items():
                if rule in self.declared:
                    key = (rule, CLASSES.get(head))
                    self.requests[key] = self.requests.get(key, 0) + n
            for (rule, address, head), n in block.tries.items():
                if rule not in self.declared:
                    continue
                series, folded = self._slot(rule, address.decode("utf-8", "replace"))
                series.codes[CLASSES.get(head, NO_STATUS)] += n
                if folded:
                    self.folded[rule] = self.folded.get(rule, 0) + n
            for (rule, address), slot in block.times.items():
                if rule not in self.declared:
                    continue
                histogram = self._slot(rule, address.decode("utf-8", "replace"))[0].times
                counts = slot[:-1]
                for index, n in enumerate(counts):
                    histogram.counts[index] += n
                histogram.count += sum(counts)
                histogram.sum += slot[-1]
            for table, source in ((self.failover, block.failover), (self.no_upstream, block.no_upstream)):
                for rule, n in source.items():
                    if rule in self.declared:
                        table[rule] = table.get(rule, 0) + n
            self.lines["counted"] += block.counted
            self.lines["other_server"] += block.other_server
            self.lines["unparsed"] += block.unparsed
            self.lines["too_long"] += too_long

    # -- readers ----------------------------------------------------------------------------------

    def totals(self):
        """(under the lock) {(rule, upstream): (tries, 5xx tries)}."""
        return dict((key, (sum(s.codes.values()), s.codes["5xx"])) for key, s in self.series.items())

    def snapshot(self, now):
        """Keep the totals of now for the window (every SNAPSHOT_EVERY s; older than WINDOW dropped
        but the one that starts the window)."""
        with self.lock:
            if self.snapshots and now - self.snapshots[-1][0] < SNAPSHOT_EVERY:
                return
            self.snapshots.append((now, self.totals()))
            while len(self.snapshots) > 2 and now - self.snapshots[1][0] >= WINDOW:
                self.snapshots.popleft()

    def window(self):
        """{rule: {upstream: [requests per second, 5xx share or None]}} over the last minute (or
        since the agent started, when that is shorter), and its length in seconds."""
        with self.lock:
            if len(self.snapshots) < 2:
                return {}, 0.0
            (began, before), (ended, after) = self.snapshots[0], self.snapshots[-1]
        seconds = ended - began
        rates = {}
        for (rule, upstream), (tries, errors) in after.items():
            was_tries, was_errors = before.get((rule, upstream), (0, 0))
            count, bad = tries - was_tries, errors - was_errors
            rates.setdefault(rule, {})[upstream] = [round(count / seconds, 3) if seconds > 0 else 0.0,
                                                    round(bad / count, 4) if count else None]
        return rates, seconds

    def families(self):
        """The access log's metric families (docs/metrics.md)."""
        tries = Family("antman_lb_upstream_requests_total", "counter",
                       "Tries of an upstream by the status class it answered (code=none: nothing, the client "
                       "went away first); upstream=other: addresses past the per-rule cap", RULE_UPSTREAM + ("code",))
        times = Family("antman_lb_upstream_response_seconds", "histogram",
                       "Upstream response time of each try ($upstream_response_time)", RULE_UPSTREAM)
        requests = Family("antman_lb_requests_total", "counter", "Requests of a rule by the status class nginx answered",
                          ("rule", "code"))
        failover = Family("antman_lb_failover_requests_total", "counter",
                          "Requests that tried more than one upstream (a failover happened)", ("rule",))
        no_upstream = Family("antman_lb_no_upstream_requests_total", "counter",
                             "Requests nginx answered 502 or 504 itself: no upstream could be reached or none answered in "
                             "time", ("rule",))
        folded = Family("antman_lb_upstream_folded_requests_total", "counter",
                        "Tries of addresses past the per-rule cap of upstream series, counted as upstream=other",
                        ("rule",))
        lines = Family("antman_lb_access_log_lines_total", "counter",
                       "Access log lines read: result=counted (a rule's), other_server (the host's own servers, the "
                       "catch-all), unparsed (not the role's log_format), too_long (skipped)", ("result",))
        with self.lock:
            series = sorted((key, dict(s.codes), s.times.copy()) for key, s in self.series.items())
            request_counts = sorted(self.requests.items())
            rules = sorted(self.declared)
            fail_counts, none_counts, fold_counts = dict(self.failover), dict(self.no_upstream), dict(self.folded)
            line_counts = dict(self.lines)
        for key, codes, histogram in series:
            for code in CODES:
                if codes[code] or code in ("2xx", "5xx"):
                    tries.add(key + (code,), codes[code])
            times.add_histogram(key, histogram)
        for (rule, code), n in request_counts:
            requests.add((rule, code), n)
        for rule in rules:
            failover.add((rule,), fail_counts.get(rule, 0))
            no_upstream.add((rule,), none_counts.get(rule, 0))
            if fold_counts.get(rule):
                folded.add((rule,), fold_counts[rule])
        for result in ("counted", "other_server", "unparsed", "too_long"):
            lines.add((result,), line_counts[result])
        return [tries, times, requests, failover, no_upstream, folded, lines]


class AccessLogReader:
    """The agent's observer that follows the access log on the probe loop (``on_tick``: at most
    ``BUDGET`` seconds a turn; True while more is waiting, so that the loop comes back at once)
    and knows the rules (``on_rules``)."""

    def __init__(self, agent, path):
        self.agent = agent
        self.path = path
        self.clock = agent.clock
        self.follower = LogFollower(path, agent.clock).start()
        self.counters = TrafficCounters(agent.clock)
        self.servers = {}
        self.longest_turn = 0.0  # seconds: the most one turn took (the probe loop's stall)
        self.skipped = 0
        agent.traffic = self

    def on_rules(self, _generation, _keys):
        self.servers = server_keys(self.agent.rules)
        self.counters.set_rules(self.agent.rules)

    def on_tick(self, now):
        began = self.clock()
        deadline = began + BUDGET
        more = False
        while True:
            block = _Block()
            for data in self.follower.blocks(TURN_BYTES):
                count_lines(data, self.servers, block)
            skipped, self.skipped = self.follower.skipped - self.skipped, self.follower.skipped
            if block.counted or block.other_server or block.unparsed or skipped:
                self.counters.publish(block, skipped)
            if self.follower.at_end():
                break
            if self.clock() >= deadline:
                more = True
                break
        self.counters.snapshot(now)
        self.longest_turn = max(self.longest_turn, self.clock() - began)
        return more

    def on_stop(self):
        self.follower.close()

    def status(self):
        """What the status file says of the traffic (``status.py``)."""
        rates, seconds = self.counters.window()
        return {"log": self.path, "open": self.follower.fd is not None, "problem": self.follower.problem,
                "window": round(seconds, 1), "rules": rates}
