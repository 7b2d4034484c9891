import pytest

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_import import parse_config
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.tests.support.host_layouts import ANTMAN_BALANCED_DOMAIN as BALANCED_DOMAIN_TEMPLATE

RULES = [
    {"name": "web", "server_name": ["web.local", "*.web.local"], "upstreams": [{"address": "10.0.0.1", "weight": 3},
                                                                               {"address": "b.local", "backup": True}]},
    {"name": "api", "server_name": "api.local", "server_port": 8443, "method": "least_conn", "keepalive": 0,
     "read_timeout": "30s", "connect_timeout": "500ms", "retry_non_idempotent": True, "next_upstream_tries": 0,
     "upstreams": [{"address": "[2001:db8::5]:81", "down": True}, {"address": "10.0.0.2:81", "max_fails": 3}]},
    {"name": "sticky", "server_name": "s.local", "method": "ip_hash", "max_fails": 2, "fail_timeout": "30s",
     "upstreams": [{"address": "10.0.0.3"}, {"address": "10.0.0.4", "fail_timeout": "5s"}, {"address": "10.0.0.5"}]},
    {"name": "stream-up", "server_name": "up.local", "server_port": 8081, "ipv6": False, "buffering": False,
     "client_max_body_size": 0, "websocket_timeout": "2h", "next_upstream_timeout": "7s", "next_upstream_tries": 5,
     "upstreams": [{"address": "10.0.0.6"}, {"address": "10.0.0.7", "backup": True}]},
    {"name": "no-ws", "server_name": "nows.local", "websocket": False, "client_max_body_size": "1g",
     "upstreams": [{"address": "10.0.0.8"}]},
    {"name": "admin", "server_name": "admin.local", "allow_from": ["10.1.0.0/16", "127.0.0.2", "2001:db8::/32"],
     "real_ip_from": ["192.0.2.10"], "upstreams": [{"address": "10.0.0.9"}]},
]


@pytest.mark.parametrize("raw", RULES, ids=[r["name"] for r in RULES])
def test_rendered_rules_parse_back_to_the_same_rule(raw):
    rule = normalize_rule(raw)
    parsed, unsupported = parse_config(render_rule(rule, "/etc/nginx/antman.d"))
    assert parsed == [rule] and unsupported == []


def test_several_rules_in_one_text_with_http_wrapper():
    rules = [normalize_rule(r) for r in RULES]
    text = "http {\n%s}\n" % "".join(render_rule(r, "/etc/nginx/antman.d") for r in rules)
    parsed, unsupported = parse_config(text)
    assert parsed == rules and unsupported == []


def test_plain_config_means_nginx_defaults_and_notes_what_is_dropped():
    parsed, unsupported = parse_config("""
        server { listen 10.0.0.1:8080 default_server; server_name _ app.local ~^re;
                 access_log off;
                 location / { proxy_pass http://10.0.0.7:3000/app; proxy_set_header X-Custom 1; } }
        server { listen 443 ssl; server_name secure.local; location / { proxy_pass http://x; } }
        server { listen 81; server_name static.local; location / { root /srv; } }
        upstream pool { hash $request_uri; server 10.0.0.8 max_conns=10; }
        server { listen 82; server_name pool.local; location / { proxy_pass http://pool; } }
    """)
    assert [r["name"] for r in parsed] == ["app-local", "pool"]
    app = parsed[0]
    assert app["server_port"] == 8080 and app["server_name"] == ["app.local"]
    assert app["upstreams"][0]["address"] == "10.0.0.7:3000"
    assert (app["connect_timeout"], app["read_timeout"], app["keepalive"], app["next_upstream_tries"]) == ("60s", "60s", 0, 0)
    text = "\n".join(unsupported)
    for expected in ["listen parameter 'default_server' dropped", "server_name '_' dropped", "server_name '~^re' dropped",
                     "directive 'access_log' ignored", "proxy_pass URI part '/app' dropped",
                     "proxy_set_header X-Custom ignored", "listen with ssl", "location / does not proxy_pass",
                     "balancing method 'hash' is not supported", "parameter 'max_conns=10' dropped",
                     "listen address '10.0.0.1:8080' dropped"]:
        assert expected in text, expected


def test_syntax_errors_are_reported_with_lines():
    with pytest.raises(RuleError, match="running_config: line 1"):
        parse_config("server { listen 80; \n")


def test_imported_values_are_validated():
    parsed, unsupported = parse_config("upstream u { server evil.com;include weight=3; }\n"
                                       "server { listen 80; server_name a.local; location / { proxy_pass http://u; } }")
    assert parsed == [] or all(u["address"] != "evil.com;include" for u in parsed[0]["upstreams"])


def test_hand_written_websockets_uploads_and_ipv6_are_understood():
    parsed, unsupported = parse_config("""
        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
        server { listen 8080; listen [::]:8080; server_name chat.local; client_max_body_size 50M;
                 location / { proxy_pass http://10.0.0.9:3000; proxy_http_version 1.1; proxy_read_timeout 120s;
                              proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;
                              proxy_set_header Host $host:8080; proxy_set_header X-Forwarded-Host $host:8080;
                              proxy_buffering off; proxy_request_buffering off; proxy_next_upstream_timeout 30s; } }
        server { listen 81; server_name plain.local; location / { proxy_pass http://10.0.0.10; proxy_buffering off; } }
    """)
    chat, plain = parsed
    assert (chat["ipv6"], chat["websocket"], chat["websocket_timeout"], chat["read_timeout"]) == (True, True, "120s", "120s")
    assert (chat["client_max_body_size"], chat["buffering"], chat["next_upstream_timeout"]) == ("50m", False, "30s")
    assert (plain["ipv6"], plain["websocket"], plain["client_max_body_size"], plain["buffering"]) == (False, False, "1m", False)
    assert plain["next_upstream_timeout"] == "0s" and plain["next_upstream_tries"] == 0  # nginx's own: no limits
    assert unsupported == ["server (line 8): proxy_buffering and proxy_request_buffering differ; the rule's buffering "
                           "is off for both"]


# A balanced domain as antMan's Load Balancing page writes it (its template), with a Latin-1 comment.
ANTMAN_BALANCED_DOMAIN = b"# Domaine \xe9quilibr\xe9\n" + BALANCED_DOMAIN_TEMPLATE.encode()


@pytest.mark.parametrize("decode", [lambda b: b.decode("latin-1"), lambda b: b.decode("utf-8", "surrogateescape")],
                         ids=["as-latin1-text", "with-undecodable-bytes"])
def test_antman_s_balanced_domain_template_gives_an_applicable_rule_clamped_with_a_note(decode):
    parsed, unsupported = parse_config(decode(ANTMAN_BALANCED_DOMAIN))
    (rule,) = parsed
    assert rule == normalize_rule(rule)  # canonical: an operator can apply it as it is
    assert (rule["name"], rule["server_name"], rule["server_port"]) == ("my-balanced-page", ["my-balanced-page.local"], 80)
    assert [(u["address"], u["weight"], u["backup"]) for u in rule["upstreams"]] == [
        ("10.1.1.102:80", 3, False), ("10.1.1.103:80", 1, False), ("10.1.1.104:80", 1, True)]
    assert (rule["connect_timeout"], rule["read_timeout"]) == ("75s", "300s")
    # the template's Upgrade and Connection headers are its WebSocket forwarding, which rules have
    assert rule["websocket"] is True and rule["websocket_timeout"] == "300s"
    assert unsupported == [
        "server (line 8): proxy_connect_timeout 300s is beyond what a rule allows (1ms-75s); imported as 75s"]


def test_every_bounded_value_nginx_accepts_is_clamped_not_refused():
    parsed, unsupported = parse_config("""
        upstream u { server 10.0.0.1 weight=5000 max_fails=2000 fail_timeout=2h; server 10.0.0.2; keepalive 4096; }
        server { listen 80; server_name a.local;
                 location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection "";
                              proxy_read_timeout 2h; proxy_send_timeout 2h; proxy_next_upstream_tries 500; } }
    """)
    (rule,) = parsed
    assert rule["upstreams"][0]["weight"] == 1000
    # max_fails and fail_timeout: the first upstream's, clamped, are the most common (a tie), so the rule's.
    assert (rule["max_fails"], rule["fail_timeout"]) == (1000, "3600s")
    assert (rule["keepalive"], rule["read_timeout"], rule["next_upstream_tries"]) == (1024, "3600s", 100)
    text = "\n".join(unsupported)
    for note in ["upstream u (line 2): server 10.0.0.1 weight 5000 is beyond what a rule allows (1-1000); imported as 1000",
                 "keepalive 4096 is beyond what a rule allows (0-1024); imported as 1024",
                 "proxy_read_timeout 7200s is beyond what a rule allows (1ms-3600s); imported as 3600s",
                 "proxy_next_upstream_tries 500 is beyond what a rule allows (0-100); imported as 100"]:
        assert note in text, note
    assert "proxy_send_timeout differs" not in text


def test_allow_lists_and_trusted_proxies_are_imported_when_a_rule_can_say_the_same():
    parsed, unsupported = parse_config("""
        server { listen 8080; server_name a.local; allow 10.1.1.7/24; allow 127.0.0.2; deny all;
                 set_real_ip_from 192.0.2.10; real_ip_header X-Forwarded-For;
                 location / { proxy_pass http://10.0.0.1; } }
        server { listen 8080; server_name b.local; deny 10.0.0.1; allow all; set_real_ip_from 192.0.2.10;
                 location / { proxy_pass http://10.0.0.2; } }""")
    assert parsed[0]["allow_from"] == ["127.0.0.2"] and parsed[0]["real_ip_from"] == ["192.0.2.10"]
    assert parsed[1]["allow_from"] is None and parsed[1]["real_ip_from"] is None
    assert any("allow 10.1.1.7/24 dropped" in note and "host bits set" in note for note in unsupported), unsupported
    assert any("real_ip_recursive off imported as on" in note for note in unsupported), unsupported
    assert any("other than 'allow ...; deny all;' ignored" in note for note in unsupported), unsupported
    assert any("real_ip_header X-Real-IP ignored" in note for note in unsupported), unsupported


def test_an_allow_list_that_cannot_be_imported_is_not_opened_to_everyone():
    parsed, unsupported = parse_config("server { listen 8080; server_name a.local; allow 10.1.1.7/24; deny all; "
                                       "location / { proxy_pass http://10.0.0.1; } }")
    assert parsed == []
    assert any("none of its allow entries is an address a rule accepts; not imported" in note for note in unsupported)
