"""What the role asks the model about its highly available pair (filter lb_ha_facts)."""
import json

import pytest

from ansible.errors import AnsibleFilterError
from jinja2.exceptions import UndefinedError

from ansible_collections.antsle.antman.plugins.filter import lb_ha_facts as plugin
from ansible_collections.antsle.antman.plugins.filter.lb_ha_facts import FilterModule, lb_ha_facts

SECRET = "s3cr3t.x"
HA = {"virtual_ipv4": ["10.1.1.50/24"], "interface": "eth0", "router_id": 51, "auth_pass": SECRET}


def host_facts(address):
    return {"interfaces": ["eth0"], "eth0": {"ipv4": {"address": address, "netmask": "255.255.255.0"}}}


HOSTVARS = {"lb1": {"antman_lb_ha": HA, "ansible_facts": host_facts("10.1.1.11")},
            "lb2": {"antman_lb_ha": HA, "ansible_facts": host_facts("10.1.1.12")}}


def test_registered():
    assert FilterModule().filters() == {"lb_ha_facts": lb_ha_facts}


def test_facts_hold_no_password_and_name_the_rules_lock(monkeypatch):
    shown = []
    monkeypatch.setattr(plugin.display, "warning", shown.append)
    facts = lb_ha_facts(HA, "lb1", HOSTVARS, ["lb1", "lb2"], rules_dir="/etc/nginx/antman.d")
    assert facts["peers"] == ["10.1.1.12"] and facts["rules_lock"] == "/etc/nginx/.antman.d.lock"
    assert SECRET not in json.dumps(facts)
    # Both hosts have the default priority: an Ansible warning, also in the result.
    assert shown == facts["warnings"] and len(shown) == 1 and "the same priority 100" in shown[0]


def test_every_problem_is_listed_for_the_host_and_the_password_never_shown():
    bad = dict(HA, router_id=300, auth_pass=SECRET + "toolong")
    with pytest.raises(AnsibleFilterError) as error:
        lb_ha_facts(bad, "lb1", HOSTVARS, ["lb1", "lb2"], rules_dir="relative/dir")
    message = str(error.value)
    assert message.startswith("invalid antman_lb_ha for lb1:\n- antman_lb_ha.router_id: 300 is out of range (1-255)\n")
    assert "\n- antman_lb_ha.auth_pass: (value not shown)" in message
    assert "\n- antman_lb_rules_dir: \"relative/dir\" is not an absolute path" in message
    assert SECRET not in message


class UnresolvedVars(dict):
    """A host whose antman_lb_ha names a variable it does not have (an extra variable applies to every
    host, antlets included): ansible-core 2.19's lazy containers raise UndefinedError on access."""

    def get(self, key, default=None):
        if key == "antman_lb_ha":
            raise UndefinedError("'ha_priority' is undefined")
        return dict.get(self, key, default)


def test_a_host_whose_settings_cannot_be_resolved_is_no_member_and_is_warned_about(monkeypatch):
    shown = []
    monkeypatch.setattr(plugin.display, "warning", shown.append)
    hostvars = dict(HOSTVARS, antlet1=UnresolvedVars(inventory_hostname="antlet1"))
    facts = lb_ha_facts(dict(HA, priority=150), "lb1", hostvars, ["lb1", "antlet1", "lb2"])
    assert facts["pair"] == ["lb1", "lb2"] and facts["peers"] == ["10.1.1.12"]
    assert shown[-1] == "antman_lb_ha of antlet1 ('ha_priority' is undefined) cannot be resolved on that host: not a member of any pair"


def test_the_host_itself_unresolved_is_an_error():
    with pytest.raises(AnsibleFilterError, match="invalid antman_lb_ha for antlet1: 'ha_priority' is undefined"):
        lb_ha_facts(HA, "antlet1", dict(HOSTVARS, antlet1=UnresolvedVars(inventory_hostname="antlet1")), ["lb1", "antlet1", "lb2"])
