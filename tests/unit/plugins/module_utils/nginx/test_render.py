import json

import yaml

from ansible_collections.antsle.antman.plugins.doc_fragments.rule import ModuleDocFragment
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE_FIELDS
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import parse_managed_text


def make(**fields):
    base = {"name": "web", "server_name": ["web.local", "*.web.local"], "server_port": 8080,
            "upstreams": [{"address": "10.0.0.1", "weight": 3}, {"address": "[2001:db8::5]:81"},
                          {"address": "spare.local", "backup": True, "max_fails": 3, "fail_timeout": "30s"}]}
    base.update(fields)
    return normalize_rule(base)


def directives(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_render_is_deterministic_and_complete():
    text = render_rule(make(), "/etc/nginx/antman.d")
    assert text == render_rule(make(), "/etc/nginx/antman.d")
    lines = directives(text)
    assert lines[:2] == ["upstream antman_web {", "zone antman_web 256k;"]
    assert "server 10.0.0.1:80 weight=3 max_fails=3 fail_timeout=10s;" in lines
    assert "server [2001:db8::5]:81 weight=1 max_fails=3 fail_timeout=10s;" in lines
    assert "server spare.local:80 weight=1 max_fails=3 fail_timeout=30s backup;" in lines
    assert "keepalive 32;" in lines
    assert "listen 8080;" in lines and "server_name web.local *.web.local;" in lines
    assert "proxy_pass http://antman_web;" in lines
    assert "proxy_http_version 1.1;" in lines and 'proxy_set_header Connection "";' in lines
    assert "proxy_connect_timeout 1s;" in lines and "proxy_read_timeout 5s;" in lines
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in lines
    assert "proxy_next_upstream_tries 3;" in lines
    body = "\n".join(directives(text))
    assert body.count("{") == body.count("}") == 3


def test_methods_and_switches():
    lines = directives(render_rule(make(method="least_conn", keepalive=0, retry_non_idempotent=True), "/etc/nginx/antman.d"))
    assert "least_conn;" in lines
    assert not any(line.startswith("keepalive") for line in lines)
    assert "proxy_http_version 1.1;" not in lines
    assert "proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;" in lines
    ip_hash = directives(render_rule(make(method="ip_hash", upstreams=[{"address": "a"}, {"address": "b", "down": True}]), "/etc/nginx/antman.d"))
    assert "ip_hash;" in ip_hash and "server b:80 weight=1 max_fails=3 fail_timeout=10s down;" in ip_hash
    assert "round_robin;" not in directives(render_rule(make(), "/etc/nginx/antman.d"))


def test_header_round_trips_to_the_same_rule():
    rule = make()
    text = render_rule(rule, "/etc/nginx/antman.d")
    assert json.loads(text.splitlines()[1].split(": ", 1)[1]) == rule
    assert parse_managed_text("web", text) == (rule, None)
    assert parse_managed_text("other", text)[0] is None


def test_documented_defaults_match_the_model():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    for field in RULE_FIELDS:
        if field.has_default and field.default is not None:
            assert documented[field.name]["default"] == field.default, field.name
    for key in ("read_timeout", "keepalive", "retry_non_idempotent", "redirect_http", "tls"):
        assert "default" not in documented[key], key  # protocol-dependent: described, supplied by the model
