"""HTTPS termination, the HTTP->HTTPS redirect, and TCP/UDP rules against a real nginx."""
import ssl
from collections import Counter

import pytest

from ansible_collections.antsle.antman.tests.support.harness import (
    EchoBackend, free_port, make_certificate, tcp_hello, udp_ask)
from ansible_collections.antsle.antman.tests.support.https_probe import context, get as https_get


def apply(nginx, *raws):
    return nginx.apply(raws)


@pytest.fixture
def echo_backends():
    started = []

    def make(count, kind):
        made = []
        for index in range(count):
            host = "127.0.2.%d" % (index + 1)
            made.append(EchoBackend("echo%d" % (index + 1), host, free_port(host), kind).start())
        started.extend(made)
        return made

    yield make
    for backend in started:
        backend.kill()


@pytest.mark.parametrize("form", ["content", "paths"])
def test_https_rule_serves_with_a_verified_certificate(nginx, backends, tmp_path, form):
    (antlet,) = backends(1)
    paths = make_certificate(tmp_path, "shop.local")
    if form == "content":
        tls = {"certificate_content": open(paths["certificate"]).read(), "key_content": open(paths["key"]).read()}
    else:
        tls = {"certificate": paths["certificate"], "key": paths["key"]}
    port = free_port()
    apply(nginx, {"name": "shop", "server_name": "shop.local", "server_port": port, "tls": tls,
                  "upstreams": [{"address": antlet.address}]})
    seen = https_get("127.0.0.1", port, "shop.local", context(paths["ca"]))
    assert (seen["status"], seen["body"]) == (200, antlet.name)
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get("127.0.0.1", port, "other.local", context(paths["ca"]))
    if form == "content":
        key = nginx.snapshot_files()["shop.key"]
        assert key == open(paths["key"], "rb").read()


@pytest.fixture
def netns():
    """A private network namespace (own loopback, own port 80): name, and a runner for commands in it."""
    import subprocess
    import uuid
    name = "antman-t-%s" % uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)

    def run(args, check=False, **kwargs):
        return subprocess.run(["ip", "netns", "exec", name] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, check=check, **kwargs)
    yield name, run
    subprocess.run(["ip", "netns", "del", name], check=False)


def test_redirect_http_answers_301_to_https(tmp_path, netns):
    """Port 80 belongs to the system's nginx on a host; this test gets its own in a namespace."""
    import subprocess
    import sys
    from ansible_collections.antsle.antman.tests.support.harness import BACKEND, NginxInstance
    name, run = netns
    nginx = NginxInstance(tmp_path / "nginx")
    assert run([nginx.binary, "-c", nginx.conf]).returncode == 0
    antlet = subprocess.Popen(["ip", "netns", "exec", name, sys.executable, BACKEND, "antlet", "127.0.0.1", "8081"],
                              stdout=subprocess.PIPE)
    try:
        antlet.stdout.readline()
        paths = make_certificate(tmp_path, "shop.local")
        apply(nginx, {"name": "shop", "server_name": "shop.local", "server_port": 8443, "redirect_http": True,
                      "tls": {"certificate": paths["certificate"], "key": paths["key"]},
                      "upstreams": [{"address": "127.0.0.1:8081"}]})
        redirect = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                        "-H", "Host: shop.local", "http://127.0.0.1/cart?item=1"])
        assert redirect.stdout == "301 https://shop.local:8443/cart?item=1", redirect.stdout
        secure = run(["curl", "-s", "--cacert", paths["ca"], "--resolve", "shop.local:8443:127.0.0.1",
                      "https://shop.local:8443/"])
        assert secure.returncode == 0 and secure.stdout.strip() == "antlet", secure.stdout
    finally:
        antlet.kill()
        nginx.stop()


def test_tcp_rule_balances_by_weight_and_fails_over(nginx, echo_backends):
    a, b, c = echo_backends(3, "tcp")
    port = free_port()
    apply(nginx, {"name": "echo", "protocol": "tcp", "server_port": port,
                  "upstreams": [{"address": a.address, "weight": 2}, {"address": b.address}, {"address": c.address}]})
    seen = Counter(tcp_hello(port) for _request in range(40))
    assert seen == {a.name: 20, b.name: 10, c.name: 10}
    b.kill()
    after = Counter(tcp_hello(port) for _request in range(40))
    assert b.name not in after and sum(after.values()) == 40


def test_udp_rule_balances_datagrams(nginx, echo_backends):
    a, b = echo_backends(2, "udp")
    port = free_port()
    apply(nginx, {"name": "dns", "protocol": "udp", "server_port": port,
                  "upstreams": [{"address": a.address}, {"address": b.address}]})
    answers = Counter(udp_ask(port, b"q%d" % i).split(":")[0] for i in range(20))
    assert answers == {a.name: 10, b.name: 10}
    assert udp_ask(port, b"payload").endswith(":payload")


def test_stream_and_http_rules_change_together_and_roll_back_together(nginx, backends, echo_backends):
    (web,) = backends(1)
    (echo,) = echo_backends(1, "tcp")
    http_port, tcp_port = free_port(), free_port()
    apply(nginx, {"name": "web", "server_name": "web.local", "server_port": http_port, "upstreams": [{"address": web.address}]},
          {"name": "echo", "protocol": "tcp", "server_port": tcp_port, "upstreams": [{"address": echo.address}]})
    before = nginx.snapshot_files()
    assert sorted(before) == ["echo.stream", "web.conf"]
    from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError
    with pytest.raises(ApplyError) as error:
        apply(nginx, {"name": "echo", "protocol": "tcp", "server_port": tcp_port,
                      "upstreams": [{"address": "no-such-antlet.invalid:7"}]})
    assert error.value.rules == ["echo"] and nginx.snapshot_files() == before
    assert tcp_hello(tcp_port) == echo.name
