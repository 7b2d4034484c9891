"""Upstream probes: a TCP connect from the antsle host, all at once; the health check of one
address (TCP or HTTP probes, passes in a row, the schedule and the timeout)."""
import http.server
import socket
import threading

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.probe import (
    health_gate, http_check, probe_addresses, split_address, tcp_check)


def test_split_address():
    assert split_address("10.0.0.1:80") == ("10.0.0.1", 80) and split_address("[2001:db8::1]:8080") == ("2001:db8::1", 8080)


def test_open_and_closed_ports():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    open_address = "127.0.0.1:%d" % listener.getsockname()[1]
    closed_address = "127.0.0.1:%d" % closed.getsockname()[1]
    closed.close()
    try:
        results = probe_addresses([open_address, closed_address, open_address], 1.0)
    finally:
        listener.close()
    assert sorted(results) == sorted([open_address, closed_address])
    assert results[open_address]["reachable"] and results[open_address]["connect_ms"] >= 0
    assert not results[closed_address]["reachable"] and "refused" in results[closed_address]["probe_error"].lower()
    assert probe_addresses([], 1.0) == {}


# --- the health check -------------------------------------------------------------------------------


class Answers(http.server.BaseHTTPRequestHandler):
    """GET /status/NNN answers NNN; records the request lines and Host headers it got."""
    seen = []

    def do_GET(self):
        Answers.seen.append((self.requestline, self.headers.get("Host"), self.headers.get("User-Agent")))
        status = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/status/") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Answers.seen = []
    yield "127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_check_status_ranges_and_request(http_server):
    assert http_check(http_server, "/status/204", [(200, 299)], 2.0) == {"ok": True, "status": 204, "error": None}
    assert http_check(http_server, "/status/302", [(200, 299)], 2.0) == {"ok": False, "status": 302, "error": "status 302"}
    assert http_check(http_server, "/status/503", [(200, 200), (500, 503)], 2.0)["ok"]
    line, host, agent = Answers.seen[0]
    assert line == "GET /status/204 HTTP/1.1" and host == http_server and "antsle.antman" in agent


def test_http_and_tcp_check_of_nothing_listening():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    address = "127.0.0.1:%d" % closed.getsockname()[1]
    closed.close()
    for result in (http_check(address, "/", [(200, 399)], 1.0), tcp_check(address, 1.0)):
        assert result["ok"] is False and result["status"] is None and "refused" in result["error"].lower()


def test_http_check_of_something_that_is_not_http():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer_garbage():
        conn, _peer = listener.accept()
        conn.recv(1024)
        conn.sendall(b"SSH-2.0-OpenSSH\r\n")
        conn.close()
    threading.Thread(target=answer_garbage, daemon=True).start()
    try:
        result = http_check("127.0.0.1:%d" % listener.getsockname()[1], "/", [(200, 399)], 2.0)
    finally:
        listener.close()
    assert result["ok"] is False and result["status"] is None and result["error"]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0
        self.now += seconds


def scripted(clock, outcomes, takes=0.01):
    """A check that returns the outcomes in turn, each taking ``takes`` seconds; records its timeouts."""
    outcomes = list(outcomes)
    timeouts = []

    def check(timeout):
        timeouts.append(timeout)
        clock.now += takes
        ok = outcomes.pop(0)
        return {"ok": ok, "status": None, "error": None if ok else "connection refused"}
    return check, timeouts


def test_health_gate_needs_passes_in_a_row():
    clock = Clock()
    check, timeouts = scripted(clock, [True, False, True, True, True])
    passed, probes = health_gate(check, 3, 1.0, 60, clock=clock, sleep=clock.sleep)
    assert passed and [p["ok"] for p in probes] == [True, False, True, True, True]
    assert [p["at"] for p in probes] == [0.0, 1.0, 2.0, 3.0, 4.0] and probes[0]["ms"] == 10.0
    assert timeouts == [5.0] * 5


def test_health_gate_fails_after_the_timeout_probing_until_its_end():
    clock = Clock()
    check, timeouts = scripted(clock, [False] * 10)
    passed, probes = health_gate(check, 2, 1.0, 3.0, clock=clock, sleep=clock.sleep)
    assert not passed and [p["at"] for p in probes] == [0.0, 1.0, 2.0, 3.0]
    assert timeouts[-1] == pytest.approx(0.05)  # the last probe has (almost) nothing left: the floor


def test_health_gate_slow_probes_skip_the_slots_they_overran():
    clock = Clock()
    check, timeouts = scripted(clock, [False, False, True], takes=2.5)
    passed, probes = health_gate(check, 1, 1.0, 10.0, clock=clock, sleep=clock.sleep)
    assert passed and [p["at"] for p in probes] == [0.0, 3.0, 6.0]
