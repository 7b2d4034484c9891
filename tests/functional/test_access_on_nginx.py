"""Who may reach a rule, on a real nginx: allow_from, rate_limit, real_ip_from behind a trusted
proxy (X-Forwarded-For and PROXY protocol), proxy_protocol_upstream to a TCP antlet.

Clients bind their source address (127.0.0.2, 127.0.0.3, ... are all loopback) so that nginx
sees several clients on one machine.
"""
import http.client
import json
import socket
import socketserver
import threading
import time

import pytest

from ansible_collections.antsle.antman.tests.support.harness import AppBackend, EchoBackend, free_port

ALLOWED, OTHER, PROXY = "127.0.0.2", "127.0.0.3", "127.0.0.5"
# Documentation addresses (RFC 5737): clients "on the internet" that a proxy forwards for.
CLIENT, STRANGER = "198.51.100.7", "203.0.113.9"


def request(port, source, path="/", headers=None, connection=None):
    """One GET from ``source``: (status, headers, body text). ``connection`` is reused when given."""
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", path, headers=dict({"Host": "web.local"}, **(headers or {})))
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
    finally:
        if own:
            connection.close()


def tcp_exchange(port, source, prefix=b""):
    """Connect from ``source`` (sending ``prefix`` first), read the echo antlet's greeting line:
    its name, or None when nginx closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as sock:
        try:
            sock.sendall(prefix)
            line = sock.makefile("rb").readline()
        except ConnectionResetError:
            return None
        return line.decode().strip() or None


def access_log_clients(nginx):
    """The client address of every line of the access log (its first field), in order."""
    with open(nginx.access_log) as handle:
        return [line.split(" ", 1)[0] for line in handle if line.strip()]


@pytest.fixture
def app(tmp_path):
    started = []

    def make():
        host = "127.0.1.1"
        backend = AppBackend("antlet1", host, free_port(host)).start()
        started.append(backend)
        return backend
    yield make
    for backend in started:
        backend.kill()


@pytest.fixture
def echo():
    started = []

    def make():
        host = "127.0.2.1"
        backend = EchoBackend("echo1", host, free_port(host), "tcp").start()
        started.append(backend)
        return backend
    yield make
    for backend in started:
        backend.kill()


def web_rule(port, antlet, **fields):
    return dict({"name": "web", "server_name": "web.local", "server_port": port, "upstreams": [{"address": antlet.address}]},
                **fields)


def test_allow_from_serves_the_listed_client_and_refuses_another_with_403(nginx, app):
    antlet, port = app(), free_port()
    nginx.apply([web_rule(port, antlet, allow_from=[ALLOWED, "10.0.0.0/8"])])
    assert request(port, ALLOWED)[0] == 200
    assert request(port, OTHER)[0] == 403


def test_allow_from_on_a_tcp_rule_closes_the_connection_of_another_client(nginx, echo):
    antlet, port = echo(), free_port()
    nginx.apply([{"name": "ssh", "protocol": "tcp", "server_port": port, "upstreams": [{"address": antlet.address}],
                  "allow_from": [ALLOWED]}])
    assert tcp_exchange(port, ALLOWED) == "echo1"
    assert tcp_exchange(port, OTHER) is None


def test_rate_limit_serves_rate_plus_burst_and_answers_429_with_retry_after(nginx, app):
    """100 requests spread over one second from one client, 10 r/s with burst 5: the first one, the
    burst and one every 100 ms are served (about 15), the rest get 429; another client is not affected."""
    antlet, port = app(), free_port()
    nginx.apply([web_rule(port, antlet, rate_limit={"requests_per_second": 10, "burst": 5})])
    statuses, retry_after = [], set()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(ALLOWED, 0))
    start = time.monotonic()
    for index in range(100):
        # paced, not a burst: the count depends on the time the requests took, which is measured below
        time.sleep(max(0.0, start + index * 0.01 - time.monotonic()))
        status, headers, _body = request(port, ALLOWED, connection=connection)
        statuses.append(status)
        if status == 429:
            retry_after.add(headers.get("Retry-After"))
    elapsed = time.monotonic() - start
    connection.close()
    served = statuses.count(200)
    # nginx's leaky bucket: 1 + burst at once, then one per 1/rate s of the elapsed time
    expected = 1 + 5 + int(elapsed * 10)
    print("rate_limit: %d served, %d refused with 429 in %.3f s (expected about %d)"
          % (served, statuses.count(429), elapsed, expected))
    assert set(statuses) == {200, 429}
    assert expected - 2 <= served <= expected + 1, (served, elapsed)
    assert retry_after == {"1"}
    assert [request(port, OTHER)[0] for _request in range(5)] == [200] * 5


def test_rate_limit_on_a_tcp_rule_closes_connections_beyond_the_limit(nginx, echo):
    antlet, port = echo(), free_port()
    nginx.apply([{"name": "ssh", "protocol": "tcp", "server_port": port, "upstreams": [{"address": antlet.address}],
                  "rate_limit": {"connections": 2}}])
    held = []
    try:
        for _connection in range(2):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(ALLOWED, 0))
            held.append(sock)
            assert sock.makefile("rb").readline().strip() == b"echo1"
        assert tcp_exchange(port, ALLOWED) is None  # a third from the same client
        assert tcp_exchange(port, OTHER) == "echo1"  # another client has its own count
    finally:
        for sock in held:
            sock.close()


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(nginx, app):
    """From the trusted proxy, X-Forwarded-For decides the allow-list, X-Real-IP and the log; from
    an untrusted source the same header is ignored."""
    antlet, port = app(), free_port()
    nginx.apply([web_rule(port, antlet, allow_from=[CLIENT], real_ip_from=[PROXY])])
    status, _headers, body = request(port, PROXY, "/headers", {"X-Forwarded-For": CLIENT})
    assert status == 200
    forwarded = json.loads(body)
    assert forwarded["X-Real-IP"] == CLIENT
    assert request(port, PROXY, "/", {"X-Forwarded-For": STRANGER})[0] == 403
    # a chain: the last address that is not a trusted proxy counts, not what the client put first
    assert request(port, PROXY, "/", {"X-Forwarded-For": "%s, %s" % (CLIENT, STRANGER)})[0] == 403
    assert request(port, OTHER, "/", {"X-Forwarded-For": CLIENT})[0] == 403  # spoofed
    assert request(port, OTHER, "/", {"X-Real-IP": CLIENT, "X-Forwarded-For": "%s, %s" % (CLIENT, PROXY)})[0] == 403
    assert access_log_clients(nginx)[-5:] == [CLIENT, STRANGER, STRANGER, OTHER, OTHER]


class FirstLineHandler(socketserver.StreamRequestHandler):
    """Answers ``got <the connection's first line>`` (where a PROXY header arrives)."""

    def handle(self):
        self.wfile.write(b"got " + self.rfile.readline())


class ProxyHeaderServer(socketserver.ThreadingTCPServer):
    """A TCP antlet that shows what arrived first on each connection: the PROXY header."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address):
        socketserver.ThreadingTCPServer.__init__(self, address, FirstLineHandler)


@pytest.fixture
def proxy_header_server():
    server = ProxyHeaderServer(("127.0.2.9", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_proxy_protocol_upstream_tells_the_antlet_the_client_address(nginx, proxy_header_server):
    port = free_port()
    address = "%s:%d" % proxy_header_server.server_address
    nginx.apply([{"name": "ssh", "protocol": "tcp", "server_port": port, "upstreams": [{"address": address}],
                  "proxy_protocol_upstream": True}])
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(ALLOWED, 0)) as sock:
        client_port = sock.getsockname()[1]
        line = sock.makefile("rb").readline()
    assert line == b"got PROXY TCP4 %s 127.0.0.1 %d %d\r\n" % (ALLOWED.encode(), client_port, port)


def test_proxy_protocol_from_a_trusted_proxy_gives_the_client_address_end_to_end(nginx, proxy_header_server):
    """A load balancer in front sends PROXY protocol: its header names the client, which the
    allow-list checks and the antlet is told."""
    port = free_port()
    address = "%s:%d" % proxy_header_server.server_address
    nginx.apply([{"name": "ssh", "protocol": "tcp", "server_port": port, "upstreams": [{"address": address}],
                  "proxy_protocol": True, "real_ip_from": [PROXY], "allow_from": [CLIENT],
                  "proxy_protocol_upstream": True}])
    header = b"PROXY TCP4 %s 192.0.2.1 40000 22\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(PROXY, 0)) as sock:
        sock.sendall(header % CLIENT.encode())
        line = sock.makefile("rb").readline()
    assert line.startswith(b"got PROXY TCP4 %s " % CLIENT.encode()), line
    assert tcp_exchange(port, PROXY, header % STRANGER.encode()) is None  # not on the allow-list
    assert tcp_exchange(port, OTHER, header % CLIENT.encode()) is None  # untrusted: its own address counts
