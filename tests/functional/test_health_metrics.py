"""The health agent's /metrics on a real, private nginx with three antlets: scraped over loopback,
the text passes ``promtool check metrics``; a hung antlet's health, rotation, transitions and the
reload show in the next scrape; nginx's stub_status counters come with it; a client outside the
allow-list gets 403; the endpoint survives a client that sends nothing.

The access log, written in the log_format the role's template renders
(roles/load_balancer/templates/antman.conf.j2, copied from the file): /metrics counts the requests per
rule, upstream and status class (hostile requests included), a failover when an antlet is gone, 5xx
answers, and goes on counting after logrotate's rename and nginx's reopen; the status file (what
lb_rule_info and the rule table read) carries each upstream's requests per second and 5xx share."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.exporter import MAX_CONNECTIONS
from ansible_collections.antsle.antman.plugins.module_utils.health.status import read_status, status_path, upstream_health
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.tests.support.harness import Backend, NginxInstance, free_port
from ansible_collections.antsle.antman.tests.support.health_agent import AgentProcess
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION
from ansible_collections.antsle.antman.tests.support.traffic import get

# as the role's status page: not in the access log (the agent reads it every 5 s)
STATUS_CONF = "server {\n    listen 127.0.0.1:%d;\n    access_log off;\n    location = /nginx_status { stub_status; }\n}\n"
TEMPLATE = os.path.join(COLLECTION, "roles", "load_balancer", "templates", "antman.conf.j2")
FORMAT_NAME = "antman_upstream"  # the role's antman_lb_log_format_name


def role_log_format():
    """The role's log_format statement, as its template renders it."""
    with open(TEMPLATE) as handle:
        text = handle.read()
    statement = re.search(r"^log_format \{\{ antman_lb_log_format_name \}\} .*?';$", text, re.M | re.S).group(0)
    return statement.replace("{{ antman_lb_log_format_name }}", FORMAT_NAME)


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
        self.log = os.path.join(self.directory, "antman_access.log")
        self.nginx.write_conf("zz-log.conf", "%s\naccess_log %s %s;\n" % (role_log_format(), self.log, FORMAT_NAME))
        self.broken = os.path.join(self.directory, "broken")  # while it exists, the antlets answer 500
        self.antlets = [Backend("antlet%d" % i, "127.0.3.%d" % i, free_port(), broken=self.broken).start()
                        for i in (1, 2, 3)]
        self.port = free_port()
        self.rule = {"name": "web", "server_name": ["web.local", "www.web.local"], "server_port": self.port,
                     "upstreams": [{"address": a.address} for a in self.antlets]}
        self.nginx.apply([self.rule])
        self.metrics_port = free_port()
        self.agent = AgentProcess(self.nginx, self.directory, metrics_listen="127.0.0.1:%d" % self.metrics_port,
                                  metrics_allow=["127.0.0.1"],
                                  stub_status_url="http://127.0.0.1:%d/nginx_status" % self.status_port,
                                  access_log=self.log).start()

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

    def counted(self, predicate, within):
        """The samples of the first scrape whose samples meet ``predicate``."""
        return samples(self.wait(predicate, within))

    def requests(self, count, host="web.local"):
        return [get(self.port, host)[0] for _n in range(count)]

    def raw(self, request):
        """The status line of nginx's answer to ``request`` (bytes, sent as they are)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(request)
            return sock.makefile("rb").readline()


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


def tries(upstream, code):
    return 'antman_lb_upstream_requests_total{rule="web",upstream="%s",code="%s"}' % (upstream, code)


FAKE_FIELDS = b' 200 1 rt=0 upstream=6.6.6.6:80 upstream_status=200 upstream_connect=0 upstream_time=0 server=x:1'
HOSTILE = [  # a client's text that looks like the trailing fields, quotes and control bytes
    b'GET /"' + FAKE_FIELDS + b' HTTP/1.1\r\nHost: web.local\r\nConnection: close\r\n\r\n',
    b'GET /a"b"?c=%22 HTTP/1.1\r\nHost: web.local"' + FAKE_FIELDS.replace(b" ", b"") + b'\r\nConnection: close\r\n\r\n',
    b'GET /\x01\x7f\xff HTTP/1.1\r\nHost: web.local\r\nConnection: close\r\n\r\n',
]


def test_the_agent_counts_what_nginx_logs_in_the_role_s_format(world):
    world.counted(lambda s: 'antman_lb_access_log_lines_total{result="counted"}' in s, 15)
    assert set(world.requests(60)) == {200}
    assert set(world.requests(3, host="www.web.local")) == {200}
    answers = [world.raw(request) for request in HOSTILE]
    assert all(answer.startswith(b"HTTP/1.1 ") for answer in answers), answers
    answered = ['antman_lb_requests_total{rule="web",code="%s"}' % code for code in ("2xx", "4xx")]
    found = world.counted(lambda s: sum(s.get(name, 0) for name in answered) == 63 + len(HOSTILE), 10)
    proxied = found['antman_lb_requests_total{rule="web",code="2xx"}']  # nginx refuses some of the hostile ones (400)
    assert proxied >= 63
    assert sum(found.get(tries(a.address, "2xx"), 0) for a in world.antlets) == proxied
    assert all(found.get(tries(a.address, "2xx"), 0) >= 21 for a in world.antlets)  # round robin: 21 each, at least
    assert found['antman_lb_upstream_response_seconds_count{rule="web",upstream="%s"}' % world.antlets[0].address] >= 21
    assert not any("6.6.6.6" in name or 'rule="x' in name for name in found)
    assert found['antman_lb_failover_requests_total{rule="web"}'] == 0
    assert found['antman_lb_access_log_lines_total{result="unparsed"}'] == 0
    assert found['antman_lb_access_log_lines_total{result="other_server"}'] == 0

    # an antlet whose server is gone: nginx tries the next one, once, then holds it out (max_fails)
    world.antlets[0].kill()
    assert set(world.requests(6)) == {200}
    found = world.counted(lambda s: s.get('antman_lb_failover_requests_total{rule="web"}', 0) >= 1, 10)
    assert found[tries(world.antlets[0].address, "5xx")] >= 1
    assert found['antman_lb_requests_total{rule="web",code="2xx"}'] == proxied + 6

    # 5xx answers of the antlets
    open(world.broken, "w").close()
    assert set(world.requests(4)) == {500}
    found = world.counted(lambda s: s.get('antman_lb_requests_total{rule="web",code="5xx"}') == 4, 10)
    assert sum(found.get(tries(a.address, "5xx"), 0) for a in world.antlets[1:]) == 4


def test_it_follows_logrotate_and_writes_the_traffic_into_the_status_file(world):
    world.counted(lambda s: 'antman_lb_access_log_lines_total{result="counted"}' in s, 15)
    assert set(world.requests(9)) == {200}
    world.counted(lambda s: s.get('antman_lb_requests_total{rule="web",code="2xx"}') == 9, 10)
    os.rename(world.log, world.log + ".1")  # logrotate's create: rename, then tell nginx to reopen
    assert set(world.requests(3)) == {200}  # written to the renamed file
    os.kill(world.nginx.master_pid(), signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not os.path.exists(world.log):
        assert time.monotonic() < deadline, "nginx did not reopen its log"
        time.sleep(0.05)
    assert set(world.requests(6)) == {200}  # written to the new file
    world.counted(lambda s: s.get('antman_lb_requests_total{rule="web",code="2xx"}') == 18, 15)

    # the window of the status file: a few seconds after the agent's start, every upstream had traffic
    rule = normalize_rule(world.rule)
    deadline = time.monotonic() + 20
    while True:
        health = upstream_health({"web": rule}, Verdicts(), read_status(status_path(world.nginx.rules_dir)))
        figures = [health["web"][a.address]["traffic"] for a in world.antlets]
        if all(f["requests_per_second"] for f in figures):
            break
        assert time.monotonic() < deadline, figures
        time.sleep(0.5)
    assert all(f["errors_5xx_share"] == 0.0 and f["unavailable"] is None for f in figures), figures
    assert all(0 < f["window_seconds"] <= 60 for f in figures)
