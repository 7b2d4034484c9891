import json

import pytest
import yaml

from ansible_collections.antsle.antman.plugins.modules import lb_rule
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import (
    NginxFeatures, is_server_snippet_include, render_rule, server_snippet_path)
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE_FIELDS, defaults_for
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import parse_managed_text


def make(**fields):
    base = {"name": "web", "server_name": ["web.local", "*.web.local"], "server_port": 8080,
            "upstreams": [{"address": "10.0.0.1", "weight": 3}, {"address": "[2001:db8::5]:81"},
                          {"address": "spare.local", "backup": True, "max_fails": 3, "fail_timeout": "30s"}]}
    base.update(fields)
    return normalize_rule(base)


def directives(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def block(text, opening):
    """The directives of the block that opens with ``opening`` (e.g. ``location / {``), nested blocks included."""
    lines = directives(text)
    start = lines.index(opening)
    depth, body = 0, []
    for line in lines[start:]:
        depth += line.count("{") - line.count("}")
        body.append(line)
        if depth == 0:
            return body[1:-1]
    raise AssertionError("unclosed block %s" % opening)


def test_render_is_deterministic_and_complete():
    text = render_rule(make(), "/etc/nginx/antman.d")
    assert text == render_rule(make(), "/etc/nginx/antman.d")
    lines = directives(text)
    assert lines[:2] == ["upstream antman_web {", "zone antman_web 256k;"]
    assert "server 10.0.0.1:80 weight=3 max_fails=5 fail_timeout=10s;" in lines
    assert "server [2001:db8::5]:81 weight=1 max_fails=5 fail_timeout=10s;" in lines
    assert "server spare.local:80 weight=1 max_fails=3 fail_timeout=30s backup;" in lines
    assert "keepalive 32;" in lines
    assert "listen 8080;" in lines and "listen [::]:8080;" in lines and "server_name web.local *.web.local;" in lines
    assert "client_max_body_size 200m;" in lines
    location = block(text, "location / {")
    assert "proxy_pass http://antman_web;" in location
    assert "proxy_http_version 1.1;" in location and 'proxy_set_header Connection "";' in location
    assert "proxy_connect_timeout 1s;" in location and "proxy_read_timeout 5s;" in location
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in location
    # a backup: every upstream in rotation may be tried; three tries' worth of time at most
    assert "proxy_next_upstream_tries 3;" in location and "proxy_next_upstream_timeout 18s;" in location
    assert not any(line.startswith(("proxy_buffering", "proxy_request_buffering")) for line in location)
    body = "\n".join(directives(text))
    assert body.count("{") == body.count("}") == 5


def test_methods_and_switches():
    lines = directives(render_rule(make(method="least_conn", keepalive=0, retry_non_idempotent=True), "/etc/nginx/antman.d"))
    assert "least_conn;" in lines
    assert not any(line.startswith("keepalive") for line in lines)
    assert "proxy_http_version 1.1;" not in block(text_of(method="least_conn", keepalive=0), "location / {")
    assert "proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;" in lines
    ip_hash = directives(render_rule(make(method="ip_hash", upstreams=[{"address": "a"}, {"address": "b", "down": True}]), "/etc/nginx/antman.d"))
    assert "ip_hash;" in ip_hash and "server b:80 weight=1 max_fails=5 fail_timeout=10s down;" in ip_hash
    assert "round_robin;" not in directives(render_rule(make(), "/etc/nginx/antman.d"))


def text_of(features=NginxFeatures(), **fields):
    return render_rule(make(**fields), "/etc/nginx/antman.d", features)


def test_websocket_upgrades_leave_for_a_location_of_their_own():
    """Ordinary requests keep upstream keepalive (Connection ""); requests with an Upgrade header go
    to @antman_websocket, which forwards it and has the long idle timeout. No map, no variable."""
    text = text_of(websocket_timeout="2h", read_timeout="4s")
    location = block(text, "location / {")
    assert location[:4] == ["error_page 418 = @antman_websocket;", "if ($http_upgrade) {", "return 418;", "}"]
    assert 'proxy_set_header Connection "";' in location and "proxy_read_timeout 4s;" in location
    upgrade = block(text, "location @antman_websocket {")
    for line in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection upgrade;",
                 "proxy_read_timeout 7200s;", "proxy_send_timeout 7200s;", "proxy_connect_timeout 1s;",
                 "proxy_set_header X-Forwarded-Host $host:8080;"):
        assert line in upgrade, line
    assert not any(line.startswith(("map ", "set ")) or "$connection_upgrade" in line for line in directives(text))
    off = text_of(websocket=False)
    assert "@antman_websocket" not in off and "$http_upgrade" not in off


@pytest.mark.parametrize("port, tls, host", [(80, False, "$host"), (8080, False, "$host:8080"), (443, True, "$host"),
                                             (443, False, "$host:443"), (8443, True, "$host:8443")])
def test_forwarded_host_carries_the_port_unless_it_is_the_schemes_own(port, tls, host):
    fields = {"server_port": port}
    if tls:
        fields["tls"] = {"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}
    location = block(text_of(**fields), "location / {")
    assert "proxy_set_header Host %s;" % host in location
    assert "proxy_set_header X-Forwarded-Host %s;" % host in location
    assert "proxy_set_header X-Forwarded-Port $server_port;" in location
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in location


def test_http2_syntax_follows_the_nginx_version():
    tls = {"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}
    for version in (None, (1, 22, 1), (1, 25, 0)):
        lines = directives(text_of(NginxFeatures(version), tls=tls, server_port=443))
        assert "listen 443 ssl http2;" in lines and "listen [::]:443 ssl http2;" in lines, version
        assert "http2 on;" not in lines
    for version in ((1, 25, 1), (1, 27, 3), (2, 0, 0)):
        lines = directives(text_of(NginxFeatures(version), tls=tls, server_port=443))
        assert "listen 443 ssl;" in lines and "listen [::]:443 ssl;" in lines and "http2 on;" in lines, version
    for version in ((1, 22, 1), (1, 25, 1)):
        lines = directives(text_of(NginxFeatures(version), tls=tls, server_port=443, http2=False))
        assert "listen 443 ssl;" in lines and "http2 on;" not in lines
    plain = directives(text_of(NginxFeatures((1, 25, 1))))
    assert "listen 8080;" in plain and not any("http2" in line for line in plain)


def test_ipv6_listeners_need_the_rule_and_the_host():
    redirect = {"tls": {"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}, "server_port": 443, "redirect_http": True}
    both = directives(text_of(**redirect))
    assert [line for line in both if line.startswith("listen")] == [
        "listen 443 ssl http2;", "listen [::]:443 ssl http2;", "listen 80;", "listen [::]:80;"]
    for text in (text_of(ipv6=False, **redirect), text_of(NginxFeatures(ipv6=False), **redirect)):
        assert [line for line in directives(text) if line.startswith("listen")] == ["listen 443 ssl http2;", "listen 80;"]
    stream = normalize_rule({"name": "dns", "protocol": "udp", "server_port": 53, "upstreams": [{"address": "10.0.0.1:53"}]})
    assert [line for line in directives(render_rule(stream, "/x")) if line.startswith("listen")] == [
        "listen 53 udp;", "listen [::]:53 udp;"]


def test_body_size_and_buffering():
    assert "client_max_body_size 0;" in directives(text_of(client_max_body_size=0))
    assert "client_max_body_size 1g;" in directives(text_of(client_max_body_size="1024M"))
    location = block(text_of(buffering=False), "location / {")
    assert location[-2:] == ["proxy_buffering off;", "proxy_request_buffering off;"]
    assert "proxy_buffering off;" not in block(text_of(buffering=False), "location @antman_websocket {")


@pytest.mark.parametrize("upstreams, tries", [
    ([{"address": "a"}, {"address": "b"}], 3),
    ([{"address": "a", "weight": 5}, {"address": "b"}, {"address": "c"}, {"address": "d", "backup": True}], 4),
    ([{"address": "a"}, {"address": "b", "down": True}, {"address": "c", "backup": True},
      {"address": "d", "backup": True}], 3),
    ([{"address": "a"}, {"address": "b", "backup": True, "down": True}], 3),
])
def test_default_tries_reach_every_backup(upstreams, tries):
    location = block(text_of(upstreams=upstreams), "location / {")
    assert "proxy_next_upstream_tries %d;" % tries in location
    given = block(text_of(upstreams=upstreams, next_upstream_tries=2, next_upstream_timeout="0"), "location / {")
    assert "proxy_next_upstream_tries 2;" in given and "proxy_next_upstream_timeout 0s;" in given


def test_next_upstream_timeout_is_one_try_or_three_with_backups_unless_given():
    one = [{"address": "a"}, {"address": "b"}]
    assert "proxy_next_upstream_timeout 31s;" in directives(text_of(read_timeout="30s", upstreams=one))
    assert "proxy_next_upstream_timeout 1500ms;" in directives(text_of(read_timeout="1s", connect_timeout="500ms", upstreams=one))
    backup = one + [{"address": "c", "backup": True}]
    assert "proxy_next_upstream_timeout 93s;" in directives(text_of(read_timeout="30s", upstreams=backup))
    down_backup = one + [{"address": "c", "backup": True, "down": True}]
    assert "proxy_next_upstream_timeout 31s;" in directives(text_of(read_timeout="30s", upstreams=down_backup))
    assert "proxy_next_upstream_timeout 10s;" in directives(text_of(next_upstream_timeout="10s"))
    tcp = normalize_rule({"name": "ssh", "protocol": "tcp", "server_port": 22, "upstreams": [{"address": "a:22"}]})
    assert not any(line.startswith("proxy_next_upstream_timeout") for line in directives(render_rule(tcp, "/x")))
    tcp["next_upstream_timeout"] = "5s"
    assert "proxy_next_upstream_timeout 5s;" in directives(render_rule(tcp, "/x"))


def test_the_version_is_only_asked_for_a_tls_rule_with_http2():
    asked = []
    features = NginxFeatures(version=lambda: asked.append(1) or (1, 25, 1))
    text_of(features)
    text_of(features, tls={"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}, http2=False)
    assert asked == []
    assert "http2 on;" in text_of(features, tls={"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"})
    text_of(features, tls={"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"})
    assert asked == [1]


def test_header_round_trips_to_the_same_rule():
    rule = make()
    text = render_rule(rule, "/etc/nginx/antman.d")
    quiet = ("allow_from", "rate_limit", "real_ip_from", "proxy_protocol", "health_check")  # left out at their defaults
    assert json.loads(text.splitlines()[1].split(": ", 1)[1]) == dict((k, v) for k, v in rule.items() if k not in quiet)
    assert parse_managed_text("web", text) == (rule, None)
    assert parse_managed_text("other", text)[0] is None


def test_documented_defaults_are_what_the_model_gives_an_http_rule():
    documented = yaml.safe_load(lb_rule.DOCUMENTATION)["options"]
    http = defaults_for("http")
    for field in RULE_FIELDS:
        if field.name == "proxy_protocol_upstream":
            assert documented[field.name]["default"] is False  # tcp only: its one default
        elif field.options:
            assert "default" not in documented[field.name], field.name  # its options state theirs
        elif http.get(field.name) is not None:
            assert documented[field.name]["default"] == http[field.name], field.name
        else:
            assert "default" not in documented[field.name], field.name  # computed from the rule, or nothing


MOZILLA_INTERMEDIATE = [
    "ssl_protocols TLSv1.2 TLSv1.3;",
    "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;",
    "ssl_ecdh_curve X25519:prime256v1:secp384r1;",
    "ssl_prefer_server_ciphers off;",
]


def test_tls_follows_mozilla_intermediate_and_hsts_only_when_given():
    plain = directives(render_rule(make(server_port=443, tls={"certificate": "/c.pem", "key": "/k.pem"}), "/r"))
    start = plain.index("ssl_certificate_key /k.pem;") + 1
    assert plain[start:start + 4] == MOZILLA_INTERMEDIATE
    assert not any("Strict-Transport-Security" in line for line in plain)
    hsts = directives(render_rule(make(server_port=443, tls={"certificate": "/c.pem", "key": "/k.pem", "hsts": 63072000}), "/r"))
    assert "add_header Strict-Transport-Security max-age=63072000 always;" in block("\n".join(hsts), "server {")


@pytest.mark.parametrize("redirect, otherwise", [(False, "return 404;"), (True, "return 301 https://$host$request_uri;")])
def test_acme_rule_answers_challenges_on_port_80_for_its_names_only(redirect, otherwise):
    rule = make(server_port=443, server_name=["web.local", "www.web.local"], tls={"acme": True, "acme_dir": "/srv/acme"},
                redirect_http=redirect)
    text = render_rule(rule, "/etc/nginx/antman.d")
    tls_server = block(text, "server {")
    assert "ssl_certificate /srv/acme/certs/web.pem;" in tls_server
    assert "ssl_certificate_key /srv/acme/private/web.key;" in tls_server
    port80 = text[text.index("server {", text.index("server {") + 1):]
    assert block(port80, "server {") == [
        "listen 80;", "listen [::]:80;", "server_name web.local www.web.local;",
        "include /etc/nginx/antman.d-server.con[f];",
        "location ^~ /.well-known/acme-challenge/ {", "root /srv/acme/challenge;", "default_type text/plain;", "}",
        "location / {", otherwise, "}"]


def test_every_http_server_of_a_rule_includes_the_roles_settings_beside_the_rules_dir():
    """The role's access log reaches a rule's requests through this include (one log per request,
    the host's other servers untouched); a glob, so a host without the role is not an error."""
    rule = make(server_port=443, tls={"certificate": "/etc/ssl/web.pem", "key": "/etc/ssl/web.key"}, redirect_http=True)
    text = render_rule(rule, "/srv/lb/rules/")
    line = "include /srv/lb/rules-server.con[f];"
    assert directives(text).count(line) == 2  # the TLS server and its port-80 redirect
    assert line in block(text, "server {") and line not in block(text, "location / {")
    assert render_rule(make(), "/etc/nginx/antman.d").count("include /etc/nginx/antman.d-server.con[f];") == 1
    stream = render_rule(normalize_rule({"name": "ssh", "protocol": "tcp", "server_port": 2222,
                                         "upstreams": [{"address": "10.0.0.1:22"}]}), "/etc/nginx/antman.d")
    assert "include" not in stream  # the stream context logs nothing of the role's
    assert server_snippet_path("/etc/nginx/antman.d/") == "/etc/nginx/antman.d-server.conf"
    assert is_server_snippet_include("/etc/nginx/antman.d-server.con[f]") and not is_server_snippet_include("x.conf")
