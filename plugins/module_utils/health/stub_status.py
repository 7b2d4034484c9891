# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's own connection and request counters for the health agent's ``/metrics``, read from the
role's local status page (``antman_lb_status_listen``, nginx's ``stub_status``), so that one scrape
target is enough. A thread of its own asks the page every ``EVERY`` seconds (a slow or hung nginx
never stalls the probes nor a scrape); a scrape shows the last answer, and
``antman_lb_nginx_up`` says whether the last attempt got one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading

from http.client import HTTPConnection, HTTPException

from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import Family

EVERY = 5.0  # seconds between reads of the status page
TIMEOUT = 2.0  # seconds a read may take
MAX_BODY = 4096
STUB_RE = re.compile(
    r"\AActive connections: *(?P<active>\d+) *\n"
    r"server accepts handled requests *\n"
    r" *(?P<accepted>\d+) +(?P<handled>\d+) +(?P<requests>\d+) *\n"
    r"Reading: *(?P<reading>\d+) +Writing: *(?P<writing>\d+) +Waiting: *(?P<waiting>\d+) *\n?\Z")


def parse_stub_status(text):
    """{active, accepted, handled, requests, reading, writing, waiting} of a stub_status page, or
    None when it is not one."""
    match = STUB_RE.match(text.replace("\r\n", "\n"))
    return dict((key, int(value)) for key, value in match.groupdict().items()) if match else None


def split_url(url):
    """(host, port, path) of ``http://HOST:PORT/PATH`` (HOST an IP literal, IPv6 in brackets)."""
    if not url.startswith("http://"):
        raise ValueError("%r is not an http:// URL" % url)
    authority, _slash, path = url[len("http://"):].partition("/")
    host, _colon, port = authority.rpartition(":")
    return host.strip("[]"), int(port), "/" + path


class StubStatus:
    """The counters of the status page at ``url``, read by a thread of its own (``start``)."""

    def __init__(self, url, every=EVERY, timeout=TIMEOUT):
        self.host, self.port, self.path = split_url(url)
        self.every, self.timeout = every, timeout
        self.counters = None
        self.stopping = threading.Event()
        self.thread = None

    def read(self):
        """The counters now, or None (no answer, not a status page)."""
        connection = HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request("GET", self.path, headers={"Connection": "close"})
            answer = connection.getresponse()
            body = answer.read(MAX_BODY)
            return parse_stub_status(body.decode("ascii", "replace")) if answer.status == 200 else None
        except (HTTPException, OSError, ValueError):
            return None
        finally:
            connection.close()

    def _loop(self):
        while not self.stopping.is_set():
            self.counters = self.read()
            self.stopping.wait(self.every)

    def start(self):
        self.thread = threading.Thread(target=self._loop, name="antman-health-stub-status", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()

    on_stop = stop  # the agent's event when it stops

    def families(self):
        counters = self.counters  # one reference: the thread replaces it whole
        up = Family("antman_lb_nginx_up", "gauge", "1 when nginx's status page (stub_status) answered the agent's last "
                    "read (every %d s)" % self.every)
        up.add((), 0 if counters is None else 1)
        if counters is None:
            return [up]
        connections = Family("antman_lb_nginx_connections", "gauge", "nginx's client connections by state "
                             "(stub_status: active is reading + writing + waiting)", ("state",))
        for state in ("active", "reading", "writing", "waiting"):
            connections.add((state,), counters[state])
        families = [up, connections]
        for key, name, help_text in (
                ("accepted", "antman_lb_nginx_connections_accepted_total", "Client connections nginx accepted"),
                ("handled", "antman_lb_nginx_connections_handled_total", "Client connections nginx handled "
                 "(less than accepted when a limit was reached)"),
                ("requests", "antman_lb_nginx_http_requests_total", "Client requests nginx read")):
            family = Family(name, "counter", help_text)
            family.add((), counters[key])
            families.append(family)
        return families
