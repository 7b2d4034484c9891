# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the health agent probes, from the managed rules: one ``ProbeSpec`` per distinct probe
(rules whose checks of one address are identical share it) and one ``Subscription`` per rule and
upstream (whose ``fails`` and ``passes`` count that probe's results for that rule).

Not probed: udp rules, rules whose ``health_check.enabled`` is false, and upstreams declared
``down`` (maintenance: the operator took them out; once put back they start from scratch).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    format_status_ranges, parse_status_ranges, parse_time_ms)
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import is_checked, probe_host

USER_AGENT = "antsle.antman health check"


class ProbeSpec:
    """One probe: ``kind`` (http or tcp) of ``address`` (canonical host:port), every ``interval``
    seconds, failing after ``timeout`` seconds; http: GET ``path`` with ``host`` as Host header,
    passing when the status is within one of ``statuses`` ([(lowest, highest)])."""

    def __init__(self, kind, address, interval, timeout, path=None, host=None, statuses=()):
        self.kind = kind
        self.address = address
        self.interval = interval
        self.timeout = timeout
        self.path = path
        self.host = host
        self.statuses = tuple(tuple(pair) for pair in statuses)
        self.key = (kind, address, path, host, self.statuses, interval, timeout)
        self.request_bytes = self.request() if kind == "http" else b""

    def request(self):
        """The bytes of the http probe's request (every part checked by the rule's grammar: no
        space, CR or LF can be in the path or the host)."""
        return ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n"
                % (self.path, self.host, USER_AGENT)).encode("ascii")

    def passes(self, status):
        return any(low <= status <= high for low, high in self.statuses)

    def describe(self):
        if self.kind == "tcp":
            return "TCP connect"
        return "HTTP GET %s (Host %s) expecting %s" % (self.path, self.host, format_status_ranges(self.statuses))


class Subscription:
    """Rule ``rule``'s view of upstream ``address``: the probe it reads (``key``) and how many
    results in a row change its state (``fails``, ``passes``); ``host_source`` says where an http
    probe's Host comes from (``host``, ``server_name`` or ``address``)."""

    def __init__(self, rule, address, key, fails, passes, host_source=None):
        self.rule = rule
        self.address = address
        self.key = key
        self.fails = fails
        self.passes = passes
        self.host_source = host_source


def seconds(text):
    return parse_time_ms(text, 0, 10 ** 9) / 1000.0


def spec_for(rule, address):
    """(ProbeSpec, host source) of the check of ``address`` by ``rule`` (canonical, checked)."""
    check = rule["health_check"]
    interval, timeout = seconds(check["interval"]), seconds(check["timeout"])
    if check["type"] == "tcp":
        return ProbeSpec("tcp", address, interval, timeout), None
    host, source = probe_host(rule, address)
    return ProbeSpec("http", address, interval, timeout, check["path"], host, parse_status_ranges(check["status"])), source


def plan_probes(rules):
    """({key: ProbeSpec}, {(rule name, address): Subscription}) of the managed ``rules``
    ({name: canonical rule})."""
    specs, subscriptions = OrderedDict(), OrderedDict()
    for name, rule in rules.items():
        if not is_checked(rule):
            continue
        check = rule["health_check"]
        for upstream in rule["upstreams"]:
            if upstream["down"]:
                continue
            spec, source = spec_for(rule, upstream["address"])
            spec = specs.setdefault(spec.key, spec)
            subscriptions[(name, upstream["address"])] = Subscription(
                name, upstream["address"], spec.key, check["fails"], check["passes"], source)
    return specs, subscriptions
