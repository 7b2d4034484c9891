# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TCP reachability of upstreams, measured from the load balancer host, all at once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
