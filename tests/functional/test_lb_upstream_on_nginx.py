"""lb_upstream against a real nginx under continuous load, run as Ansible runs a module.

Two http rules share antlet1 (and two more antlets); an open-loop client sends GETs to both rules
at a steady rate throughout. Failures are counted as a browser-like client counts them
(bench/loadclient.py: an idempotent request whose reused keep-alive connection nginx closed before
any response byte, as it does to old workers' idle connections at a reload, is retried once on a new
connection); the raw count is asserted to be what reloads explain.

Who got which request is read from two independent sources: each backend's own event log (the
machine's monotonic clock: when each nginx connection opened and closed, when each request
arrived) and nginx's access log (the upstream, and the pid of the worker that served it: requests
served by workers started at the reload ran with the new configuration).
"""
import json
import re
import socket
import threading
import time

import pytest

from ansible_collections.antsle.antman.bench.loadclient import CLOSED, BackgroundLoad, Target
from ansible_collections.antsle.antman.tests.support.fault_tools import run_module
from ansible_collections.antsle.antman.tests.support.harness import Backend, EchoBackend, free_port, get

RATE = 120  # GETs per second on each of the two rules
ACCESS_RE = re.compile(r'^\S+ "(?P<host>[^"]*)" "[^"]*" (?P<status>\d+) upstream=(?P<upstream>.*?) '
                       r'upstream_status=.* pid=(?P<pid>\d+) ')


def module_args(nginx, **args):
    return dict(args, rules_dir=nginx.rules_dir, nginx_conf=nginx.conf, nginx_binary=nginx.binary)


def timed_module(nginx, **args):
    """(result, started, ended) of one lb_upstream run, on the monotonic clock."""
    started = time.monotonic()
    result = run_module("lb_upstream", module_args(nginx, **args))
    return result, started, time.monotonic()


def access_lines(nginx):
    lines = []
    with open(nginx.access_log) as handle:
        for line in handle:
            match = ACCESS_RE.match(line)
            if match:
                lines.append(dict(match.groupdict(), pid=int(match.group("pid"))))
    return lines


def open_at(events, moment):
    """nginx connections the backend still had open at ``moment``, from its own log."""
    opened = sum(1 for when, event, _peer, _path in events if event == "open" and when <= moment)
    closed = sum(1 for when, event, _peer, _path in events if event == "close" and when <= moment)
    return opened - closed


def wait_for(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.02)


def warning_texts(result):
    """The module's warnings as text (ansible-core 2.19 returns them as structured events)."""
    return [w if isinstance(w, str) else w.get("event", {}).get("msg", "") for w in result.get("warnings", [])]


def failures(records):
    return [r for r in records if r.failed]


@pytest.fixture
def antlets(tmp_path):
    started = []

    def make(count):
        for index in range(1, count + 1):
            host = "127.0.1.%d" % index
            started.append(Backend("antlet%d" % index, host, free_port(host), log=tmp_path / ("antlet%d.log" % index)).start())
        return started
    yield make
    for backend in started:
        backend.kill()


def test_maintenance_of_a_shared_antlet_under_load(nginx, antlets):
    a1, a2, a3 = antlets(3)
    shop_port, blog_port = free_port(), free_port()
    nginx.apply([
        {"name": "shop", "server_name": "shop.local", "server_port": shop_port,
         "upstreams": [{"address": a.address} for a in (a1, a2, a3)]},
        {"name": "blog", "server_name": "blog.local", "server_port": blog_port,
         "upstreams": [{"address": a1.address}, {"address": a2.address}]},
    ])
    load = BackgroundLoad([Target("127.0.0.1", shop_port, "shop.local"), Target("127.0.0.1", blog_port, "blog.local")],
                          RATE).start()
    try:
        wait_for(lambda: sum(1 for e in a1.events() if e[1] == "request") >= 100, what="load reaching antlet1")

        # 1. Disable with drain, while a slow request (3 s) is in flight on antlet1.
        answers, slow = [], []

        def slow_on_antlet1():
            return any(e[3] == "/delay/3" for e in a1.events() if e[1] == "request")
        # Round robin under load decides where each one goes: slow requests are sent, one every
        # 0.1 s, until antlet1 has one (at most 12).
        while not slow_on_antlet1() and len(slow) < 12:
            slow.append(threading.Thread(target=lambda: answers.append(get(shop_port, "shop.local", "/delay/3"))))
            slow[-1].start()
            deadline = time.monotonic() + 0.1
            while time.monotonic() < deadline and not slow_on_antlet1():
                time.sleep(0.01)
        wait_for(slow_on_antlet1, what="slow request on antlet1")
        workers_before = set(nginx.workers())
        result, began, returned = timed_module(nginx, address=a1.address, state="disabled", timeout=30)
        disabled_workers = set(nginx.workers()) - workers_before  # started by its reload
        assert not result.get("failed"), result
        assert result["changed"] and result["rules"] == ["blog", "shop"] and result["reloaded"]
        assert result["connections_left"] == 0
        # the slow request had most of its 3 s to go at the reload: the module waited for it
        assert result["drained_in"] > 1.0, result
        for thread in slow:
            thread.join()
        assert len(answers) == len(slow) and set(status for status, _body in answers) == {200} and (200, "antlet1") in answers
        events = a1.events()
        last_close = max(when for when, event, _peer, _path in events if event == "close")
        assert open_at(events, returned) == 0, "nginx still had connections to antlet1 when the module returned"
        assert last_close <= returned and returned - last_close < 1.5, (last_close, returned)

        # 2. Enable while antlet1's application is stopped: refused after the timeout, nothing changes.
        files = nginx.snapshot_files()
        a1.kill()
        result, began, ended = timed_module(nginx, address=a1.address, state="enabled", timeout=3, health_interval=0.5)
        assert result.get("failed") and "did not pass the health check (TCP connect) 2 times in a row within 3 s" in result["msg"]
        assert ended - began >= 3.0 and len(result["health"]) == 7 and not any(p["ok"] for p in result["health"])
        assert nginx.snapshot_files() == files and not result["changed"]

        # 3. Its application back: enabled, and it gets its share again.
        a1.start()
        workers_disabled = set(nginx.workers())
        result, began, enabled = timed_module(nginx, address=a1.address, state="enabled", health_interval=0.2)
        assert not result.get("failed"), result
        assert result["changed"] and result["rules"] == ["blog", "shop"] and [p["ok"] for p in result["health"]] == [True, True]
        workers_enabled = set(nginx.workers()) - workers_disabled  # started by the enable's reload
        wait_for(lambda: sum(1 for line in access_lines(nginx) if line["pid"] in workers_enabled) >= 4 * RATE,
                 timeout=20, what="two seconds of load after the enable")
    finally:
        records = load.stop()

    lines = access_lines(nginx)
    # No request that the workers started by the disable's reload served went to antlet1; and
    # antlet1 itself saw no request after the module returned.
    assert len(disabled_workers) == 2 and len(workers_enabled) == 2
    served_disabled = [line for line in lines if line["pid"] in disabled_workers]
    assert len(served_disabled) > RATE, "too few requests served while antlet1 was out to show anything"
    assert not [line for line in served_disabled if a1.address in line["upstream"]]
    assert not [e for e in events if e[1] == "request" and e[0] > returned]
    assert not [e for e in a1.events() if e[1] == "request" and returned < e[0] < enabled - 0.5]
    # Back in: its share of what the workers of the enable's reload served (round robin, shared zone).
    for host, share in (("shop.local", 1.0 / 3), ("blog.local", 1.0 / 2)):
        after = [line for line in lines if line["pid"] in workers_enabled and line["host"] == host]
        mine = sum(1 for line in after if line["upstream"] == a1.address)
        assert abs(mine / float(len(after)) - share) < 0.08, (host, mine, len(after))
    for target_records in records:
        assert len(target_records) > 5 * RATE
        assert failures(target_records) == [], [(r.start, r.outcome) for r in failures(target_records)][:10]
        # what the browser-like retry saved were requests caught by a reload closing the connection
        assert set(r.raw for r in target_records if r.raw_failed) <= set([CLOSED])


def test_a_tcp_session_that_outlives_the_timeout_is_reported_never_cut(nginx, tmp_path):
    e1, e2 = [EchoBackend("echo%d" % i, "127.0.1.%d" % i, free_port("127.0.1.%d" % i), "tcp").start() for i in (1, 2)]
    try:
        port = free_port()
        nginx.apply([{"name": "ssh", "protocol": "tcp", "server_port": port,
                      "upstreams": [{"address": e1.address}, {"address": e2.address}]}])
        sessions = []
        while not any(name == "echo1" for name, _sock in sessions):  # round robin: at most two
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sessions.append((sock.makefile("rwb").readline().decode().strip(), sock))
        (session,) = [sock for name, sock in sessions if name == "echo1"]
        result, began, ended = timed_module(nginx, address=e1.address, state="disabled", timeout=2)
        assert not result.get("failed") and result["changed"] and result["rules"] == ["ssh"]
        assert result["drained_in"] is None and result["connections_left"] == 1 and ended - began >= 2.0
        assert any("nginx still has 1 connection to it after 2 s" in w for w in warning_texts(result)), result
        session.sendall(b"still there?\n")
        assert session.makefile("rb").readline() == b"still there?\n"  # the old worker keeps the session
        newcomers = []
        for _index in range(4):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                newcomers.append(sock.makefile("rb").readline().decode().strip())
        assert newcomers == ["echo2"] * 4
        for _name, sock in sessions:
            sock.close()
        result, began, ended = timed_module(nginx, address=e1.address, state="disabled", timeout=10)
        assert not result["changed"] and result["connections_left"] == 0 and result["drained_in"] < 2.0, result
    finally:
        e1.kill()
        e2.kill()


def test_check_mode_and_a_second_run_on_real_nginx(nginx, antlets):
    a1, a2 = antlets(2)
    port = free_port()
    nginx.apply([{"name": "web", "server_name": "web.local", "server_port": port,
                  "upstreams": [{"address": a1.address}, {"address": a2.address}]}])
    workers, files = nginx.workers(), nginx.snapshot_files()
    check = run_module("lb_upstream", module_args(nginx, address=a2.address, state="disabled", _ansible_check_mode=True,
                                                  _ansible_diff=True))
    assert check["changed"] and check["rules"] == ["web"] and check["drained_in"] is None
    assert nginx.snapshot_files() == files and nginx.workers() == workers
    assert json.dumps(check["diff"][0]["after"]).count(" down;") == 1
    real = run_module("lb_upstream", module_args(nginx, address=a2.address, state="disabled"))
    assert real["rules"] == check["rules"] and real["connections_left"] == 0
    assert [get(port, "web.local")[1] for _index in range(6)] == ["antlet1"] * 6
    again = run_module("lb_upstream", module_args(nginx, address=a2.address, state="disabled"))
    assert not again["changed"] and not again["reloaded"]
