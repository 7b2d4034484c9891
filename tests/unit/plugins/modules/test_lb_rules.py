import pytest

from ansible_collections.antsle.antman.plugins.modules import lb_rules

WEB = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1", "weight": 3},
                                                                {"address": "10.0.0.2"}]}
API = {"name": "api", "server_name": "api.local", "server_port": 8080, "upstreams": [{"address": "10.0.0.3"}]}
OLD = {"name": "old", "server_name": "old.local", "upstreams": [{"address": "10.0.0.9"}]}


@pytest.fixture
def apply(host, run_module):
    def run(state, config=None, check_mode=False, diff=False, **extra):
        args = host.params(state=state, **extra)
        if config is not None:
            args["config"] = config
        return run_module(lb_rules.main, args, check_mode=check_mode, diff=diff)
    return run


def names(rules):
    return [r["name"] for r in rules]


def test_merged_creates_then_is_idempotent_and_keeps_unmentioned(apply, host):
    failed, result = apply("merged", [WEB, API])
    assert not failed and result["changed"] and result["reloaded"]
    assert result["changes"] == [{"name": "web", "action": "created"}, {"name": "api", "action": "created"}]
    assert names(result["before"]) == [] and names(result["after"]) == ["api", "web"]
    failed, result = apply("merged", [WEB, API])
    assert not result["changed"] and result["changes"] == [] and not result["reloaded"]
    failed, result = apply("merged", [{"name": "web", "read_timeout": "30s",
                                       "upstreams": [{"address": "10.0.0.2:80", "down": True}, {"address": "10.0.0.4"}]}])
    assert result["changes"] == [{"name": "web", "action": "updated"}]
    (web,) = [r for r in result["after"] if r["name"] == "web"]
    assert web["read_timeout"] == "30s" and web["server_name"] == ["web.local"]
    assert [(u["address"], u["weight"], u["down"]) for u in web["upstreams"]] == [
        ("10.0.0.1:80", 3, False), ("10.0.0.2:80", 1, True), ("10.0.0.4:80", 1, False)]
    assert len(host.reloads) == 2


def test_merged_new_rule_must_be_complete(apply, host):
    failed, result = apply("merged", [{"name": "new", "server_port": 81}])
    assert failed and "server_name: missing" in result["msg"] and "config[0]" in result["msg"]
    assert host.files() == {}


def test_replaced_resets_unmentioned_fields_and_leaves_other_rules(apply):
    apply("merged", [dict(WEB, read_timeout="30s"), API])
    failed, result = apply("replaced", [WEB])
    assert result["changes"] == [{"name": "web", "action": "updated"}]
    assert [r["read_timeout"] for r in result["after"]] == ["5s", "5s"] and names(result["after"]) == ["api", "web"]


def test_overridden_removes_other_managed_rules_but_never_unmanaged_files(apply, host):
    apply("merged", [WEB, API, OLD])
    with open(host.rules_dir + "/hand.conf", "w") as handle:
        handle.write("# written by a person\n")
    failed, result = apply("overridden", [WEB], diff=True)
    assert sorted((c["name"], c["action"]) for c in result["changes"]) == [("api", "deleted"), ("old", "deleted")]
    assert sorted(host.files()) == ["hand.conf", "web.conf"]
    assert {d["before_header"] for d in result["diff"]} == {host.rules_dir + "/api.conf", host.rules_dir + "/old.conf"}
    assert all(d["after"] == "" for d in result["diff"])


def test_deleted_listed_or_all(apply, host):
    apply("merged", [WEB, API, OLD])
    failed, result = apply("deleted", [{"name": "old"}])
    assert result["changes"] == [{"name": "old", "action": "deleted"}]
    failed, result = apply("deleted", [{"name": "nope"}])
    assert not result["changed"]
    failed, result = apply("deleted")
    assert sorted(c["name"] for c in result["changes"]) == ["api", "web"] and host.files() == {}


def test_deleted_with_an_empty_list_deletes_nothing(apply, host):
    """A retire-list that is empty this week (config: "{{ rules_to_retire }}") keeps every rule;
    check mode says so too. Only config left out deletes every managed rule."""
    apply("merged", [WEB, API])
    before, reloads = host.files(), len(host.reloads)
    for check_mode in (True, False):
        failed, result = apply("deleted", [], check_mode=check_mode, diff=True)
        assert not failed and not result["changed"] and result["changes"] == [] and "diff" not in result
        assert names(result["after"]) == ["api", "web"]
    assert host.files() == before and len(host.reloads) == reloads
    failed, result = apply("deleted", check_mode=True)
    assert result["changed"] and sorted(c["name"] for c in result["changes"]) == ["api", "web"]
    assert host.files() == before


def test_a_misspelt_field_names_the_item_and_its_rule(apply, host):
    """Ansible's own message says only 'config.server_nmae'; the module names the item, the rule
    and what was probably meant, for every misspelt field at once, and touches nothing."""
    apply("merged", [WEB])
    before = host.files()
    typo = dict(API, server_nmae="api.local")
    typo["upstreams"] = [{"address": "10.0.0.3", "wieght": 2}]
    failed, result = apply("merged", [WEB, typo])
    assert failed and result["msg"] == (
        "config[1] (rule 'api'): unsupported field \"server_nmae\" (did you mean \"server_name\"?); "
        "config[1] (rule 'api'): upstreams[0]: unsupported field \"wieght\" (did you mean \"weight\"?)")
    assert host.files() == before


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden"])
def test_empty_config_is_refused(apply, state):
    for config in (None, []):
        failed, result = apply(state, config)
        assert failed and "config: empty" in result["msg"]


def test_check_mode_predicts_exactly_and_changes_nothing(apply, host):
    apply("merged", [WEB, OLD])
    before = host.files()
    failed, result = apply("overridden", [dict(WEB, keepalive=0), API], check_mode=True, diff=True)
    assert sorted((c["name"], c["action"]) for c in result["changes"]) == [
        ("api", "created"), ("old", "deleted"), ("web", "updated")]
    assert host.files() == before and len(host.reloads) == 1
    failed, real = apply("overridden", [dict(WEB, keepalive=0), API])
    assert real["changes"] == result["changes"] and real["after"] == result["after"]


def test_gathered_and_round_trip_is_byte_identical(apply, host):
    apply("merged", [WEB, API, OLD])
    original = host.files()
    failed, gathered = apply("gathered")
    assert not gathered["changed"] and names(gathered["gathered"]) == ["api", "old", "web"]
    # each upstream's health beside the rules (no agent ever ran: off), never inside them
    assert sorted(gathered["health"]) == ["api", "old", "web"]
    assert all(h["state"] == "off" and h["in_rotation"] for rule in gathered["health"].values() for h in rule.values())
    assert all("health" not in u for rule in gathered["gathered"] for u in rule["upstreams"])
    apply("overridden", [dict(WEB, server_name="other.local")])
    assert host.files() != original
    failed, result = apply("overridden", gathered["gathered"])
    assert result["changed"] and host.files() == original
    failed, result = apply("overridden", gathered["gathered"])
    assert not result["changed"]


def test_rendered_needs_no_host(apply, tmp_path, run_module):
    failed, result = run_module(lb_rules.main, {"state": "rendered", "config": [WEB, API],
                                                "nginx_binary": "/nonexistent", "rules_dir": str(tmp_path / "x")})
    assert not failed and not result["changed"] and len(result["rendered"]) == 2
    assert [(item["name"], item["file"]) for item in result["rendered"]] == [("web", "web.conf"), ("api", "api.conf")]
    assert "upstream antman_web {" in result["rendered"][0]["text"] and "listen 8080;" in result["rendered"][1]["text"]


def test_bad_item_names_item_field_and_value(apply, host):
    failed, result = apply("overridden", [WEB, dict(API, server_port=70000), dict(OLD, name="../x")])
    assert failed and "config[1] (rule 'api'): server_port: 70000 is out of range" in result["msg"]
    assert "config[2].name" in result["msg"] and host.files() == {}


def test_duplicate_names_and_clashes_in_config(apply):
    failed, result = apply("replaced", [WEB, WEB])
    assert failed and "listed twice" in result["msg"]
    failed, result = apply("replaced", [WEB, dict(API, server_port=80, server_name="WEB.local")])
    assert failed and "already used by rule" in result["msg"]


def test_parsed_imports_a_hand_written_config(run_module):
    text = """
    upstream backend { server 10.0.0.1:8080 weight=3; server 10.0.0.2:8080 backup; keepalive 16; }
    server {
        listen 80; server_name Shop.example.com;
        location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
                     proxy_read_timeout 30s; }
        location /static { root /srv; }
    }
    """
    failed, result = run_module(lb_rules.main, {"state": "parsed", "running_config": text})
    assert not failed and not result["changed"]
    (rule,) = result["parsed"]
    assert rule["name"] == "backend" and rule["server_name"] == ["shop.example.com"] and rule["keepalive"] == 16
    assert rule["read_timeout"] == "30s" and rule["connect_timeout"] == "60s"
    assert [(u["address"], u["weight"], u["backup"]) for u in rule["upstreams"]] == [
        ("10.0.0.1:8080", 3, False), ("10.0.0.2:8080", 1, True)]
    assert any("location '/static' ignored" in note for note in result["unsupported"])


def tries_notes(warnings):
    """The warnings about next_upstream_tries (a rule created on a port without a default server
    is warned about too, see test_lb_rule_catch_all.py)."""
    return [warning for warning in warnings if "next_upstream_tries" in warning]


@pytest.mark.parametrize("state", ["merged", "replaced", "overridden", "rendered"])
def test_a_backup_out_of_reach_of_the_tries_is_warned_about(apply, state, warnings):
    """Only the rules in the request are checked: a quiet WEB and a SHOP whose backup three
    primaries keep out of reach with the tries it gives."""
    shop = {"name": "shop", "server_name": "shop.local", "next_upstream_tries": 3, "upstreams": [
        {"address": "10.0.0.%d" % i} for i in (4, 5, 6)] + [{"address": "10.0.0.7", "backup": True}]}
    failed, result = apply(state, [WEB, shop])
    assert not failed, result
    assert len(tries_notes(warnings)) == 1 and "rule 'shop'" in tries_notes(warnings)[0] and "set it to at least 4" in tries_notes(warnings)[0]


TLS_RULE = {"name": "shop", "server_name": "shop.local", "server_port": 443, "upstreams": [{"address": "10.0.0.5"}],
            "tls": {"certificate": "/etc/ssl/shop.pem", "key": "/etc/ssl/shop.key"}}


@pytest.mark.parametrize("version, listen, http2_on", [
    (None, "listen 443 ssl http2;", False), ("1.22.1", "listen 443 ssl http2;", False), ("1.25", "listen 443 ssl http2;", False),
    ("1.25.1", "listen 443 ssl;", True), ("1.27.4", "listen 443 ssl;", True)])
def test_rendered_takes_the_nginx_version_as_an_option(apply, version, listen, http2_on):
    extra = {"nginx_version": version} if version else {}
    failed, result = apply("rendered", [TLS_RULE], **extra)
    assert not failed, result
    lines = [line.strip() for line in result["rendered"][0]["text"].splitlines()]
    assert listen in lines and ("http2 on;" in lines) == http2_on


@pytest.mark.parametrize("version", ["1.22.1; include /etc/shadow", "nginx/1.22.1", "1", "1.22.1.4", "", "latest"])
def test_a_bad_nginx_version_is_refused_by_name(apply, version):
    failed, result = apply("rendered", [TLS_RULE], nginx_version=version)
    assert failed and result["msg"].startswith("nginx_version: ") and "is not an nginx version" in result["msg"]


def test_other_states_read_the_version_from_the_host_and_refuse_the_option(apply, host):
    failed, result = apply("merged", [TLS_RULE], nginx_version="1.25.1")
    assert failed and "nginx_version: only state rendered takes it" in result["msg"] and host.files() == {}
    host.set_version("1.25.1")
    failed, result = apply("merged", [TLS_RULE])
    assert not failed and "http2 on;" in host.files()["shop.conf"]
    assert not apply("merged", [TLS_RULE])[1]["changed"]
    host.set_version("1.22.1")  # nginx downgraded: the file no longer fits the host, the next run rewrites it
    failed, result = apply("gathered")
    assert not failed and [r["name"] for r in result["gathered"]] == ["shop"]
    failed, result = apply("merged", [TLS_RULE])
    assert result["changed"] and "listen 443 ssl http2;" in host.files()["shop.conf"]


def test_a_host_that_does_not_include_the_rules_directory_is_refused_in_check_mode_too(host, run_module):
    """Check mode predicts the real run: without the include, both fail. (The load_balancer role's
    check mode plans over the base configuration it applies first with its own module,
    __load_balancer.lb_host_apply: lb_rules has no option for it.)"""
    with open(host.conf, "w") as handle:
        handle.write("events {}\nhttp {\n}\n")
    args = host.params(state="overridden", config=[WEB, API])
    for check_mode in (True, False):
        failed, result = run_module(lb_rules.main, args, check_mode=check_mode)
        assert failed and "is not included from the http context" in result["msg"]
    failed, result = run_module(lb_rules.main, dict(args, include_pending=True), check_mode=True)
    assert failed and "include_pending" in result["msg"]
    assert not host.files() and not host.reloads


def test_rules_that_would_take_a_name_from_the_host_s_own_servers_are_refused(host, run_module):
    with open(host.conf) as handle:
        text = handle.read()
    with open(host.conf, "w") as handle:
        handle.write(text.replace("http {\n", "http {\n    server { listen 80; server_name web.local; }\n"))
    failed, result = run_module(lb_rules.main, host.params(config=[WEB, API]))
    assert failed and result["problems"] == [
        "rule 'web': server_name 'web.local' on port 80 is served by the host's server in %s:3 (which already has "
        "server_name web.local); a rule would take it over" % host.conf]
    assert not host.files() and not host.reloads
