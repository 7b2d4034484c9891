# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probes of upstreams from the load balancer host: TCP reachability of many at once
(lb_rule_info), and the health check of one address before it is put back into rotation
(lb_upstream): a TCP connect or an HTTP GET, repeated until it passes a number of times in a row."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import math
import socket
import time
from concurrent.futures import ThreadPoolExecutor

MAX_PARALLEL = 32


def split_address(address):
    """("host", port) from a canonical address (``host:port`` or ``[v6]:port``)."""
    host, _sep, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def probe_address(address, timeout):
    """Whether ``address`` accepts a TCP connection now, and how long connecting took."""
    host, port = split_address(address)
    started = time.monotonic()
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except (OSError, socket.timeout) as error:
        return {"reachable": False, "connect_ms": None, "probe_error": str(error) or type(error).__name__}
    elapsed = (time.monotonic() - started) * 1000.0
    connection.close()
    return {"reachable": True, "connect_ms": round(elapsed, 2), "probe_error": None}


def probe_addresses(addresses, timeout):
    """{address: probe result} for every distinct address, probed concurrently."""
    distinct = sorted(set(addresses))
    if not distinct:
        return {}
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(distinct))) as pool:
        results = pool.map(lambda address: probe_address(address, timeout), distinct)
        return dict(zip(distinct, results))


# --- the health check of one address -------------------------------------------------------------

PROBE_TIMEOUT = 5.0  # seconds one probe may take (less when the check's timeout is nearer)
USER_AGENT = "antsle.antman lb_upstream health check"
MAX_BODY = 65536  # bytes of a health answer read before the connection is closed


def tcp_check(address, timeout):
    """One TCP connect: {ok, status (None), error}."""
    result = probe_address(address, timeout)
    return {"ok": result["reachable"], "status": None, "error": result["probe_error"]}


def http_check(address, path, statuses, timeout):
    """One HTTP/1.1 GET of ``path`` on a new connection, ``Host`` the address: passes when the status
    is within one of ``statuses`` ([(lowest, highest)]). Redirects are not followed. {ok, status, error}."""
    host, port = split_address(address)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": address, "User-Agent": USER_AGENT, "Connection": "close",
                                                 "Accept": "*/*"})
        response = connection.getresponse()
        response.read(MAX_BODY)
        status = response.status
    except (OSError, http.client.HTTPException, socket.timeout) as error:
        return {"ok": False, "status": None, "error": str(error) or type(error).__name__}
    finally:
        connection.close()
    passed = any(low <= status <= high for low, high in statuses)
    return {"ok": passed, "status": status, "error": None if passed else "status %d" % status}


def health_gate(check, healthy_after, interval, timeout, clock=time.monotonic, sleep=time.sleep):
    """Probe with ``check(probe_timeout)`` -> {ok, status, error} until ``healthy_after`` probes in a
    row passed or ``timeout`` seconds have passed. Probes start every ``interval`` seconds from the
    first one (0, interval, 2 x interval ... up to ``timeout``); one that takes longer delays the next.

    Returns (passed, probes): each probe's result with ``at`` (seconds after the first probe
    started) and ``ms`` (how long it took)."""
    started = clock()
    probes, in_a_row, slot = [], 0, 0
    while True:
        begun = clock()
        left = timeout - (begun - started)
        result = check(max(min(PROBE_TIMEOUT, left), 0.05))
        ended = clock()
        probes.append(dict(result, at=round(begun - started, 3), ms=round((ended - begun) * 1000.0, 2)))
        in_a_row = in_a_row + 1 if result["ok"] else 0
        if in_a_row >= healthy_after:
            return True, probes
        slot = max(slot + 1, int(math.ceil((ended - started) / interval)))  # the next start not already past
        if slot * interval > timeout + 1e-9:
            return False, probes
        wait = started + slot * interval - clock()
        if wait > 0:
            sleep(wait)
