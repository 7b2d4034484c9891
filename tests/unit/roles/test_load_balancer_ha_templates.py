"""The role's keepalived templates, rendered from the model's facts (filter lb_ha_facts) as the role
renders them: unicast or multicast, preempt or not, and the password only in its own file. (The
molecule scenario 'ha' tests the result with `keepalived -t` and real failovers.)"""
import os

import jinja2
import yaml

from ansible.plugins.filter.core import comment

from ansible_collections.antsle.antman.plugins.filter.lb_ha_facts import lb_ha_facts
from ansible_collections.antsle.antman.tests.support.schema_files import ROOT

ROLE = os.path.join(ROOT, "roles", "load_balancer")
SECRET = "Pa55.wrd"
HA = {"virtual_ipv4": ["10.1.1.50/24", "10.1.2.50/24"], "interface": "eth1", "router_id": 51, "auth_pass": SECRET}


def network(address):
    return {"interfaces": ["eth1"], "eth1": {"ipv4": {"address": address, "netmask": "255.255.255.0"}}}


def render(name, ha, hostvars=None):
    hostvars = hostvars or {"lb1": {"antman_lb_ha": dict(ha, priority=150), "ansible_facts": network("10.1.1.11")},
                            "lb2": {"antman_lb_ha": dict(ha, priority=100), "ansible_facts": network("10.1.1.12")}}
    facts = lb_ha_facts(hostvars["lb1"]["antman_lb_ha"], "lb1", hostvars, sorted(hostvars))
    with open(os.path.join(ROLE, "vars", "ha.yml")) as handle:
        context = yaml.safe_load(handle)
    context.update({"_antman_lb_ha": facts, "antman_lb_ha": hostvars["lb1"]["antman_lb_ha"], "ansible_managed": "Ansible managed",
                    "antman_lb_status_path": "/nginx_status"})
    # The template module's defaults: trim_blocks on, lstrip_blocks off.
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")), trim_blocks=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    environment.filters["comment"] = comment
    return environment.get_template(name).render(context)


def lines(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_unicast_pair_without_preemption():
    conf = lines(render("keepalived.conf.j2", HA))
    instance = conf[conf.index("vrrp_instance antman_51 {"):]
    assert instance[:9] == ["vrrp_instance antman_51 {", "nopreempt", "state BACKUP", "interface eth1",
                            "virtual_router_id 51", "priority 150", "advert_int 1",
                            "include /etc/keepalived/antman-auth.conf", "unicast_peer {"]
    assert instance[9:15] == ["10.1.1.12", "}", "virtual_ipaddress {", "10.1.1.50/24 dev eth1", "10.1.2.50/24 dev eth1", "}"]
    assert 'script "/usr/local/sbin/antman-ha-check status 127.0.0.1 8081 /nginx_status"' in conf
    assert ('script "/usr/local/sbin/antman-ha-check config /usr/sbin/nginx /etc/nginx/nginx.conf '
            '/etc/nginx/.antman.d.lock"') in conf
    assert 'file "/run/antman-ha-nginx-down"' in conf
    assert SECRET not in render("keepalived.conf.j2", HA)


def test_multicast_and_preemption():
    conf = lines(render("keepalived.conf.j2", dict(HA, peers=[], preempt=True)))
    assert "nopreempt" not in conf and "unicast_peer {" not in conf
    assert conf[conf.index("vrrp_instance antman_51 {") + 1] == "state BACKUP"


def test_the_password_is_in_its_own_file():
    assert lines(render("keepalived-auth.conf.j2", HA)) == ["authentication {", "auth_type PASS", "auth_pass %s" % SECRET, "}"]


def test_the_nginx_drop_in_reports_stops_and_starts():
    assert lines(render("nginx-ha.service.conf.j2", HA)) == [
        "[Service]",
        "ExecStartPost=-/bin/sh -c 'echo 0 > /run/antman-ha-nginx-down'",
        "ExecStopPost=-/bin/sh -c 'echo 1 > /run/antman-ha-nginx-down'"]
