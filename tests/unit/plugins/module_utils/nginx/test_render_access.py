"""The renderer and the options that decide who reaches a rule (allow_from, rate_limit,
real_ip_from, proxy_protocol, proxy_protocol_upstream), and the promise made when they were added:
a rule that uses none of them renders byte for byte as before (``rendered_before_access.json``
was written by the renderer of commit c221268, the last one without them; the TLS lines of the
https rule were re-recorded when the TLS defaults became Mozilla's intermediate profile, a change
of its own), so existing rule files are not rewritten and their throughput cannot change.

The passive failover change (slow pages no longer take healthy upstreams out) is a change of its
own too: new rules get ``max_fails`` 5 where these were written with 3, and an http rule without
backups ``proxy_next_upstream_timeout`` of one try instead of three. A file written before keeps its
stored ``max_fails``; the timeout line is the one line of it that is rewritten.

One access log per request (issue 26) is a change of its own too: every http server block of a rule
(and its port-80 block) gains one line after its server_name, the include of the role's server-level
settings (``ROLE_INCLUDE``); nothing else in a file written before changes."""
import json
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import parse_managed_text
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import NginxFeatures, render_rule
from ansible_collections.antsle.antman.tests.support.nginx_oracle import check_rendered

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rendered_before_access.json")
RULES = {
    "http-defaults": {
        "name": "web",
        "server_name": "web.local",
        "upstreams": [
            {
                "address": "10.0.0.1"
            }
        ]
    },
    "http-everything": {
        "name": "shop",
        "server_name": [
            "shop.local",
            "*.shop.local"
        ],
        "server_port": 443,
        "ipv6": True,
        "method": "least_conn",
        "tls": {
            "certificate": "/etc/ssl/shop.pem",
            "key": "/etc/ssl/shop.key"
        },
        "redirect_http": True,
        "http2": True,
        "websocket": False,
        "keepalive": 0,
        "buffering": False,
        "retry_non_idempotent": True,
        "client_max_body_size": "1g",
        "connect_timeout": "500ms",
        "read_timeout": "30s",
        "next_upstream_tries": 2,
        "upstreams": [
            {
                "address": "10.0.0.1:8080",
                "weight": 3
            },
            {
                "address": "[2001:db8::5]:8080",
                "backup": True
            },
            {
                "address": "app.local",
                "down": True,
                "max_fails": 1,
                "fail_timeout": "30s"
            }
        ]
    },
    "http-ip-hash": {
        "name": "api",
        "server_name": "api.local",
        "server_port": 8080,
        "method": "ip_hash",
        "ipv6": False,
        "upstreams": [
            {
                "address": "10.0.0.1"
            },
            {
                "address": "10.0.0.2"
            }
        ]
    },
    "tcp": {
        "name": "ssh",
        "protocol": "tcp",
        "server_port": 2222,
        "method": "ip_hash",
        "upstreams": [
            {
                "address": "10.0.0.1:22"
            },
            {
                "address": "10.0.0.2:22",
                "backup": False
            }
        ]
    },
    "udp": {
        "name": "dns",
        "protocol": "udp",
        "server_port": 5353,
        "next_upstream_timeout": "2s",
        "upstreams": [
            {
                "address": "10.0.0.1:53"
            }
        ]
    }
}
FEATURES = {"portable": NginxFeatures(), "1.25.1-no-ipv6": NginxFeatures((1, 25, 1), ipv6=False)}


def golden():
    with open(GOLDEN) as handle:
        return json.load(handle)


WRITTEN_WITH = {"max_fails": 3}  # the default when the golden file was written
ROLE_INCLUDE = "    include /etc/nginx/antman.d-server.con[f];"


def with_role_include(text):
    """A file written before, with the include line every http server block of a rule has since."""
    lines = text.split("\n")
    return "\n".join(line + ("\n" + ROLE_INCLUDE if line.startswith("    server_name ") else "") for line in lines)


ONE_TRY = {"http-defaults": ("18s", "6s"), "http-ip-hash": ("18s", "6s")}  # http rules without backups


@pytest.mark.parametrize("key", sorted(golden()))
def test_a_rule_without_the_options_renders_byte_for_byte_as_before(key):
    case_id, features_id = key.split("/")
    expected = with_role_include(golden()[key])
    if case_id in ONE_TRY:
        before, now = ONE_TRY[case_id]
        assert expected.count("proxy_next_upstream_timeout %s;" % before) == 2
        expected = expected.replace("proxy_next_upstream_timeout %s;" % before, "proxy_next_upstream_timeout %s;" % now)
    rule = normalize_rule(dict(RULES[case_id], **WRITTEN_WITH))
    assert render_rule(rule, "/etc/nginx/antman.d", FEATURES[features_id]) == expected


@pytest.mark.parametrize("key", sorted(golden()))
def test_a_file_written_before_keeps_its_max_fails_and_changes_at_most_its_next_upstream_timeout(key):
    written = golden()[key]
    rule, problem = parse_managed_text(RULES[key.split("/")[0]]["name"], written)
    assert problem is None and rule["max_fails"] == 3
    now = render_rule(rule, "/etc/nginx/antman.d", FEATURES[key.split("/")[1]])
    assert now.count(ROLE_INCLUDE) == with_role_include(written).count(ROLE_INCLUDE) == written.count("    server_name ")
    written = with_role_include(written)
    changed = [(a, b) for a, b in zip(written.splitlines(), now.splitlines()) if a != b]
    assert len(now.splitlines()) == len(written.splitlines())
    assert all(a.strip().startswith("proxy_next_upstream_timeout ") and b.strip() == "proxy_next_upstream_timeout 6s;"
               for a, b in changed), changed
    assert bool(changed) == (key.split("/")[0] in ONE_TRY)


def test_new_rules_get_max_fails_5():
    assert normalize_rule(RULES["http-defaults"])["max_fails"] == 5
    text = render_rule(normalize_rule(RULES["http-defaults"]), "/etc/nginx/antman.d")
    assert "server 10.0.0.1:80 weight=1 max_fails=5 fail_timeout=10s;" in text


def test_the_golden_file_covers_every_rule_and_host():
    assert sorted(golden()) == sorted("%s/%s" % (rule, host) for rule in RULES for host in FEATURES)


def web(**fields):
    return normalize_rule(dict({"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1"}]}, **fields))


def ssh(**fields):
    return normalize_rule(dict({"name": "ssh", "protocol": "tcp", "server_port": 2222,
                                "upstreams": [{"address": "10.0.0.1:22"}]}, **fields))


def lines(text):
    return [line.strip() for line in text.splitlines()]


def test_cidrs_are_canonical_single_hosts_bare_ipv6_compressed():
    rule = web(allow_from=["10.1.0.0/16", "127.0.0.2/32", "2001:DB8:0:0:0:0:0:0/32", "::1/128", "0.0.0.0/0"])
    assert rule["allow_from"] == ["10.1.0.0/16", "127.0.0.2", "2001:db8::/32", "::1", "0.0.0.0/0"]


def test_allow_from_renders_allow_lines_then_deny_all_at_server_level():
    rule = web(allow_from=["127.0.0.2", "10.0.0.0/8"])
    text = render_rule(rule, "/etc/nginx/antman.d")
    body = lines(text)
    assert body[body.index("allow 127.0.0.2;"):body.index("deny all;") + 1] == ["allow 127.0.0.2;", "allow 10.0.0.0/8;", "deny all;"]
    assert body.index("deny all;") < body.index("location / {")
    check_rendered(rule, text)


def test_rate_limit_has_a_zone_of_its_own_and_answers_429_with_retry_after():
    rule = web(rate_limit={"requests_per_second": 10, "burst": 5})
    text = render_rule(rule, "/etc/nginx/antman.d")
    body = lines(text)
    assert body[2] == "limit_req_zone $binary_remote_addr zone=antman_web_req:1m rate=10r/s;"
    assert body.count("limit_req zone=antman_web_req burst=5 nodelay;") == 2  # location / and the WebSocket one
    assert "limit_req_status 429;" in body and "error_page 429 @antman_rate_limited;" in body
    assert body[body.index("location @antman_rate_limited {") + 1:][:2] == ["add_header Retry-After 1 always;", "return 429;"]
    check_rendered(rule, text)


def test_burst_defaults_to_zero():
    assert web(rate_limit={"requests_per_second": 3})["rate_limit"] == {"requests_per_second": 3, "burst": 0}


def test_real_ip_from_reads_x_forwarded_for_or_the_proxy_protocol_header():
    body = lines(render_rule(web(real_ip_from=["192.0.2.0/24"]), "/x"))
    assert ["set_real_ip_from 192.0.2.0/24;", "real_ip_header X-Forwarded-For;", "real_ip_recursive on;"] == [
        line for line in body if line.startswith(("set_real_ip_from", "real_ip"))]
    rule = web(real_ip_from=["192.0.2.0/24"], proxy_protocol=True)
    body = lines(render_rule(rule, "/x"))
    assert "real_ip_header proxy_protocol;" in body and "listen 80 proxy_protocol;" in body
    check_rendered(rule, render_rule(rule, "/etc/nginx/antman.d"))


def test_tcp_rule_with_every_option():
    rule = ssh(allow_from=["127.0.0.2"], rate_limit={"connections": 2}, real_ip_from=["192.0.2.1"], proxy_protocol=True,
               proxy_protocol_upstream=True)
    text = render_rule(rule, "/etc/nginx/antman.d")
    body = lines(text)
    assert body[2] == "limit_conn_zone $binary_remote_addr zone=antman_ssh_conn:1m;"
    for line in ("listen 2222 proxy_protocol;", "set_real_ip_from 192.0.2.1;", "allow 127.0.0.2;", "deny all;",
                 "limit_conn antman_ssh_conn 2;", "proxy_protocol on;"):
        assert line in body, line
    assert not any(line.startswith("real_ip_header") for line in body)  # the stream module has only PROXY protocol
    check_rendered(rule, text)


def test_the_header_leaves_out_options_at_their_default_and_reads_back_the_same_rule():
    from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import parse_managed_text
    for rule in (web(), ssh(), web(allow_from=["10.0.0.0/8"]), ssh(proxy_protocol_upstream=True)):
        text = render_rule(rule, "/etc/nginx/antman.d")
        header = json.loads(text.splitlines()[1].split(": ", 1)[1])
        assert all(key in header for key, value in rule.items() if value not in (None, False) and key != "health_check"), header
        assert "allow_from" not in header or rule["allow_from"]
        assert "health_check" not in header  # at its default, a dict
        assert parse_managed_text(rule["name"], text) == (rule, None)


def test_http_rules_on_one_port_must_agree_on_proxy_protocol():
    one = web(real_ip_from=["192.0.2.1"], proxy_protocol=True)
    other = normalize_rule({"name": "api", "server_name": "api.local", "upstreams": [{"address": "10.0.0.2"}]})
    with pytest.raises(RuleError, match=r"rule 'web': proxy_protocol is on on port 80 but off in rule 'api'"):
        check_rule_set([one, other], changing=("web",))
    check_rule_set([one, normalize_rule({"name": "api", "server_name": "api.local", "server_port": 8080,
                                         "upstreams": [{"address": "10.0.0.2"}]})])
