"""TLS termination, redirect and TCP/UDP rules: model, renderer and rule-set checks."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule, rule_file_name
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, merge_rule, normalize_rule, parse_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import sha256

CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydA==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIALabc123==\n-----END PRIVATE KEY-----\n"


def https(**fields):
    raw = {"name": "shop", "server_name": "shop.local", "server_port": 443,
           "tls": {"certificate_content": CERT, "key_content": KEY}, "upstreams": [{"address": "10.0.0.1"}]}
    raw.update(fields)
    return raw


def tcp(**fields):
    raw = {"name": "ssh", "protocol": "tcp", "server_port": 2222,
           "upstreams": [{"address": "10.0.0.1:22", "weight": 2}, {"address": "10.0.0.2:22", "backup": True}]}
    raw.update(fields)
    return raw


def lines(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_tls_content_is_kept_out_of_the_canonical_rule_and_the_file():
    rule, content = parse_rule(https())
    assert rule["tls"] == {"certificate_sha256": sha256(CERT.encode()), "key_sha256": sha256(KEY.encode()),
                           "protocols": ["TLSv1.2", "TLSv1.3"]}
    assert content.key == KEY.encode() and content.certificate == CERT.encode()
    text = render_rule(rule, "/etc/nginx/antman.d")
    assert "TOPSECRET" not in text and "TOPSECRET" not in repr(dict(rule))
    body = lines(text)
    assert "listen 443 ssl http2;" in body
    assert "ssl_certificate /etc/nginx/antman.d/shop.crt;" in body
    assert "ssl_certificate_key /etc/nginx/antman.d/shop.key;" in body
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in body


def test_tls_paths_and_redirect():
    rule = normalize_rule(https(tls={"certificate": "/etc/ssl/shop.pem", "key": "/etc/ssl/private/shop.key",
                                     "protocols": ["TLSv1.3"]}, redirect_http=True))
    body = lines(render_rule(rule, "/etc/nginx/antman.d"))
    assert "ssl_certificate /etc/ssl/shop.pem;" in body and "ssl_protocols TLSv1.3;" in body
    assert body[-6:] == ["listen 80;", "listen [::]:80;", "server_name shop.local;",
                         "include /etc/nginx/antman.d-server.con[f];", "return 301 https://$host$request_uri;", "}"]
    other_port = lines(render_rule(normalize_rule(https(server_port=8443, redirect_http=True)), "/etc/nginx/antman.d"))
    assert "return 301 https://$host:8443$request_uri;" in other_port


@pytest.mark.parametrize("tls, expected", [
    ({"certificate": "/a.crt"}, "give certificate and key"),
    ({"certificate": "/a.crt", "key": "/a.key", "key_content": KEY}, "give certificate and key"),
    ({"certificate": "relative.crt", "key": "/a.key"}, "tls.certificate"),
    ({"certificate": "/a.crt; include /etc/passwd", "key": "/a.key"}, "tls.certificate"),
    ({"certificate": "/etc/../a.crt", "key": "/a.key"}, "tls.certificate"),
    ({"certificate_content": KEY, "key_content": CERT}, "tls.certificate_content: is not a PEM certificate"),
    ({"certificate_content": CERT, "key_content": "TOPSECRET nonsense"}, "tls.key_content: is not an unencrypted"),
    ({"certificate": "/a.crt", "key": "/a.key", "protocols": ["SSLv3"]}, "tls.protocols"),
    ({"certificate": "/a.crt", "key": "/a.key", "ciphers": "ALL"}, 'unsupported field "ciphers"'),
    ("cert.pem", "tls: \"cert.pem\" is a str"),
])
def test_bad_tls(tls, expected):
    with pytest.raises(RuleError) as error:
        normalize_rule(https(tls=tls))
    assert expected in str(error.value)
    assert "TOPSECRET" not in str(error.value)


def test_redirect_needs_tls_and_another_port():
    with pytest.raises(RuleError, match="redirect_http: true needs tls"):
        normalize_rule(https(tls=None, server_port=8080, redirect_http=True))
    with pytest.raises(RuleError, match="other than 80"):
        normalize_rule(https(server_port=80, redirect_http=True))


def test_tcp_and_udp_rules_render_in_stream_context():
    rule = normalize_rule(tcp(method="ip_hash", upstreams=[{"address": "10.0.0.1:22"}, {"address": "10.0.0.2:22"}]))
    assert list(rule) == ["name", "protocol", "server_port", "ipv6", "method", "upstreams", "connect_timeout",
                          "read_timeout", "max_fails", "fail_timeout", "next_upstream_tries", "next_upstream_timeout",
                          "allow_from", "rate_limit", "real_ip_from", "proxy_protocol", "proxy_protocol_upstream",
                          "health_check"]
    assert rule["read_timeout"] == "600s" and rule_file_name(rule) == "ssh.stream"
    body = lines(render_rule(rule, "/etc/nginx/antman.d"))
    assert "hash $remote_addr;" in body and "listen 2222;" in body and "proxy_pass antman_ssh;" in body
    assert "proxy_timeout 600s;" in body and "proxy_next_upstream on;" in body
    assert not any(line.startswith(("server_name", "location", "keepalive", "proxy_http_version")) for line in body)
    udp = normalize_rule(tcp(name="dns", protocol="udp", server_port=53))
    assert udp["read_timeout"] == "10s" and "listen 53 udp;" in lines(render_rule(udp, "/etc/nginx/antman.d"))
    assert "server 10.0.0.2:22 weight=1 max_fails=5 fail_timeout=10s backup;" in lines(render_rule(udp, "/etc/nginx/antman.d"))


@pytest.mark.parametrize("field, value", [("server_name", "a.local"), ("keepalive", 8), ("retry_non_idempotent", False),
                                          ("tls", {"certificate": "/a", "key": "/b"}), ("redirect_http", True)])
def test_http_only_fields_are_refused_for_stream(field, value):
    with pytest.raises(RuleError, match="%s: does not apply to protocol tcp" % field):
        normalize_rule(tcp(**{field: value}))


def test_protocol_change_in_merge_drops_http_fields():
    web = normalize_rule(https())
    merged = normalize_rule(merge_rule(web, {"protocol": "tcp", "server_port": 9000}))
    assert merged["protocol"] == "tcp" and "server_name" not in merged and merged["read_timeout"] == "600s"


def test_merge_tls_keeps_content_form_when_only_protocols_change():
    web = normalize_rule(https())
    merged = normalize_rule(merge_rule(web, {"tls": {"protocols": ["TLSv1.3"]}}))
    assert merged["tls"]["key_sha256"] == web["tls"]["key_sha256"] and merged["tls"]["protocols"] == ["TLSv1.3"]


def test_rule_set_port_clashes():
    web = normalize_rule({"name": "web", "server_name": "web.local", "server_port": 2222, "upstreams": [{"address": "a"}]})
    with pytest.raises(RuleError, match="tcp port 2222 is already used by rule"):
        check_rule_set([web, normalize_rule(tcp())])
    with pytest.raises(RuleError, match="tcp port 2222"):
        check_rule_set([normalize_rule(tcp()), normalize_rule(tcp(name="ssh2"))])
    check_rule_set([normalize_rule(tcp()), normalize_rule(tcp(name="dns", protocol="udp"))])
    with pytest.raises(RuleError, match="udp port 2222"):
        check_rule_set([normalize_rule(tcp(protocol="udp")), normalize_rule(tcp(name="dns", protocol="udp"))])


def test_rule_set_tls_agreement_and_redirect_names():
    secure = normalize_rule(https(redirect_http=True))
    plain443 = normalize_rule({"name": "plain", "server_name": "plain.local", "server_port": 443,
                               "upstreams": [{"address": "a"}]})
    with pytest.raises(RuleError, match="must agree on tls"):
        check_rule_set([secure, plain443])
    on80 = normalize_rule({"name": "old", "server_name": "shop.local", "upstreams": [{"address": "a"}]})
    with pytest.raises(RuleError, match="server_name 'shop.local' on server_port 80 is already used"):
        check_rule_set([on80, secure], changing={"shop"})
    tcp80 = normalize_rule(tcp(server_port=80))
    with pytest.raises(RuleError, match="tcp port 80"):
        check_rule_set([secure, tcp80])
