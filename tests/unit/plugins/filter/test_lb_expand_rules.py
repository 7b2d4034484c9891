import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_expand_rules import FilterModule, expand_rules

GROUPS = {"all": ["web1", "web2", "web3", "api"], "web": ["web1", "web2", "web3"], "api": ["api"], "empty": []}
HOSTVARS = {
    "web1": {"antman_lb_address": "10.1.1.102", "antman_lb_weight": 3},
    "web2": {"ansible_host": "10.1.1.103"},
    "web3": {"antman_lb_address": "10.1.1.104:8080", "antman_lb_backup": "yes"},
    "api": {},
}


def expand(*rules, **kwargs):
    return expand_rules(list(rules), kwargs.get("groups", GROUPS), kwargs.get("hostvars", HOSTVARS))


def upstream_summary(rule):
    return [(u["address"], u["weight"], u["backup"], u["down"]) for u in rule["upstreams"]]


def error_of(*rules, **kwargs):
    with pytest.raises(AnsibleFilterError) as caught:
        expand(*rules, **kwargs)
    return str(caught.value)


def test_filter_is_registered():
    assert FilterModule().filters() == {"lb_expand_rules": expand_rules}


def test_group_hosts_become_upstreams_with_their_host_vars():
    (rule,) = expand({"name": "shop", "server_name": "shop.example.com", "upstream_group": "web", "upstream_port": 8000})
    # address from antman_lb_address, else ansible_host; a port in the address wins over upstream_port
    assert upstream_summary(rule) == [
        ("10.1.1.102:8000", 3, False, False),
        ("10.1.1.103:8000", 1, False, False),
        ("10.1.1.104:8080", 1, True, False),
    ]
    assert "upstream_group" not in rule and "upstream_port" not in rule
    assert rule["read_timeout"] == "5s" and rule["server_port"] == 80  # canonical: every field present


def test_static_upstreams_come_first_and_mix_with_groups():
    (rule,) = expand({"name": "mix", "server_name": "mix.example.com", "upstream_group": ["api", "web"],
                      "upstreams": [{"address": "10.9.9.9:81", "weight": 5, "down": True}]})
    assert [u["address"] for u in rule["upstreams"]] == [
        "10.9.9.9:81", "api:80", "10.1.1.102:80", "10.1.1.103:80", "10.1.1.104:8080"]
    assert upstream_summary(rule)[0] == ("10.9.9.9:81", 5, False, True)


def test_inventory_host_name_is_the_last_resort_address():
    (rule,) = expand({"name": "a", "server_name": "a.example.com", "upstream_group": "api"})
    assert rule["upstreams"][0]["address"] == "api:80"


def test_rules_without_groups_are_just_normalised():
    (rule,) = expand({"name": "plain", "server_name": "Plain.Example.com", "upstreams": [{"address": "10.1.1.5"}]})
    assert rule["server_name"] == ["plain.example.com"] and rule["upstreams"][0]["address"] == "10.1.1.5:80"


def test_a_host_var_change_changes_the_rule():
    rule = {"name": "shop", "server_name": "shop.example.com", "upstream_group": "web"}
    before = expand(rule)[0]
    changed = dict(HOSTVARS, web2={"ansible_host": "10.1.1.103", "antman_lb_weight": 2, "antman_lb_down": True})
    after = expand(rule, hostvars=changed)[0]
    assert upstream_summary(before)[1] == ("10.1.1.103:80", 1, False, False)
    assert upstream_summary(after)[1] == ("10.1.1.103:80", 2, False, True)


@pytest.mark.parametrize("rule, expected", [
    ({"upstream_group": "nope"}, "upstream_group: \"nope\" is not a group of the inventory"),
    ({"upstream_group": "empty"}, "upstream_group: \"empty\" has no hosts"),
    ({"upstream_group": 5}, "upstream_group: 5 is not a group name or a list of group names"),
    ({"upstream_group": "web", "upstream_port": 70000}, "upstream_port: 70000 is out of range (1-65535)"),
    ({"upstreams": [{"address": "10.1.1.1"}], "upstream_port": 81}, "upstream_port: 81 is given without upstream_group"),
])
def test_inventory_fields_are_validated(rule, expected):
    rule = dict({"name": "shop", "server_name": "shop.example.com"}, **rule)
    message = error_of(rule)
    assert "antman_lb_rules[0] (rule 'shop'): " + expected in message


def test_bad_host_vars_name_the_host_group_and_variable():
    hostvars = dict(HOSTVARS, web2={"antman_lb_address": "10.1.1.103;evil", "antman_lb_weight": 3},
                    web3={"antman_lb_address": "10.1.1.104", "antman_lb_weight": "heavy"})
    message = error_of({"name": "shop", "server_name": "shop.example.com", "upstream_group": "web"}, hostvars=hostvars)
    assert 'upstream_group "web": host "web2": antman_lb_address: "10.1.1.103;evil" is not an address' in message
    assert ('upstreams[1] (host "web3" of group "web", from host vars antman_lb_address/antman_lb_weight/'
            'antman_lb_backup/antman_lb_down).weight: "heavy" is not an integer') in message


def test_static_and_group_duplicates_are_reported_with_their_source():
    message = error_of({"name": "dup", "server_name": "d.example.com", "upstream_group": "web",
                        "upstreams": [{"address": "10.1.1.102"}]})
    assert 'upstreams[1] (host "web1" of group "web"' in message and "duplicates upstreams[0]" in message


def test_every_problem_of_every_rule_is_reported_at_once():
    message = error_of(
        {"name": "one", "server_name": "bad name", "upstream_group": "nope"},
        {"name": "two", "server_name": "two.example.com", "upstreams": [], "colour": "red"},
    )
    assert message.startswith("invalid antman_lb_rules:")
    for expected in ("antman_lb_rules[0] (rule 'one'): upstream_group: \"nope\" is not a group",
                     "antman_lb_rules[0] (rule 'one'): server_name: \"bad name\" is not a host name",
                     "antman_lb_rules[1] (rule 'two'): unsupported field \"colour\"",
                     "antman_lb_rules[1] (rule 'two'): upstreams: the list is empty"):
        assert expected in message


def test_rule_set_clashes_are_caught_before_anything_is_applied():
    base = {"server_name": "shop.example.com", "upstreams": [{"address": "10.1.1.1"}]}
    assert "rule 'shop' is already listed as antman_lb_rules[0]" in error_of(dict(base, name="shop"), dict(base, name="shop"))
    clash = error_of(dict(base, name="shop"), dict(base, name="shop2"))
    assert "server_name 'shop.example.com' on server_port 80 is already used by rule" in clash


@pytest.mark.parametrize("rules, expected", [
    ("shop", "antman_lb_rules: \"shop\" is a str, expected a list of rules"),
    (["shop"], "antman_lb_rules[0]: \"shop\" is a str, expected a mapping of rule fields"),
])
def test_wrong_shapes(rules, expected):
    with pytest.raises(AnsibleFilterError) as caught:
        expand_rules(rules, GROUPS, HOSTVARS)
    assert expected in str(caught.value)


def test_no_rules():
    assert expand_rules(None, GROUPS, HOSTVARS) == [] and expand_rules([], GROUPS, HOSTVARS) == []


def test_stream_and_tls_rules_expand_and_tls_content_stays_as_given_for_the_module():
    cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n"
    rules = [{"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstream_group": "web", "upstream_port": 22},
             {"name": "shop", "server_name": "shop.local", "server_port": 443, "upstream_group": "web",
              "tls": {"certificate_content": cert, "key_content": key}}]
    ssh, shop = expand(*rules)
    assert ssh["protocol"] == "tcp" and "server_name" not in ssh and ssh["upstreams"][0]["address"].endswith(":22")
    # the module writes the certificate and key: the content reaches it as the inventory gives it
    assert shop["tls"] == {"certificate_content": cert, "key_content": key}
    assert [u["address"] for u in shop["upstreams"]] == ["10.1.1.102:80", "10.1.1.103:80", "10.1.1.104:8080"]
