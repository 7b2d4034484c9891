"""The highly available pair's model (plugins/module_utils/model/ha.py): grammars, the pair, the peers."""
import json
import re

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.ha import (
    HaError, ha_facts, ha_status, held_addresses, parse_settings, split_listen)

SECRET = "Zq7+x.9w"
HA = {"virtual_ipv4": ["10.1.1.50/24"], "interface": "eth0", "router_id": 51, "auth_pass": SECRET}


def facts(address, interface="eth0", secondaries=()):
    return {"interfaces": ["lo", interface], interface.replace("-", "_"): {
        "ipv4": {"address": address, "netmask": "255.255.255.0"},
        "ipv4_secondaries": [{"address": a, "netmask": "255.255.255.0"} for a in secondaries]}}


def pair_hostvars(**overrides):
    """Two hosts of one virtual router, lb1 (priority 150) and lb2 (100), with network facts."""
    hostvars = {
        "lb1": {"antman_lb_ha": dict(HA, priority=150), "ansible_facts": facts("10.1.1.11")},
        "lb2": {"antman_lb_ha": dict(HA, priority=100), "ansible_facts": facts("10.1.1.12")},
        "web": {},
    }
    for host, ha in overrides.items():
        hostvars[host]["antman_lb_ha"] = ha
    return hostvars


INVENTORY = ["lb1", "lb2", "web"]


def problems(value, host="lb1", hostvars=None, **kwargs):
    with pytest.raises(HaError) as error:
        ha_facts(value, host, hostvars or pair_hostvars(), INVENTORY, **kwargs)
    return error.value.problems


# -- one host's settings ------------------------------------------------------------------------

def test_canonical_settings_with_defaults_and_without_the_password():
    settings, auth_pass = parse_settings(dict(HA, router_id="51", virtual_ipv4=["10.1.1.50/24", "192.168.7.1/32"]))
    assert settings == {"virtual_ipv4": ["10.1.1.50/24", "192.168.7.1/32"], "interface": "eth0", "router_id": 51,
                        "priority": 100, "peers": None, "preempt": False}
    assert auth_pass == SECRET


@pytest.mark.parametrize("key, value, message", [
    ("virtual_ipv4", "10.1.1.50/24", r"is a str, expected a list of ADDRESS/PREFIX"),
    ("virtual_ipv4", [], r"give 1 to 20 addresses \(got 0\)"),
    ("virtual_ipv4", ["10.1.1.%d/24" % n for n in range(1, 22)], r"give 1 to 20 addresses \(got 21\)"),
    ("virtual_ipv4", ["10.1.1.50"], r'\[0\]: "10.1.1.50" has no prefix length: give the one of its segment, such as 10.1.1.50/24'),
    ("virtual_ipv4", ["10.1.1.050/24"], r"\[0\]: \"10.1.1.050/24\" is not an IPv4 address with a prefix length"),
    ("virtual_ipv4", ["10.1.1.50/33"], r"prefix length out of range \(1-32\)"),
    ("virtual_ipv4", ["10.1.1.50/0"], r"prefix length out of range"),
    ("virtual_ipv4", ["10.1.1.0/24"], r"is the network or broadcast address of 10.1.1.0/24"),
    ("virtual_ipv4", ["10.1.1.255/24"], r"network or broadcast"),
    ("virtual_ipv4", ["127.0.0.2/8"], r"loopback, multicast"),
    ("virtual_ipv4", ["224.0.0.18/24"], r"loopback, multicast"),
    ("virtual_ipv4", ["10.1.1.50/24", "10.1.1.50/16"], r"\[1\]: \"10.1.1.50/16\" is listed twice"),
    ("virtual_ipv4", ["10.1.1.50/24 dev eth1"], r"is not ADDRESS/PREFIX"),
    ("virtual_ipv4", ["10.1.1.50/24\n}\nvrrp_instance x {"], r"is not ADDRESS/PREFIX"),
    ("virtual_ipv4", [5], r"is a int, expected ADDRESS/PREFIX"),
    ("interface", "eth0 ", r"is not an interface name"),
    ("interface", "eth0;", r"is not an interface name"),
    ("interface", "eth0\n", r"is not an interface name"),
    ("interface", "a-very-long-name0", r"is not an interface name"),
    ("interface", "..", r"is not an interface name"),
    ("interface", "eth0/1", r"is not an interface name"),
    ("router_id", 0, r"out of range \(1-255\)"),
    ("router_id", 256, r"out of range \(1-255\)"),
    ("router_id", "fifty", r"is not an integer"),
    ("priority", 255, r"out of range \(1-254\)"),
    ("priority", True, r"is a boolean"),
    ("peers", "10.1.1.12", r"is a str, expected a list of IPv4 addresses"),
    ("peers", ["10.1.1.12/24"], r"\[0\]: \"10.1.1.12/24\" is not an IPv4 address"),
    ("peers", ["10.1.1.12", "10.1.1.12"], r"listed twice"),
    ("preempt", "sometimes", r"is not a boolean"),
])
def test_each_key_has_a_grammar_and_its_error_names_key_and_value(key, value, message):
    with pytest.raises(HaError) as error:
        parse_settings(dict(HA, **{key: value}))
    assert len(error.value.problems) == 1
    assert error.value.problems[0].startswith("antman_lb_ha.%s: " % key)
    assert error.value.problems[0] == error.value.problems[0].strip()
    assert re.search(message, error.value.problems[0]), error.value.problems[0]


@pytest.mark.parametrize("password", ["", "123456789", "two words", 'q"uote', "it's", "a#b", "a!b", "{x}", "$VAR",
                                      "back\\s", "`id`", "t\tab", "caf\u00e9", "new\nline", 12345678, None])
def test_a_bad_password_is_refused_and_never_shown(password):
    value = dict(HA, auth_pass=password)
    with pytest.raises(HaError) as error:
        parse_settings(value)
    text = json.dumps(error.value.problems)
    assert "antman_lb_ha.auth_pass" in text
    if isinstance(password, str) and len(password) > 1:
        assert password not in text and json.dumps(password)[1:-1] not in text


def test_every_problem_at_once_unknown_and_missing_keys_named():
    with pytest.raises(HaError) as error:
        parse_settings({"virtual_ip": ["10.1.1.50/24"], "router_id": 0, "auth_pass": SECRET})
    assert error.value.problems == [
        'antman_lb_ha: unknown key(s) "virtual_ip" (known: virtual_ipv4, interface, router_id, priority, auth_pass, peers, preempt)',
        "antman_lb_ha.virtual_ipv4: missing (required)",
        "antman_lb_ha.interface: missing (required)",
        "antman_lb_ha.router_id: 0 is out of range (1-255)",
    ]


def test_a_value_that_is_not_a_mapping_is_not_shown():
    with pytest.raises(HaError) as error:
        parse_settings(["auth_pass", SECRET])
    assert SECRET not in str(error.value) and "a list, expected a mapping" in str(error.value)


def test_status_listen():
    assert split_listen("127.0.0.1:8081") == ("127.0.0.1", 8081)
    assert split_listen("[::1]:9000") == ("::1", 9000)
    for bad in ("", "10.1.1.1:80", "127.0.0.1", "localhost:80", "127.0.0.1:0"):
        with pytest.raises(ValueError):
            split_listen(bad)


# -- the pair -----------------------------------------------------------------------------------

def test_the_pair_and_its_default_unicast_peers_come_from_the_inventory():
    one = ha_facts(pair_hostvars()["lb1"]["antman_lb_ha"], "lb1", pair_hostvars(), INVENTORY)
    two = ha_facts(pair_hostvars()["lb2"]["antman_lb_ha"], "lb2", pair_hostvars(), INVENTORY)
    assert one["pair"] == two["pair"] == ["lb1", "lb2"]
    assert (one["peers"], two["peers"]) == (["10.1.1.12"], ["10.1.1.11"])
    assert one["unicast"] and one["priority"] == 150 and two["priority"] == 100
    assert one["hosts_without_facts"] == [] and one["warnings"] == []
    assert (one["status_host"], one["status_port"]) == ("127.0.0.1", 8081)
    assert SECRET not in json.dumps(one)


def test_hosts_of_another_virtual_router_are_not_peers():
    other_site = dict(HA, virtual_ipv4=["10.9.9.50/24"])  # same router_id, other addresses: another pair
    hostvars = pair_hostvars(lb2=other_site)
    result = ha_facts(hostvars["lb1"]["antman_lb_ha"], "lb1", hostvars, INVENTORY)
    assert result["pair"] == ["lb1"] and result["peers"] == [] and not result["unicast"]
    assert result["warnings"] == ["antman_lb_ha: lb1 is the only host of router_id 51 with virtual_ipv4 10.1.1.50/24 in the "
                                  "inventory: it holds the addresses alone (no peers)"]


def test_peers_whose_facts_are_missing_are_listed_to_be_gathered():
    hostvars = pair_hostvars()
    del hostvars["lb2"]["ansible_facts"]
    result = ha_facts(hostvars["lb1"]["antman_lb_ha"], "lb1", hostvars, INVENTORY)
    assert result["hosts_without_facts"] == ["lb2"] and result["peers"] == []
    # Given peers need no facts of the others.
    given = ha_facts(dict(hostvars["lb1"]["antman_lb_ha"], peers=["10.1.1.12"]), "lb1", hostvars, INVENTORY)
    assert given["hosts_without_facts"] == [] and given["peers"] == ["10.1.1.12"] and given["unicast"]
    multicast = ha_facts(dict(hostvars["lb1"]["antman_lb_ha"], peers=[]), "lb1", hostvars, INVENTORY)
    assert multicast["peers"] == [] and not multicast["unicast"]


def test_same_priority_is_warned_about():
    hostvars = pair_hostvars(lb1=dict(HA), lb2=dict(HA))
    result = ha_facts(HA, "lb1", hostvars, INVENTORY)
    assert result["warnings"] == [
        "antman_lb_ha: hosts lb1, lb2 of router_id 51 have the same priority 100: which one takes the addresses is then "
        "decided by their IP addresses; give each host its own priority"]


def test_checks_across_the_pair():
    hostvars = pair_hostvars(lb2=dict(HA, auth_pass="other1", preempt=True))
    assert problems(hostvars["lb1"]["antman_lb_ha"], hostvars=hostvars) == [
        "antman_lb_ha.auth_pass differs between the hosts of router_id 51 (lb1, lb2); values not shown",
        "antman_lb_ha.preempt differs between the hosts of router_id 51 (lb1, lb2)",
    ]
    own = dict(HA, virtual_ipv4=["10.1.1.12/24"])
    hostvars = pair_hostvars(lb1=own, lb2=own)
    assert problems(own, hostvars=hostvars)[0] == ("antman_lb_ha.virtual_ipv4: 10.1.1.12 is the own address of lb2 on eth0, "
                                                   "not a free address")
    assert problems(dict(HA, peers=["10.1.1.11"]), hostvars=pair_hostvars(lb1=dict(HA, peers=["10.1.1.11"]))) == [
        "antman_lb_ha.peers: 10.1.1.11 is this host's own address"]


def test_the_interface_must_exist_and_the_peer_must_have_an_address_there():
    bad = dict(HA, interface="eth9")
    assert problems(bad, hostvars=pair_hostvars(lb1=bad)) == [
        'antman_lb_ha.interface: "eth9" is not an interface of lb1 (it has: eth0, lo)']
    hostvars = pair_hostvars()
    hostvars["lb2"]["ansible_facts"] = {"interfaces": ["eth0"], "eth0": {}}
    assert problems(HA, hostvars=hostvars) == ['antman_lb_ha.peers: lb2 has no IPv4 address on "eth0" (its network facts); give peers']


def test_a_broken_member_of_the_same_router_is_reported_but_not_its_password():
    hostvars = pair_hostvars(lb2=dict(HA, interface="eth 0", auth_pass="toolongpassword"))
    found = problems(hostvars["lb1"]["antman_lb_ha"], hostvars=hostvars)
    assert len(found) == 1 and found[0].startswith('host "lb2" (router_id 51 too): antman_lb_ha.interface: "eth 0"')
    assert "toolongpassword" not in found[0]


def test_systemd_status_page_and_paths_are_required():
    assert problems(HA, service="direct", status_listen="", nginx_binary="/usr/sbin/nginx; rm") == [
        'antman_lb_ha: keepalived runs under systemd, and this host\'s service manager is "direct"',
        'antman_lb_status_listen: "": the health check needs the local status page (antman_lb_status_listen)',
        'antman_lb_nginx_binary: "/usr/sbin/nginx; rm" is not an absolute path of letters, digits and . _ - + @ '
        '(without . or .. components)',
    ]


# -- which host holds the addresses ---------------------------------------------------------------

def test_held_addresses_and_status():
    master = facts("10.1.1.11", secondaries=["10.1.1.50"])
    assert held_addresses(master, "eth0") == ["10.1.1.11/24", "10.1.1.50/24"]
    assert ha_status(HA, master)["holds"] is True
    backup = ha_status(HA, facts("10.1.1.12"))
    assert backup["holds"] is False and backup["held"] == []
    assert ha_status(dict(HA, interface="br-lan"), facts("10.1.1.11", "br-lan", ["10.1.1.50"]))["holds"] is True
    assert held_addresses({}, "eth0") == []
