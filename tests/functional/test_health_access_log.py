"""The health agent's traffic figures from a real nginx's access log, written in the log_format the
role's template renders (roles/load_balancer/templates/antman.conf.j2, copied from the file): the
agent's /metrics counts the requests per rule, upstream and status class, a failover when an antlet
is gone, and goes on counting after logrotate's rename and nginx's reopen; the status file (what
lb_rule_info and the rule table read) carries each upstream's requests per second and 5xx share."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.status import read_status, status_path, upstream_health
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.tests.support.harness import Backend, NginxInstance, free_port
from ansible_collections.antsle.antman.tests.support.health_agent import AgentProcess
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION
from ansible_collections.antsle.antman.tests.support.traffic import get

TEMPLATE = os.path.join(COLLECTION, "roles", "load_balancer", "templates", "antman.conf.j2")
FORMAT_NAME = "antman_upstream"  # the role's antman_lb_log_format_name


def role_log_format():
    """The role's log_format statement, as its template renders it."""
    with open(TEMPLATE) as handle:
        text = handle.read()
    statement = re.search(r"^log_format \{\{ antman_lb_log_format_name \}\} .*?';$", text, re.M | re.S).group(0)
    return statement.replace("{{ antman_lb_log_format_name }}", FORMAT_NAME)


def scrape(port):
    output = subprocess.run(["curl", "-s", "--max-time", "5", "http://127.0.0.1:%d/metrics" % port],
                            stdout=subprocess.PIPE, check=False).stdout.decode("utf-8")
    found = {}
    for line in output.splitlines():
        if line and not line.startswith("#"):
            name, _sep, value = line.rpartition(" ")
            found[name] = float(value)
    return found, output


def tries(upstream, code):
    return 'antman_lb_upstream_requests_total{rule="web",upstream="%s",code="%s"}' % (upstream, code)


class LogWorld:
    def __init__(self, directory):
        self.directory = str(directory)
        self.nginx = NginxInstance(os.path.join(self.directory, "nginx")).start()
        self.log = os.path.join(self.directory, "antman_access.log")
        self.nginx.write_conf("zz-log.conf", "%s\naccess_log %s %s;\n" % (role_log_format(), self.log, FORMAT_NAME))
        self.broken = os.path.join(self.directory, "broken")
        self.antlets = [Backend("antlet%d" % i, "127.0.4.%d" % i, free_port(), broken=self.broken).start() for i in (1, 2, 3)]
        self.port = free_port()
        self.rule = {"name": "web", "server_name": ["web.local", "www.web.local"], "server_port": self.port,
                     "upstreams": [{"address": a.address} for a in self.antlets]}
        self.nginx.apply([self.rule])
        self.metrics_port = free_port()
        self.agent = AgentProcess(self.nginx, self.directory, metrics_listen="127.0.0.1:%d" % self.metrics_port,
                                  access_log=self.log).start()

    def close(self):
        self.agent.stop()
        for antlet in self.antlets:
            antlet.kill()
        self.nginx.stop()

    def wait(self, predicate, within):
        began = time.monotonic()
        while True:
            found, text = scrape(self.metrics_port)
            if found and predicate(found):
                return found
            assert time.monotonic() - began < within, "%s\n%s" % (text, self.agent.log())
            time.sleep(0.1)

    def requests(self, count, host="web.local", path="/"):
        return [get(self.port, host, path)[0] for _n in range(count)]

    def raw(self, request):
        """The status line of nginx's answer to ``request`` (bytes, sent as they are)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(request)
            return sock.makefile("rb").readline()


FAKE_FIELDS = b' 200 1 rt=0 upstream=6.6.6.6:80 upstream_status=200 upstream_connect=0 upstream_time=0 server=x:1'
HOSTILE = [  # a client's text that looks like the trailing fields, quotes and control bytes
    b'GET /"' + FAKE_FIELDS + b' HTTP/1.1\r\nHost: web.local\r\nConnection: close\r\n\r\n',
    b'GET /a"b"?c=%22 HTTP/1.1\r\nHost: web.local"' + FAKE_FIELDS.replace(b" ", b"") + b'\r\nConnection: close\r\n\r\n',
    b'GET /\x01\x7f\xff HTTP/1.1\r\nHost: web.local\r\nConnection: close\r\n\r\n',
]


@pytest.fixture
def world(tmp_path):
    made = LogWorld(tmp_path)
    yield made
    made.close()


def test_the_agent_counts_what_nginx_logs_in_the_role_s_format(world):
    world.wait(lambda s: 'antman_lb_access_log_lines_total{result="counted"}' in s, 15)
    assert set(world.requests(60)) == {200}
    assert set(world.requests(3, host="www.web.local")) == {200}
    answers = [world.raw(request) for request in HOSTILE]
    assert all(answer.startswith(b"HTTP/1.1 ") for answer in answers), answers
    found = world.wait(lambda s: sum(s.get('antman_lb_requests_total{rule="web",code="%s"}' % code, 0)
                                     for code in ("2xx", "4xx")) == 63 + len(HOSTILE), 10)
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
    found = world.wait(lambda s: s.get('antman_lb_failover_requests_total{rule="web"}', 0) >= 1, 10)
    assert found[tries(world.antlets[0].address, "5xx")] >= 1
    assert found['antman_lb_requests_total{rule="web",code="2xx"}'] == proxied + 6

    # 5xx answers of the antlets
    open(world.broken, "w").close()
    assert set(world.requests(4)) == {500}
    found = world.wait(lambda s: s.get('antman_lb_requests_total{rule="web",code="5xx"}') == 4, 10)
    assert sum(found.get(tries(a.address, "5xx"), 0) for a in world.antlets[1:]) == 4


def test_it_follows_logrotate_and_writes_the_traffic_into_the_status_file(world):
    world.wait(lambda s: 'antman_lb_access_log_lines_total{result="counted"}' in s, 15)
    assert set(world.requests(9)) == {200}
    world.wait(lambda s: s.get('antman_lb_requests_total{rule="web",code="2xx"}') == 9, 10)
    os.rename(world.log, world.log + ".1")  # logrotate's create: rename, then tell nginx to reopen
    assert set(world.requests(3)) == {200}  # written to the renamed file
    os.kill(world.nginx.master_pid(), signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not os.path.exists(world.log):
        assert time.monotonic() < deadline, "nginx did not reopen its log"
        time.sleep(0.05)
    assert set(world.requests(6)) == {200}  # written to the new file
    world.wait(lambda s: s.get('antman_lb_requests_total{rule="web",code="2xx"}') == 18, 15)

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
