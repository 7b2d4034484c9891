# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent's ``/metrics`` endpoint (role variables ``antman_lb_metrics_listen`` and
``antman_lb_metrics_allow``, docs/metrics.md): a small HTTP/1 server on the probe loop's poller
(``Prober.register``) that never stalls a probe: non-blocking sockets, requests of at most
``MAX_REQUEST`` bytes, at most ``MAX_CONNECTIONS`` clients at once, each closed after
``CLIENT_TIMEOUT`` seconds whatever it does, one answer per connection. The text itself (about
10 ms for 100 rules of 3 upstreams) is made by a thread of its own (``Renderer``), which hands it
back to the loop through a socket pair on the same poller; scrapes that arrive meanwhile share it.

A client outside the allow-list gets ``403`` and nothing else. With no allow-list every client
is served: the role allows that only on a loopback address. If the address cannot be bound (in
use), the agent keeps probing, says so in its log and tries again every ``REBIND_EVERY`` seconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import logging
import select
import socket
import threading
import time

from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import CONTENT_TYPE
from ansible_collections.antsle.antman.plugins.module_utils.health.metrics import AgentMetrics
from ansible_collections.antsle.antman.plugins.module_utils.health.stub_status import StubStatus

LOG = logging.getLogger("antman-health")
PATH = "/metrics"
MAX_REQUEST = 8192  # bytes of request line and headers (Prometheus sends about 300)
MAX_CONNECTIONS = 16
CLIENT_TIMEOUT = 10.0  # seconds a connection may live, reading and writing together
REBIND_EVERY = 10.0
BACKLOG = 16


def split_listen(listen):
    """(family, (host, port)) of ``ADDRESS:PORT`` (IPv6 in brackets)."""
    host, _sep, port = listen.rpartition(":")
    host = host.strip("[]")
    return (socket.AF_INET6 if ":" in host else socket.AF_INET), (host, int(port))


def allowed(networks, peer):
    """Whether ``peer`` (an address string) is in one of ``networks`` (None: every peer is)."""
    if networks is None:
        return True
    address = ipaddress.ip_address(peer.partition("%")[0])
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 client of a dual-stack [::] listener
    return any(address in network for network in networks)


def response(status, reason, body=b"", content_type="text/plain; charset=utf-8", head=False):
    return ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (status, reason, content_type, len(body))).encode("ascii") + (b"" if head else body)


class _Client:
    __slots__ = ("sock", "deadline", "allowed", "received", "pending", "head_only", "waiting")

    def __init__(self, sock, deadline, allowed_):
        self.sock, self.deadline, self.allowed, self.received, self.pending = sock, deadline, allowed_, b"", None
        self.head_only = self.waiting = False


class Renderer:
    """Makes the metrics text on a thread of its own when ``wanted``, and calls ``deliver(body)``
    (``body`` None when rendering failed) on the probe loop once it is ready."""

    def __init__(self, prober, render, deliver):
        self.prober, self.render, self.deliver = prober, render, deliver
        self.wake_read, self.wake_write = socket.socketpair()
        self.wake_read.setblocking(False)
        self.wanted = threading.Event()
        self.stopping = False
        self.body = None
        prober.register(self.wake_read, select.EPOLLIN, self._ready)
        self.thread = threading.Thread(target=self._loop, name="antman-health-metrics", daemon=True)
        self.thread.start()

    def want(self):
        self.wanted.set()

    def _loop(self):
        while True:
            self.wanted.wait()
            self.wanted.clear()
            if self.stopping:
                return
            try:
                body = self.render()
            except Exception:  # pylint: disable=broad-except  # the endpoint must outlive any surprise
                LOG.exception("making the metrics failed")
                body = None
            self.body = body
            self.wake_write.send(b"x")

    def _ready(self, _mask):
        try:
            self.wake_read.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        self.deliver(self.body)

    def stop(self):
        self.stopping = True
        self.wanted.set()
        self.thread.join(5)
        self.prober.unregister(self.wake_read)
        self.wake_read.close()
        self.wake_write.close()


class MetricsServer:
    """Serves ``render()`` (bytes) at ``PATH`` on ``listen`` through ``prober``'s poller.
    ``allow``: addresses or networks (strings) that may ask; empty: everyone."""

    def __init__(self, prober, listen, allow, render, clock=time.monotonic):
        self.prober, self.listen, self.render, self.clock = prober, listen, render, clock
        self.networks = [ipaddress.ip_network(item) for item in allow] if allow else None
        self.listener = None
        self.renderer = None
        self.clients = {}  # fd -> _Client
        self.retry_at = 0.0
        self.problem = None
        self.scrapes = 0

    # -- the listener ---------------------------------------------------------------------------

    def open(self):
        """Listen; False (and a log line, once) when the address cannot be bound yet."""
        family, address = split_listen(self.listen)
        sock = socket.socket(family, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and address[0] == "::":
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(address)
            sock.listen(BACKLOG)
        except OSError as error:
            sock.close()
            problem = "cannot serve metrics on %s: %s (trying again every %d s)" % (
                self.listen, error.strerror or error, REBIND_EVERY)
            if problem != self.problem:
                LOG.error("%s", problem)
            self.problem, self.retry_at = problem, self.clock() + REBIND_EVERY
            return False
        if self.problem:
            LOG.info("serving metrics on %s now", self.listen)
        self.problem, self.listener = None, sock
        self.prober.register(sock, select.EPOLLIN, self._accept)
        if self.renderer is None:
            self.renderer = Renderer(self.prober, self.render, self._deliver)
        return True

    def _accept(self, _mask):
        while True:
            try:
                sock, peer = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # out of descriptors, a reset before accept: this one is lost
                LOG.warning("metrics: accepting a connection failed: %s", error.strerror or error)
                return
            sock.setblocking(False)
            if len(self.clients) >= MAX_CONNECTIONS:
                sock.close()  # bounded: a flood of connections costs a close each, nothing more
                continue
            # a client outside the allow-list is answered 403 once its request is read (closing a
            # socket with unread bytes resets it, and the client might never see the answer)
            client = _Client(sock, self.clock() + CLIENT_TIMEOUT, allowed(self.networks, peer[0]))
            self.clients[sock.fileno()] = client
            self.prober.register(sock, select.EPOLLIN, lambda mask, c=client: self._read(c, mask))

    # -- one client -----------------------------------------------------------------------------

    def _read(self, client, _mask):
        try:
            data = client.sock.recv(4096 if client.waiting else MAX_REQUEST + 1 - len(client.received))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self._close(client)
        if not data:
            return self._close(client)
        if client.waiting:
            return None  # more bytes while its answer is being made: one answer per connection
        client.received += data
        end = client.received.find(b"\r\n\r\n")
        if end < 0:
            end = client.received.find(b"\n\n")
        if end < 0:
            if len(client.received) > MAX_REQUEST:
                self._answer(client, response(431, "Request Header Fields Too Large"))
            return None
        answer = self._respond(client, client.received[:end]) if client.allowed else \
            response(403, "Forbidden", b"not in antman_lb_metrics_allow\n")
        if answer is None:
            client.waiting = True  # answered by _deliver once the text is made
            self.renderer.want()
        else:
            self._answer(client, answer)
        return None

    def _respond(self, client, head):
        """The answer to a request, or None for the metrics (made by the Renderer)."""
        parts = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return response(400, "Bad Request")
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if method not in (b"GET", b"HEAD"):
            return response(405, "Method Not Allowed")
        if target != PATH.encode("ascii"):
            return response(404, "Not Found", b"the metrics are at %s\n" % PATH.encode("ascii"), head=method == b"HEAD")
        self.scrapes += 1
        client.head_only = method == b"HEAD"
        return None

    def _deliver(self, body):
        for client in [c for c in self.clients.values() if c.waiting]:
            client.waiting = False
            if body is None:
                self._answer(client, response(500, "Internal Server Error", b"see the agent's log\n"))
            else:
                self._answer(client, response(200, "OK", body, CONTENT_TYPE, head=client.head_only))

    def _answer(self, client, data):
        client.pending = memoryview(data)  # sent in pieces without copying the rest each time
        self.prober.unregister(client.sock)
        self.prober.register(client.sock, select.EPOLLOUT, lambda mask, c=client: self._write(c, mask))
        self._write(client, select.EPOLLOUT)

    def _write(self, client, _mask):
        try:
            sent = client.sock.send(client.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self._close(client)
        client.pending = client.pending[sent:]
        if not client.pending:
            try:
                client.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self._close(client)
        return None

    def _close(self, client):
        if self.clients.pop(client.sock.fileno(), None) is None:
            return
        try:
            self.prober.unregister(client.sock)
        except OSError:
            pass
        client.sock.close()

    # -- the agent's events ---------------------------------------------------------------------------

    def on_tick(self, now):
        """(the probe loop) Clients past their deadline closed; a listener that failed tried again."""
        for client in [c for c in self.clients.values() if now >= c.deadline]:
            self._close(client)
        if self.listener is None and now >= self.retry_at:
            self.open()

    def on_stop(self):
        for client in list(self.clients.values()):
            self._close(client)
        if self.renderer is not None:
            self.renderer.stop()
            self.renderer = None
        if self.listener is not None:
            self.prober.unregister(self.listener)
            self.listener.close()
            self.listener = None


def serve_metrics(agent, listen, allow=(), stub_status_url=None):
    """Give ``agent`` its metrics (an observer) and the endpoint on ``listen`` (started with the
    agent's loop); ``stub_status_url``: nginx's status page, for its counters. Returns the server."""
    stub = StubStatus(stub_status_url).start() if stub_status_url else None
    metrics = AgentMetrics(agent, stub)
    server = MetricsServer(agent.prober, listen, allow, metrics.render, clock=agent.clock)
    agent.observers.extend([metrics, server])
    if stub is not None:
        agent.observers.append(stub)
    server.open()
    return server
