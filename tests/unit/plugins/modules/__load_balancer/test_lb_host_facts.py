"""The load_balancer role's lb_host_facts on a fake host: every host fact the role uses, decided in
Python (catch-all ports, TLS ports, stream, IPv6, how nginx runs, the hash bucket size), and every
reason the role cannot fit reported at once before anything is touched."""
import os

import pytest
import yaml

from ansible_collections.antsle.antman.plugins.module_utils.host import features
from ansible_collections.antsle.antman.plugins.module_utils.host.system import KNOWN_FAMILIES
from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_host_facts as body
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule
from ansible_collections.antsle.antman.plugins.modules.__load_balancer import lb_host_facts
from ansible_collections.antsle.antman.tests.support.schema_files import ROOT

# A Debian-like host: conf.d/*.conf read at http level, a default site with an explicit default_server
# on 80 (a link), a server of its own on 8000 (the default there only because it is read first).
NGINX_CONF = """events {}
http {
    log_format main '$remote_addr';
    server_names_hash_bucket_size 128;
    include %(root)s/conf.d/*.conf;
    include %(root)s/sites-enabled/*;
}
"""
SHOP = {"name": "shop", "server_name": "shop.test", "server_port": 443, "redirect_http": True,
        "tls": {"certificate": "/etc/ssl/shop.crt", "key": "/etc/ssl/shop.key"}, "upstreams": [{"address": "10.1.1.102"}]}
WEB = {"name": "web", "server_name": "web.test", "server_port": 8000, "upstreams": [{"address": "10.1.1.103"}]}


@pytest.fixture(autouse=True)
def system(monkeypatch):
    """The host's OS family and service manager, as host/system.py would read them (a Debian host
    with systemd unless a test says otherwise), not this machine's."""
    answer = dict(os_family="Debian", service_manager="systemd")
    monkeypatch.setattr(body, "system_facts", lambda: dict(answer))
    return answer


@pytest.fixture
def debian(host):
    os.mkdir(os.path.join(host.root, "conf.d"))
    os.mkdir(os.path.join(host.root, "sites-available"))
    os.mkdir(os.path.join(host.root, "sites-enabled"))
    with open(os.path.join(host.root, "sites-available", "default"), "w") as handle:
        handle.write("server { listen 80 default_server; server_name _; return 404; }\n")
    os.symlink(os.path.join(host.root, "sites-available", "default"), os.path.join(host.root, "sites-enabled", "default"))
    with open(os.path.join(host.root, "conf.d", "app.conf"), "w") as handle:
        handle.write("server { listen 8000; server_name app.test; return 200; }\n")
    with open(host.conf, "w") as handle:
        handle.write(NGINX_CONF % {"root": host.root})
    host.default_site = os.path.join(host.root, "sites-enabled", "default")
    return host


def facts(host, run_module, **options):
    params = dict(ports=[80, 443, 8000, 9090], rules=[normalize_rule(SHOP), normalize_rule(WEB)],
                  server_names_hash_bucket_size=512, log_format_name="antman_upstream",
                  status_port=8081)
    params.update(options)
    return run_module(lb_host_facts.main, host.params(**params), check_mode=True)


def test_catch_all_ports_follow_the_host_s_default_servers_and_its_removed_links(debian, run_module):
    failed, result = facts(debian, run_module)
    assert not failed and not result["changed"]
    # 80: the default site's explicit default_server stays; 8000: app.conf is read before the drop-in.
    assert result["catch_all_ports"] == [443, 9090] and result["tls_ports"] == [443]
    failed, result = facts(debian, run_module, remove_links=[debian.default_site])
    assert result["catch_all_ports"] == [80, 443, 9090]
    failed, result = facts(debian, run_module, catch_all=False)
    assert result["catch_all_ports"] == [] and result["ports"] == [80, 443, 8000, 9090]
    assert result["dropin"]["path"] == os.path.join(debian.root, "conf.d", "zz-antman.conf") and result["dropin"]["included"]


def test_the_host_s_own_hash_bucket_size_wins_and_is_said_once(debian, run_module):
    failed, result = facts(debian, run_module)
    assert result["hash_bucket_size"] == 0
    assert len([note for note in result["notes"] if "sets server_names_hash_bucket_size itself" in note]) == 1
    with open(debian.conf, "w") as handle:
        handle.write((NGINX_CONF % {"root": debian.root}).replace("    server_names_hash_bucket_size 128;\n", ""))
    failed, result = facts(debian, run_module)
    assert result["hash_bucket_size"] == 512 and not any("hash_bucket" in note for note in result["notes"])


@pytest.mark.parametrize("asked, systemd_runs_nginx, running, host_manager, expected", [
    ("auto", True, True, "systemd", "systemd"),
    ("auto", False, True, "systemd", "direct"),  # an nginx systemd did not start: never a second one
    ("auto", False, False, "systemd", "systemd"),
    ("auto", False, False, "sysvinit", "direct"),
    ("direct", True, True, "systemd", "direct"),
    ("systemd", False, False, "sysvinit", "systemd"),
])
def test_how_nginx_is_run(debian, run_module, monkeypatch, system, asked, systemd_runs_nginx, running, host_manager,
                          expected):
    from ansible_collections.antsle.antman.plugins.module_utils.nginx import control
    monkeypatch.setattr(control.Nginx, "master_pid", lambda self: 4242 if running else None)
    monkeypatch.setattr(control.Nginx, "systemd_manages", lambda self, pid: systemd_runs_nginx)
    system["service_manager"] = host_manager
    failed, result = facts(debian, run_module, service_manager=asked)
    assert not failed and result["service"] == expected and result["host_service_manager"] == host_manager


def test_another_system_is_answered_with_its_name_and_its_nginx_is_not_read(debian, run_module, monkeypatch, system):
    # The role refuses it with these answers; a rule the host's nginx would refuse is not even looked at.
    system["os_family"] = "Alpine Linux"
    taken = dict(WEB, server_name="app.test")
    failed, result = facts(debian, run_module, rules=[normalize_rule(taken)])
    assert not failed and result["os_family"] == "Alpine Linux" and result["installed"]
    assert "nginx" not in result and "catch_all_ports" not in result


def test_a_family_the_role_does_not_know_is_refused_naming_it_before_anything_is_read(debian, run_module, system):
    system["os_family"] = "Alpine Linux"
    taken = dict(WEB, server_name="app.test")
    failed, result = facts(debian, run_module, rules=[normalize_rule(taken)], os_families=["Debian", "RedHat"])
    # Only this problem: the host's nginx (which would refuse the rule) is not read.
    assert failed and result["problems"] == [
        "antsle.antman.load_balancer knows hosts of the OS families Debian (debian, ubuntu, ...) and RedHat (rhel, "
        "fedora, ...) only; this host is \"Alpine Linux\" (its /etc/os-release); nothing was changed"]
    system["os_family"] = "RedHat"
    failed, result = facts(debian, run_module, os_families=["Debian", "RedHat"])
    assert not failed and result["os_family"] == "RedHat" and "catch_all_ports" in result


def test_the_role_knows_the_families_whose_layout_lb_host_facts_reads():
    with open(os.path.join(ROOT, "roles", "load_balancer", "vars", "main.yml")) as handle:
        role_families = yaml.safe_load(handle)["_antman_lb_os_families"]
    assert sorted(role_families) == sorted(KNOWN_FAMILIES)


def test_everything_the_role_would_take_from_the_host_is_refused_at_once(debian, run_module):
    taken = dict(WEB, server_name="app.test")
    failed, result = facts(debian, run_module, rules=[normalize_rule(taken)], log_format_name="main", status_port=8000)
    assert failed
    problems = result["problems"]
    assert problems[0].startswith("rule 'web': server_name 'app.test' on port 8000 is served by the host's server in "
                                  "%s/conf.d/app.conf:1" % debian.root)
    assert problems[1].startswith("the host's own nginx already has log format \"main\"")
    assert problems[2].startswith("the host's own nginx already has a server on port 8000 of antman_lb_status_listen")
    assert problems[-1] == "nothing was changed"


def test_rules_that_stay_keep_their_ports_and_stream_context(debian, run_module):
    """keep_unlisted (antman_lb_exclusive: false, or an entry point that applies no rules): managed
    rules on the host that the run does not list stay, with their ports' catch-all and stream context."""
    from ansible_collections.antsle.antman.plugins.modules import lb_rules
    with open(debian.conf, "w") as handle:
        handle.write((NGINX_CONF % {"root": debian.root}).replace(
            "http {\n", "http {\n    include %s/*.conf;\n" % debian.rules_dir) + "stream { include %s/*.stream; }\n"
            % debian.rules_dir)
    ssh = {"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.1.1.104:22"}]}
    api = {"name": "api", "server_name": "api.test", "server_port": 9443, "upstreams": [{"address": "10.1.1.105"}],
           "tls": {"certificate": "/etc/ssl/api.crt", "key": "/etc/ssl/api.key"}}
    failed, result = run_module(lb_rules.main, debian.params(state="merged", config=[ssh, api]))
    assert not failed, result
    failed, result = facts(debian, run_module, ports=[8000], rules=[normalize_rule(WEB)], keep_unlisted=True)
    assert not failed and result["kept_rules"] == ["api", "ssh"]
    assert result["ports"] == [8000, 9443] and result["tls_ports"] == [9443] and result["stream"]
    failed, result = facts(debian, run_module, ports=[8000], rules=[normalize_rule(WEB)])
    assert result["kept_rules"] == [] and result["ports"] == [8000] and not result["stream"]


@pytest.mark.parametrize("host_has_ipv6", [True, False])
def test_the_catch_all_listens_on_ipv6_exactly_when_the_rules_do(debian, run_module, monkeypatch, host_has_ipv6):
    """One decision (host/features.py has_ipv6), asked by the renderer for the rules' [::] listeners and
    by the role for its catch-all servers: they never listen on different address families. The role
    used to stat /proc/net/if_inet6 instead, which can exist where an IPv6 socket cannot be made (IPv6
    sockets forbidden to the process, e.g. by a seccomp filter or systemd's RestrictAddressFamilies)."""
    if not host_has_ipv6:
        class NoIPv6:
            def __init__(self, *args):
                raise OSError(97, "Address family not supported by protocol")
        monkeypatch.setattr(features.socket, "socket", NoIPv6)
    elif not features.has_ipv6():
        pytest.skip("this machine cannot bind an IPv6 socket")
    failed, result = facts(debian, run_module)
    text = render_rule(normalize_rule(WEB), debian.rules_dir, features.host_features(lambda: (1, 22, 1)))
    assert result["ipv6"] is host_has_ipv6 and ("listen [::]:8000;" in text) is host_has_ipv6
    failed, result = facts(debian, run_module, ipv6=False)  # antman_lb_ipv6: false turns the catch-all's off
    assert result["ipv6"] is False


def test_a_host_without_nginx_answers_the_install_question_only(host, run_module):
    """No nginx binary (and no nginx.conf): what the role's install step needs, nothing read."""
    os.unlink(host.binary)
    os.unlink(host.conf)
    failed, result = run_module(lb_host_facts.main, host.params(ports=[80], rules=[normalize_rule(WEB)]))
    assert not failed and not result["changed"], result
    assert result["installed"] is False and os.path.isabs(result["python"]) and result["agent_found"] == []
    assert "dropin" not in result and "nginx" not in result


def test_cryptography_says_whether_the_module_s_python_imports_it(host, run_module, monkeypatch):
    """The role installs Python's cryptography (for community.crypto's modules) only where it is missing."""
    failed, result = run_module(lb_host_facts.main, host.params())
    assert not failed and result["cryptography"] is True  # this Python has it (community.crypto's tests need it)
    monkeypatch.setattr(body, "imports_cryptography", lambda: False)
    os.unlink(host.binary)  # answered without nginx too: the install step asks it
    failed, result = run_module(lb_host_facts.main, host.params())
    assert not failed and result["installed"] is False and result["cryptography"] is False


def test_agent_found_lists_the_health_agent_s_files_on_the_host(host, run_module):
    from ansible_collections.antsle.antman.plugins.module_utils.health.status import status_path
    agent = dict(lib_dir=os.path.join(host.root, "lib"), pid_file=os.path.join(host.root, "agent.pid"),
                 unit=os.path.join(host.root, "antman-health.service"))
    failed, result = run_module(lb_host_facts.main, host.params(agent=agent))
    assert not failed and result["installed"] is True and result["agent_found"] == []
    os.mkdir(agent["lib_dir"])
    for path in (agent["pid_file"], status_path(host.rules_dir), os.path.join(host.root, "antman-health.log")):
        open(path, "w").close()
    failed, result = run_module(lb_host_facts.main, host.params(agent=agent))
    # The log file does not count: the removal keeps it.
    assert not failed and result["agent_found"] == [agent["lib_dir"], agent["pid_file"], status_path(host.rules_dir)]
