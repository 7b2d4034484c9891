"""The health agent's /metrics on a real, private nginx with three antlets: scraped over loopback,
the text passes ``promtool check metrics``; a hung antlet's health, rotation, transitions and the
reload show in the next scrape; nginx's stub_status counters come with it; a client outside the
allow-list gets 403; the endpoint survives a client that sends nothing."""
import os
import socket
import subprocess
import time

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.exporter import MAX_CONNECTIONS
from ansible_collections.antsle.antman.tests.support.harness import Backend, NginxInstance, free_port
from ansible_collections.antsle.antman.tests.support.health_agent import AgentProcess

STATUS_CONF = "server {\n    listen 127.0.0.1:%d;\n    location = /nginx_status { stub_status; }\n}\n"


def scrape(port, source="127.0.0.1", path="/metrics", request=None):
    """(status, body) of a GET (or ``request``, bytes) from ``source`` (a loopback address of this machine)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as sock:
        sock.sendall(request or ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n" % path).encode("ascii"))
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode("utf-8")


def samples(text):
    """{'name{labels}': value} of an exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _sep, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def series(name, rule, upstream, **more):
    labels = [("rule", rule), ("upstream", upstream)] + sorted(more.items())
    return "%s{%s}" % (name, ",".join('%s="%s"' % pair for pair in labels))


class MetricsWorld:
    def __init__(self, directory):
        self.directory = str(directory)
        self.nginx = NginxInstance(os.path.join(self.directory, "nginx")).start()
        self.status_port = free_port()
        self.nginx.write_conf("status.conf", STATUS_CONF % self.status_port)
        self.antlets = [Backend("antlet%d" % i, "127.0.3.%d" % i, free_port()).start() for i in (1, 2, 3)]
        self.port = free_port()
        self.nginx.apply([{"name": "web", "server_name": "web.local", "server_port": self.port,
                           "upstreams": [{"address": a.address} for a in self.antlets]}])
        self.metrics_port = free_port()
        self.agent = AgentProcess(self.nginx, self.directory, metrics_listen="127.0.0.1:%d" % self.metrics_port,
                                  metrics_allow=["127.0.0.1"],
                                  stub_status_url="http://127.0.0.1:%d/nginx_status" % self.status_port).start()

    def close(self):
        self.agent.stop()
        for antlet in self.antlets:
            antlet.kill()
        self.nginx.stop()

    def wait(self, predicate, within):
        started = time.monotonic()
        while True:
            try:
                status, body = scrape(self.metrics_port)
            except OSError:
                status, body = None, ""
            if status == 200 and predicate(samples(body)):
                return body
            assert time.monotonic() - started < within, "%s\n%s" % (body, self.agent.log())
            time.sleep(0.1)


@pytest.fixture
def world(tmp_path):
    made = MetricsWorld(tmp_path)
    yield made
    made.close()


def promtool_check(text, tmp_path):
    path = tmp_path / "scrape.txt"
    path.write_text(text)
    with open(str(path)) as handle:
        checked = subprocess.run(["promtool", "check", "metrics"], stdin=handle, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    return checked.returncode, checked.stdout


def test_a_scrape_passes_promtool_and_shows_a_hung_antlet_taken_out(world, tmp_path):
    up = [series("antman_lb_upstream_healthy", "web", a.address) for a in world.antlets]
    body = world.wait(lambda s: all(s.get(name) == 1 for name in up) and s.get("antman_lb_nginx_up") == 1, 15)
    assert promtool_check(body, tmp_path) == (0, ""), body
    before = samples(body)
    hung = world.antlets[1]
    assert before[series("antman_lb_upstream_in_rotation", "web", hung.address)] == 1
    assert before['antman_lb_reloads_total{result="success"}'] == 0
    assert before["antman_lb_nginx_connections_accepted_total"] >= 1  # the agent's own reads of the status page
    assert before[series("antman_lb_probe_duration_seconds_count", "web", hung.address)] >= 2

    hung.hang()
    try:
        after = samples(world.wait(lambda s: s.get(series("antman_lb_upstream_in_rotation", "web", hung.address)) == 0, 10))
    finally:
        hung.resume()
    assert after[series("antman_lb_upstream_healthy", "web", hung.address)] == 0
    assert after[series("antman_lb_health_transitions_total", "web", hung.address, to="unhealthy")] == 1
    assert after[series("antman_lb_probes_total", "web", hung.address, result="failed")] >= 2
    assert after['antman_lb_reloads_total{result="success"}'] >= 1
    assert after["antman_lb_last_reload_success_timestamp_seconds"] > before["antman_lb_agent_start_time_seconds"]
    assert after['antman_lb_rule_fail_open{rule="web"}'] == 0
    healthy = world.antlets[0]
    assert after[series("antman_lb_upstream_healthy", "web", healthy.address)] == 1
    assert after[series("antman_lb_health_transitions_total", "web", healthy.address, to="unhealthy")] == 0


def test_outside_the_allow_list_a_client_gets_403_and_a_silent_client_stalls_nothing(world):
    world.wait(lambda s: s.get("antman_lb_agent_ready") == 1, 15)
    status, body = scrape(world.metrics_port, source="127.0.0.2")
    assert (status, body) == (403, "not in antman_lb_metrics_allow\n")
    assert scrape(world.metrics_port, path="/")[0] == 404
    assert scrape(world.metrics_port, request=b"HEAD /metrics HTTP/1.1\r\n\r\n") == (200, "")
    assert scrape(world.metrics_port, request=b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")[0] == 405
    assert scrape(world.metrics_port, request=b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000)[0] == 431
    # Clients that connect and send nothing hold a connection each (at most MAX_CONNECTIONS), not the probe loop.
    silent = [socket.create_connection(("127.0.0.1", world.metrics_port), timeout=5) for _n in range(MAX_CONNECTIONS - 1)]
    try:
        began = time.monotonic()
        count = samples(world.wait(lambda s: True, 5))[series("antman_lb_probes_total", "web", world.antlets[0].address, result="ok")]
        assert samples(world.wait(lambda s: s[series("antman_lb_probes_total", "web", world.antlets[0].address,
                                                     result="ok")] >= count + 2, 5))
        assert time.monotonic() - began < 5
    finally:
        for sock in silent:
            sock.close()
