"""Hand-written hostile inputs against the model: each is refused with its expected message, which
names the field and shows the value (escaped, on one line)."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import parse_time, show
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set
from ansible_collections.antsle.antman.tests.support.hostile_cases import BASE, CASES
from ansible_collections.antsle.antman.tests.support.nginx_oracle import check_rendered


def refusal(raw):
    with pytest.raises(RuleError) as error:
        normalize_rule(raw)
    return error.value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_with_its_message(case):
    error = refusal(case.raw())
    message = str(error)
    assert case.error in message
    assert all(" " <= ch <= "~" for ch in message), "message must be one printable ASCII line: %r" % message
    if case.secret:
        assert case.secret not in message and "PRIVATE KEY" not in message


def test_the_table_covers_every_text_field_and_problem_kind():
    ids = set(c.id for c in CASES)
    for field in ("name", "server_name", "address", "connect_timeout", "read_timeout", "fail_timeout", "method",
                  "protocol", "tls-certificate", "tls-key"):
        assert len([i for i in ids if i.startswith("inject-%s-" % field)]) >= 10, field
    for kind in ("name-traversal", "address-http-url", "server-port-0", "server-port-65536", "server-port-negative",
                 "server-port-string", "weight-0", "weight-negative", "weight-huge", "weight-true",
                 "upstreams-duplicate", "upstreams-all-backup", "upstreams-all-down", "upstreams-backup-with-ip-hash",
                 "type-name-dict", "type-address-dict", "type-server-name-dict",
                 "tcp-server-name", "tcp-tls", "tcp-keepalive-0", "tcp-redirect-false", "udp-retry-non-idempotent",
                 "tls-path-traversal", "tls-path-variable", "tls-content-unicode-key", "tls-content-key-in-certificate",
                 "tls-key-pasted-as-key-path", "redirect-without-tls", "redirect-on-port-80"):
        assert kind in ids
    assert len([c for c in CASES if c.secret]) >= 15


def test_values_in_messages_are_escaped_and_bounded():
    error = refusal(dict(BASE, server_name="a\n" * 10000))
    (problem,) = error.problems
    assert "\n" not in str(error) and "...(30002 characters)" in problem and len(problem) < 250


@pytest.mark.parametrize("spelling", ["5s\t", "\r5s", " 5s ", "5s\u2028", "\u00a05s", "5000ms"])
def test_whitespace_around_times_is_trimmed_and_never_reaches_nginx(spelling):
    rule = normalize_rule(dict(BASE, read_timeout=spelling))
    assert rule["read_timeout"] == "5s" == parse_time(spelling, 1, 3600000)
    check_rendered(rule, render_rule(rule, "/etc/nginx/antman.d"))


def test_show_survives_values_python_cannot_print():
    deep = []
    for _unused in range(100000):
        deep = [deep]
    assert show(deep) == "<list too large or too deeply nested to show>"
    assert show(10 ** 5000) == "<int too large or too deeply nested to show>"


def rules(*specs):
    """Canonical rules from (name, server names, port) or (name, server names, port, extra fields);
    server names None for tcp and udp rules."""
    made = []
    for spec in specs:
        name, names, port = spec[:3]
        made.append(normalize_rule(dict(BASE, name=name, server_name=names, server_port=port,
                                        **(spec[3] if len(spec) > 3 else {}))))
    return made


TCP, UDP = {"protocol": "tcp"}, {"protocol": "udp"}
TLS = {"tls": {"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}}
REDIRECT = dict(TLS, redirect_http=True)


@pytest.mark.parametrize("specs, expected", [
    ([("web", "web.local", 80), ("api", ["api.local", "WEB.local"], 80)],
     "rule 'web': server_name 'web.local' on server_port 80 is already used by rule 'api'"),
    ([("web", "*.example.com", 8080), ("api", "*.EXAMPLE.com", 8080)],
     "server_name '*.example.com' on server_port 8080 is already used"),
    ([("web", "web.local", 80), ("Web", "other.local", 80)],
     "rule 'web': name clashes with rule 'Web' (rule names are case-insensitive)"),
    # tcp and udp rules listen in nginx's stream context: a socket for themselves alone
    ([("web", "web.local", 8080), ("ssh", None, 8080, TCP)],
     "rule 'web': tcp port 8080 is already used by rule 'ssh' (tcp)"),
    ([("a", None, 2222, TCP), ("b", None, 2222, TCP)], "rule 'b': tcp port 2222 is already used by rule 'a' (tcp)"),
    ([("a", None, 53, UDP), ("b", None, 53, UDP)], "rule 'b': udp port 53 is already used by rule 'a' (udp)"),
    ([("shop", "shop.local", 443, REDIRECT), ("raw80", None, 80, TCP)],
     "rule 'shop': tcp port 80 is already used by rule 'raw80' (tcp)"),
    # http rules on one port share it, and must agree on TLS (nginx makes the port TLS for all)
    ([("plain", "plain.local", 8443), ("tls", "tls.local", 8443, TLS)],
     "rule 'tls': server_port 8443 is plain HTTP in rule 'plain'; all http rules on a port must agree on tls"),
    ([("a-shop", "shop.local", 443, REDIRECT), ("b-tls80", "tls80.local", 80, TLS)],
     "rule 'b-tls80': server_port 80 is plain HTTP in rule 'a-shop' (its redirect_http); all http rules on a port "
     "must agree on tls"),
    ([("z-shop", "shop.local", 443, REDIRECT), ("b-tls80", "tls80.local", 80, TLS)],
     "rule 'z-shop': redirect_http (port 80) is TLS in rule 'b-tls80'; all http rules on a port must agree on tls"),
    # the redirect's server names count on port 80
    ([("shop", "shop.local", 443, REDIRECT), ("web", ["web.local", "shop.local"], 80)],
     "rule 'web': server_name 'shop.local' on server_port 80 is already used by rule 'shop'"),
    ([("shop", "shop.local", 443, REDIRECT), ("shop2", "SHOP.local", 8443, REDIRECT)],
     "rule 'shop2': server_name 'shop.local' on server_port 80 is already used by rule 'shop'"),
])
def test_rules_that_clash_across_the_set_are_refused(specs, expected):
    with pytest.raises(RuleError) as error:
        check_rule_set(rules(*specs))
    assert expected in str(error.value)


def test_same_server_name_on_another_port_is_no_clash():
    check_rule_set(rules(("web", "web.local", 80), ("web-alt", "web.local", 8080)))


@pytest.mark.parametrize("specs", [
    [("dns-tcp", None, 53, TCP), ("dns-udp", None, 53, UDP)],  # one port number, two transports
    [("web", "web.local", 8053), ("dns", None, 8053, UDP)],
    [("shop", "shop.local", 443, REDIRECT), ("web", "web.local", 80)],  # the redirect shares plain port 80
    [("shop", "shop.local", 443, REDIRECT), ("api", "api.local", 443, TLS)],
], ids=["tcp-and-udp", "http-and-udp", "redirect-and-plain-80", "tls-shared"])
def test_sockets_nginx_can_share_are_no_clash(specs):
    check_rule_set(rules(*specs))


def test_the_changing_rule_is_blamed_not_the_one_in_place():
    with pytest.raises(RuleError) as error:
        check_rule_set(rules(("zzz", "web.local", 80), ("aaa", "web.local", 80)), changing={"aaa"})
    assert "rule 'aaa': server_name 'web.local' on server_port 80 is already used by rule 'zzz'" in str(error.value)


def test_acme_challenge_server_takes_its_names_on_port_80():
    acme = {"name": "shop", "server_name": "shop.local", "server_port": 443, "tls": {"acme": True},
            "upstreams": [{"address": "10.0.0.1"}]}
    plain = {"name": "web", "server_name": ["web.local", "shop.local"], "server_port": 80, "upstreams": [{"address": "10.0.0.2"}]}
    with pytest.raises(RuleError) as error:
        check_rule_set([normalize_rule(acme), normalize_rule(plain)])
    assert "rule 'web': server_name 'shop.local' on server_port 80 is already used by rule 'shop'" in str(error.value)
    # other names share port 80 with it
    check_rule_set([normalize_rule(acme), normalize_rule(dict(plain, server_name="web.local"))])
    tls80 = dict(plain, server_name="web.local", tls={"certificate": "/c.pem", "key": "/k.pem"})
    with pytest.raises(RuleError) as error:
        check_rule_set([normalize_rule(acme), normalize_rule(tls80)])
    assert ("rule 'web': server_port 80 is plain HTTP in rule 'shop' (its ACME challenge server); "
            "all http rules on a port must agree on tls") in str(error.value)
