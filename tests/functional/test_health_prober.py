"""The agent's prober against real sockets on loopback: what passes and what fails an http and a
tcp probe, in our own words, within the timeout; the request sent; probes every half interval
while in doubt, sooner for a target that usually answers fast; specs that go stop being probed;
connections kept for the next probes (and when not)."""
import socket
import threading
import time

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.prober import MAX_USES, Prober
from ansible_collections.antsle.antman.plugins.module_utils.health.targets import ProbeSpec
from ansible_collections.antsle.antman.tests.support.harness import free_port


class Server:
    """A listener on 127.0.0.1 whose connections get ``answer(connection)``; it records when each
    connection was accepted and what its first bytes were."""

    def __init__(self, answer):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port = free_port()
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        self.accepted, self.received, self.open = [], [], []
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def serve(self):
        while not self.stopping:
            try:
                connection, _peer = self.sock.accept()
            except OSError:
                return
            self.accepted.append(time.monotonic())
            self.open.append(connection)
            connection.settimeout(2)
            try:
                self.answer(self, connection)
            except OSError:
                pass

    def read_request(self, connection):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                break
            data += chunk
        self.received.append(data)
        return data

    def close(self):
        self.stopping = True
        self.sock.close()
        for connection in self.open:
            connection.close()


def answering(head):
    def answer(server, connection):
        server.read_request(connection)
        connection.sendall(head)
        connection.close()
    return answer


def silent(server, connection):
    server.read_request(connection)  # and never answers


def closing(server, connection):
    server.read_request(connection)
    connection.close()


@pytest.fixture
def servers():
    made = []

    def make(answer):
        made.append(Server(answer))
        return made[-1]
    yield make
    for server in made:
        server.close()


def probe(spec, count=1, within=5.0):
    """The first ``count`` results of ``spec``, with the monotonic time each came."""
    results = []
    prober = Prober(lambda spec_, result: results.append((time.monotonic(), result)))
    prober.update({spec.key: spec})
    deadline = time.monotonic() + within
    try:
        while len(results) < count:
            assert time.monotonic() < deadline, [r.detail for _t, r in results]
            prober.step(0.05)
    finally:
        prober.close()
    return results[:count]


def http(address, statuses=((200, 499),), interval=1.0, timeout=1.0, path="/health", host="web.local"):
    return ProbeSpec("http", address, interval, timeout, path, host, statuses)


@pytest.mark.parametrize("head, ok, detail", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True, "status 200"),
    (b"HTTP/1.0 404 Not Found\r\n\r\n", True, "status 404"),
    (b"HTTP/1.1 500 Internal Server Error\r\n\r\n", False, "status 500"),
    (b"HTTP/1.1 503 <script>alert(1)</script>\r\n\r\n", False, "status 503"),
    (b"SSH-2.0-OpenSSH_9.2\r\n", False, "not an HTTP/1 answer"),
    (b"HTTP/2 200\r\n\r\n", False, "not an HTTP/1 answer"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", False, "not an HTTP/1 answer"),
])
def test_an_http_probe_judges_the_status_line_only(servers, head, ok, detail):
    server = servers(answering(head))
    spec = http(server.address)
    ((_at, result),) = probe(spec)
    assert (result.ok, result.detail) == (ok, detail)
    assert server.received == [spec.request()]
    assert server.received[0].startswith(b"GET /health HTTP/1.1\r\nHost: web.local\r\n")


def test_a_probe_without_an_answer_fails_at_its_timeout(servers):
    server = servers(silent)
    ((at, result),) = probe(http(server.address, timeout=0.4))
    assert (result.ok, result.detail) == (False, "no answer within 400 ms")
    assert 0.35 <= at - server.accepted[0] <= 0.9 and 390 <= result.ms <= 900


def test_closed_without_answer_and_refused_are_failures(servers):
    ((_at, result),) = probe(http(servers(closing).address))
    assert (result.ok, result.detail) == (False, "connection closed without an answer")
    port = free_port()
    ((_at, result),) = probe(ProbeSpec("tcp", "127.0.0.1:%d" % port, 1.0, 1.0))
    assert (result.ok, result.detail) == (False, "connection failed: Connection refused")


def test_a_tcp_probe_passes_when_it_connects(servers):
    server = servers(silent)
    ((_at, result),) = probe(ProbeSpec("tcp", server.address, 1.0, 1.0))
    assert (result.ok, result.detail) == (True, "connected") and result.ms < 500


def test_host_names_are_looked_up(servers):
    server = servers(answering(b"HTTP/1.1 204 No Content\r\n\r\n"))
    ((_at, result),) = probe(http("localhost:%d" % server.port))
    assert result.detail == "status 204"
    ((_at, result),) = probe(http("no-such-host.invalid:80"))
    assert not result.ok and "no-such-host.invalid does not resolve" in result.detail


def test_in_doubt_a_target_is_probed_every_half_interval(servers):
    server = servers(silent)
    results = probe(http(server.address, interval=1.0, timeout=1.0), count=3, within=6)
    starts = server.accepted[:3]
    # the second probe starts half an interval after the first got no answer, not a whole one
    assert 0.4 <= starts[1] - starts[0] <= 0.7, starts
    # two failures come about one timeout and a half after the first probe began
    assert results[1][0] - starts[0] <= 1.8, (starts, [r[0] for r in results])


def hanging_after(count, delay=0.0):
    """Answers the first ``count`` probes after ``delay`` seconds, then none."""
    def answer(server, connection):
        server.read_request(connection)
        if len(server.accepted) <= count:
            time.sleep(delay)
            connection.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
            connection.close()
    return answer


@pytest.mark.parametrize("delay, doubt", [(0.0, (0.08, 0.3)), (0.3, (0.45, 0.7))], ids=["fast", "slow"])
def test_in_doubt_after_four_times_the_usual_answer_time(servers, delay, doubt):
    # a target that answered in ~1 ms and then hangs is in doubt after MIN_DOUBT (0.1 s); one that
    # usually takes 0.3 s after half an interval, as before any answer
    server = servers(hanging_after(3, delay))
    results = probe(http(server.address, interval=1.0, timeout=1.0), count=5, within=8)
    assert [r.ok for _at, r in results[:3]] == [True] * 3, [r.detail for _at, r in results]
    starts = server.accepted
    assert doubt[0] <= starts[4] - starts[3] <= doubt[1], starts
    # so a hung target fails twice about a timeout and that doubt after its first unanswered probe
    assert results[4][0] - starts[3] <= 1.0 + doubt[1] + 0.2, (starts, [at for at, _r in results])


def test_specs_that_go_stop_being_probed(servers):
    server = servers(answering(b"HTTP/1.1 200 OK\r\n\r\n"))
    spec = http(server.address, interval=0.2)
    results = []
    prober = Prober(lambda spec_, result: results.append(result))
    try:
        prober.update({spec.key: spec})
        while len(results) < 3:
            prober.step(0.05)
        prober.update({})
        count = len(server.accepted)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            prober.step(0.05)
        assert len(server.accepted) == count and prober.specs() == []
    finally:
        prober.close()


def keeping(answers):
    """Serves each connection in a thread of its own, keeping it open: the n-th request on it
    (from 0), the server's ``total``-th in all (from 1), gets ``answers(n, total)``: a list of byte
    strings sent one after another, or None to close the connection without an answer."""
    def serve(server, connection):
        count = 0
        try:
            while server.read_request(connection):
                parts = answers(count, len(server.received))
                if parts is None:
                    connection.close()
                    return
                for index, part in enumerate(parts):
                    time.sleep(0.01 if index else 0.0)
                    connection.sendall(part)
                count += 1
        except OSError:
            return  # the prober reset it, or the test ended

    def answer(server, connection):
        threading.Thread(target=serve, args=(server, connection), daemon=True).start()
    return answer


OK_KEPT = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", b"hello"]  # header and body apart, as nginx's sendfile


def test_a_passing_answer_keeps_its_connection_for_the_next_probes(servers):
    server = servers(keeping(lambda n, total: OK_KEPT))
    results = probe(http(server.address, interval=0.2), count=MAX_USES + 2, within=10)
    assert [r.ok for _at, r in results] == [True] * (MAX_USES + 2)
    # one connection carries MAX_USES probes, then a new one: connecting anew is checked too
    assert len(server.accepted) == 2 and len(server.received) >= MAX_USES + 2


def test_after_a_failure_the_next_probe_connects_anew(servers):
    server = servers(keeping(lambda n, total: [b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"] if total == 2 else OK_KEPT))
    results = probe(http(server.address, interval=0.2), count=4, within=10)
    assert [r.ok for _at, r in results] == [True, False, True, True]
    # the first connection carried probes 1 and 2 (the 500), the second probes 3 and 4
    assert len(server.accepted) == 2


def test_a_kept_connection_the_antlet_closed_gets_a_new_one_and_no_verdict(servers):
    # the first connection is closed when its second request comes (an idle timeout met the probe)
    server = servers(keeping(lambda n, total: None if total == 2 else OK_KEPT))
    results = probe(http(server.address, interval=0.2), count=4, within=10)
    assert [r.ok for _at, r in results] == [True] * 4, [r.detail for _at, r in results]
    assert len(server.accepted) == 2


def test_a_kept_connection_the_antlet_closes_while_idle_is_dropped_without_a_verdict(servers):
    # every answer says keep-alive, then the antlet closes the connection while it waits
    server = servers(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
    results = probe(http(server.address, interval=0.2), count=3, within=10)
    assert [r.ok for _at, r in results] == [True] * 3, [r.detail for _at, r in results]
    assert len(server.accepted) == 3 and len(server.received) == 3


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello",  # more than it said: not kept
], ids=["close", "chunked", "http1.0", "too-long"])
def test_an_answer_that_cannot_carry_the_next_probe_closes_its_connection(servers, head):
    server = servers(keeping(lambda n, total: [head]))
    results = probe(http(server.address, interval=0.2), count=3, within=10)
    assert [r.ok for _at, r in results] == [True] * 3
    assert len(server.accepted) == 3


def test_a_kept_connection_that_hangs_fails_within_the_same_bounds(servers):
    # answers twice on its first connection, then hangs there and on every new one
    server = servers(keeping(lambda n, total: OK_KEPT if total <= 2 else [b""]))
    results = probe(http(server.address, interval=1.0, timeout=1.0), count=4, within=8)
    assert [r.ok for _at, r in results] == [True, True, False, False], [r.detail for _at, r in results]
    hung = results[1][0] + 1.0  # about when the third probe began, on the kept connection
    assert results[3][0] - hung <= 1.0 + 0.3 + 0.3, [at - hung for at, _r in results]
