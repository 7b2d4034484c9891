"""The rule table's line for a host of a highly available pair (filter lb_ha_status)."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_ha_status import FilterModule, lb_ha_status

HA = {"virtual_ipv4": ["10.1.1.50/24", "10.1.2.50/24"], "interface": "eth0", "router_id": 51, "priority": 150,
      "auth_pass": "s3cr3t"}


def facts(*secondaries):
    return {"eth0": {"ipv4": {"address": "10.1.1.11", "netmask": "255.255.255.0"},
                     "ipv4_secondaries": [{"address": a, "netmask": "255.255.255.0"} for a in secondaries]}}


def test_registered():
    assert FilterModule().filters() == {"lb_ha_status": lb_ha_status}


def test_master_backup_and_partial():
    assert lb_ha_status(HA, facts("10.1.1.50", "10.1.2.50")) == \
        "HA router_id 51, priority 150: holds 10.1.1.50/24, 10.1.2.50/24 on eth0 (MASTER)"
    assert lb_ha_status(HA, facts()) == \
        "HA router_id 51, priority 150: does not hold 10.1.1.50/24, 10.1.2.50/24 on eth0 (not master)"
    assert lb_ha_status(HA, facts("10.1.2.50")) == \
        "HA router_id 51, priority 150: holds only 10.1.2.50/24 of 10.1.1.50/24, 10.1.2.50/24 on eth0"


def test_bad_settings_are_named():
    with pytest.raises(AnsibleFilterError, match=r"antman_lb_ha.interface: \"eth 0\" is not an interface name"):
        lb_ha_status(dict(HA, interface="eth 0"), facts())
