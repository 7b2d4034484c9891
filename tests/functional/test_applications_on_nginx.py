"""Real applications (aiohttp: WebSockets, uploads, server-sent events) behind a rule with its
defaults, on a real nginx: what a new user gets without setting any option."""
import http.client
import json
import os
import socket
import subprocess
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from ansible_collections.antsle.antman.tests.support.app_clients import MB, post_bytes, sse_delays
from ansible_collections.antsle.antman.tests.support.harness import AppBackend, free_port, make_certificate
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import cmdline


@pytest.fixture
def apps():
    """Factory: apps(3) -> three aiohttp antlets on 127.0.3.1..3."""
    started = []

    def make(count, first=1):
        made = [AppBackend("app%d" % i, "127.0.3.%d" % i, free_port("127.0.3.%d" % i)).start()
                for i in range(first, first + count)]
        started.extend(made)
        return made

    yield make
    for app in started:
        app.kill()


def rule(port, *apps, **fields):
    return dict({"name": "app", "server_name": "app.local", "server_port": port,
                 "upstreams": [{"address": app.address} for app in apps]}, **fields)


def request(port, path, method="GET", body=None, headers=None, address="127.0.0.1", timeout=30.0):
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict({"Host": "app.local"}, **(headers or {})))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_websocket_handshake_and_echo_while_ordinary_requests_keep_upstream_keepalive(nginx, apps):
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app)])
    with connect("ws://127.0.0.1:%d/ws" % port, ping_interval=None, open_timeout=5) as ws:
        assert ws.response.status_code == 101
        assert ws.recv(timeout=5) == app.name
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=5) == b"\x00\x01binary"
    # ordinary requests, each on a client connection of its own, reuse kept-alive upstream
    # connections: at most one per nginx worker for sequential requests
    ports = set(request(port, "/conn")[1] for _attempt in range(10))
    assert len(ports) <= len(nginx.workers()), ports


def test_an_upgraded_connection_has_its_own_idle_timeout(nginx, apps):
    """Scaled down: read_timeout 1s bounds ordinary requests, websocket_timeout 3s the upgraded
    connection. Idle 2 s (past read_timeout) and it still echoes; idle past 3 s and nginx closes it."""
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app, read_timeout="1s", websocket_timeout="3s")])
    with connect("ws://127.0.0.1:%d/ws" % port, ping_interval=None, open_timeout=5) as ws:
        ws.recv(timeout=5)
        for _round in range(3):
            time.sleep(2.0)
            ws.send("still there")
            assert ws.recv(timeout=5) == "still there"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert 2.5 <= time.monotonic() - started <= 5.0
    assert request(port, "/")[0] == 200


def test_a_host_that_defines_connection_upgrade_itself_keeps_working(tmp_path, apps):
    """antMan's own nginx (and many hosts) define `map $http_upgrade $connection_upgrade`: the rules
    define no variable or map, so nginx loads both and both proxy WebSockets."""
    from ansible_collections.antsle.antman.tests.support.harness import NginxInstance
    nginx = NginxInstance(tmp_path / "nginx")
    (app,) = apps(1)
    own_port, port = free_port(), free_port()
    host_config = ("    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
                   "    server { listen %d; location / { proxy_pass http://%s; proxy_http_version 1.1;\n"
                   "        proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; } }\n"
                   % (own_port, app.address))
    with open(nginx.conf) as handle:
        text = handle.read().replace("http {\n", "http {\n" + host_config, 1)
    with open(nginx.conf, "w") as handle:
        handle.write(text)
    nginx.start()
    try:
        nginx.apply([rule(port, app)])
        for target in (own_port, port):
            with connect("ws://127.0.0.1:%d/ws" % target, ping_interval=None, open_timeout=5) as ws:
                assert ws.recv(timeout=5) == app.name
    finally:
        nginx.stop()


def post_file(port, size):
    status, answer, sent, _took = post_bytes(port, size)
    return status, answer, sent


def test_a_100_mb_upload_arrives_whole_and_the_limit_answers_413(nginx, apps):
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app)])
    status, answer, sent = post_file(port, 100 * MB)
    assert status == 200, answer[:200]
    assert json.loads(answer) == {"bytes": 100 * MB, "sha256": sent, "antlet": app.name}
    nginx.apply([rule(port, app, client_max_body_size="1m")])
    assert post_file(port, 2 * MB)[0] == 413
    nginx.apply([rule(port, app, client_max_body_size=0)])
    status, answer, sent = post_file(port, 2 * MB)
    assert status == 200 and json.loads(answer)["sha256"] == sent


def test_buffering_off_streams_the_upload_through(nginx, apps):
    """With buffering (the default) nginx reads a large body into a temporary file before sending
    it on (and says so in its error log); with buffering: false it streams it to the application."""
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app)])
    offset = os.path.getsize(nginx.error_log)
    assert post_file(port, 20 * MB)[0] == 200
    with open(nginx.error_log) as handle:
        assert "buffered to a temporary file" in handle.read()[offset:]
    nginx.apply([rule(port, app, buffering=False)])
    offset = os.path.getsize(nginx.error_log)
    status, answer, sent = post_file(port, 20 * MB)
    assert status == 200 and json.loads(answer)["sha256"] == sent
    with open(nginx.error_log) as handle:
        assert "buffered to a temporary file" not in handle.read()[offset:]


@pytest.mark.parametrize("buffering", [True, False])
def test_server_sent_events_arrive_as_they_are_sent(nginx, apps, buffering):
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app, buffering=buffering)])
    status, content_type, delays = sse_delays(port, 4, 1)
    assert (status, content_type, len(delays)) == (200, "text/event-stream", 4)
    assert max(delays) < 1.0, delays


def test_forwarded_headers_on_a_port_other_than_80(nginx, apps):
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app)])
    status, body = request(port, "/headers", headers={"Host": "app.local:%d" % port})
    seen = json.loads(body)
    assert status == 200
    assert seen["Host"] == seen["X-Forwarded-Host"] == "app.local:%d" % port
    assert seen["X-Forwarded-Port"] == str(port) and seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-For"] == seen["X-Real-IP"] == "127.0.0.1"


def test_ipv6_clients_are_served_unless_the_rule_says_otherwise(nginx, apps):
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app)])
    status, body = request(port, "/", address="::1")
    assert (status, body.decode().strip()) == (200, app.name)
    nginx.apply([rule(port, app, ipv6=False)])
    with pytest.raises(ConnectionRefusedError):
        request(port, "/", address="::1")
    assert request(port, "/")[0] == 200


def test_http2_is_negotiated_on_a_tls_rule(nginx, apps, tmp_path):
    (app,) = apps(1)
    port = free_port()
    paths = make_certificate(tmp_path, "app.local")
    tls = {"certificate": paths["certificate"], "key": paths["key"]}
    nginx.apply([rule(port, app, tls=tls)])

    def curl(*options):
        return subprocess.run(["curl", "-s", "--cacert", paths["ca"], "--resolve", "app.local:%d:127.0.0.1" % port,
                               "-o", "/dev/null", "-w", "%{http_code} %{http_version}"] + list(options)
                              + ["https://app.local:%d/" % port], stdout=subprocess.PIPE, universal_newlines=True,
                              check=False).stdout
    assert curl("--http2") == "200 2"
    assert curl("--http1.1") == "200 1.1"
    with connect("wss://app.local:%d/ws" % port, ping_interval=None, open_timeout=20, ssl=tls_context(paths["ca"]),
                 sock=socket.create_connection(("127.0.0.1", port))) as ws:
        assert ws.recv(timeout=5) == app.name  # WebSocket clients use HTTP/1.1 on a TLS rule with HTTP/2
    nginx.apply([rule(port, app, tls=tls, http2=False)])
    assert curl("--http2") == "200 1.1"


def tls_context(ca):
    import ssl
    return ssl.create_default_context(cafile=ca)


def test_all_primaries_killed_at_once_under_load_the_backup_answers_every_request(nginx, apps):
    """Weights 5/1/1 and a backup, the default tries: every request is answered while all three
    primaries are killed in the middle of the run."""
    primaries = apps(3)
    (backup,) = apps(1, first=4)
    port = free_port()
    upstreams = [{"address": a.address, "weight": w} for a, w in zip(primaries, (5, 1, 1))]
    nginx.apply([dict(rule(port), upstreams=upstreams + [{"address": backup.address, "backup": True}])])
    total, workers, results, lock = 800, 8, [], threading.Lock()
    started = threading.Event()

    def client():
        while True:
            with lock:
                if len(results) >= total:
                    return
                results.append(None)
                index = len(results) - 1
            if index == total // 4:
                started.set()
            try:
                status, body = request(port, "/", timeout=10)
                results[index] = (status, body.decode().strip())
            except (OSError, http.client.HTTPException) as error:
                results[index] = (0, repr(error))

    threads = [threading.Thread(target=client) for _worker in range(workers)]
    for thread in threads:
        thread.start()
    assert started.wait(30)
    for primary in primaries:
        primary.kill()
    for thread in threads:
        thread.join(60)
    failed = [r for r in results if r is None or r[0] != 200]
    assert len(results) == total and failed == [], failed[:5]
    answered = set(body for _status, body in results)
    assert backup.name in answered and primaries[0].name in answered


def test_hung_primaries_the_backup_answers_and_the_time_a_request_takes_is_bounded(nginx, apps):
    """Three primaries hang at once: with the defaults (scaled: read_timeout 1s) a request tries
    them all and the backup answers, within three tries' time; next_upstream_timeout cuts it short."""
    primaries = apps(3)
    (backup,) = apps(1, first=4)
    port = free_port()
    upstreams = [{"address": a.address} for a in primaries] + [{"address": backup.address, "backup": True}]
    nginx.apply([dict(rule(port), upstreams=upstreams, read_timeout="1s", max_fails=0)])
    for primary in primaries:
        primary.hang()
    started = time.monotonic()
    status, body = request(port, "/")
    took = time.monotonic() - started
    assert (status, body.decode().strip()) == (200, backup.name) and 2.9 <= took <= 4.0, took
    nginx.apply([dict(rule(port), upstreams=upstreams, read_timeout="1s", max_fails=0, next_upstream_timeout="1500ms")])
    started = time.monotonic()
    status, _body = request(port, "/")
    took = time.monotonic() - started
    assert status == 504 and 1.9 <= took <= 3.0, took


def test_websocket_connections_survive_a_reload_on_the_old_workers(nginx, apps):
    """A reload starts new workers; the old ones stop accepting but keep their upgraded
    connections (nginx has no worker_shutdown_timeout here) until those close, then exit."""
    (app,) = apps(1)
    port = free_port()
    nginx.apply([rule(port, app)])
    with connect("ws://127.0.0.1:%d/ws" % port, ping_interval=None, open_timeout=5) as ws:
        ws.recv(timeout=5)
        old_workers = nginx.workers()
        nginx.apply([rule(port, app, read_timeout="6s")])  # a change: nginx -t and a reload
        ws.send("after the reload")
        assert ws.recv(timeout=5) == "after the reload"
        assert shutting_down(old_workers), "an old worker should still hold the WebSocket"
        with connect("ws://127.0.0.1:%d/ws" % port, ping_interval=None, open_timeout=5) as fresh:
            assert fresh.recv(timeout=5) == app.name
    deadline = time.monotonic() + 10
    while shutting_down(old_workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not shutting_down(old_workers), "the old worker should exit once its WebSocket closed"


def shutting_down(pids):
    """Whether any of ``pids`` is an nginx worker that is shutting down."""
    return any("shutting down" in cmdline(pid) for pid in pids)
