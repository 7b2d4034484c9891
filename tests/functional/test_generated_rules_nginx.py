"""Generated rules, written as one rule set through the real transaction, accepted by a real
``nginx -t``; then read back unchanged. The sets mix plain http rules, https rules (certificate
and key as paths or as content written beside the rule, from a certificate openssl makes for the
test), redirects from port 80, and tcp and udp rules in nginx's stream context (when nginx has the
stream module). Upstream addresses are IP literals or localhost, so they resolve on any machine.
HYPOTHESIS_PROFILE=nightly runs many more rule sets."""
import os
import shutil
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.antsle.antman.tests.support.harness import STREAM_MODULE, NginxInstance, make_certificate

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import parse_rule
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import read_snapshot
from ansible_collections.antsle.antman.tests.support.rule_strategies import (
    PROTOCOLS, RESOLVABLE_ADDRESS, budget, rule_pair)

RULES_PER_SET = 40
# nginx builds a server-name hash for a port that several server blocks share; its default bucket
# (64 bytes here) only holds exact names of up to 46 characters. 512 holds any valid name (253).
HASH_BUCKETS = "    server_names_hash_bucket_size 512;\n"
PLAIN_PORTS, TLS_PORTS, STREAM_FIRST_PORT = (80, 8080, 8081), (8443, 8444), 9000
# nginx -t reads every file but binds no socket: port 80 needs no privilege and may be in use.
HAS_STREAM = os.path.exists(STREAM_MODULE)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    paths = make_certificate(tmp_path_factory.mktemp("generated-tls"), "generated.test")
    with open(paths["certificate"]) as handle:
        paths["certificate_content"] = handle.read()
    with open(paths["key"]) as handle:
        paths["key_content"] = handle.read()
    return paths


def real_tls(raw_tls, certificate):
    """The generated tls with the test's own certificate in the same form (paths, or content;
    digests become content: their files would not be on the host) and the same protocols."""
    real = {"protocols": raw_tls.get("protocols")}
    if raw_tls.get("certificate") is not None:
        real.update(certificate=certificate["certificate"], key=certificate["key"])
    else:
        real.update(certificate_content=certificate["certificate_content"], key_content=certificate["key_content"])
    return real


def assemble(pairs, certificate):
    """Rules that can live together: names unique by their index; plain http rules on three
    ports (the last one with PROXY protocol), https rules on two others (HTTP/2 on the first, not on
    the second), tcp and udp rules on ports of their own (a tcp and a udp
    rule share each port number); server names that another rule already has on the same port
    (its redirect's port 80 included) replaced by one of the rule's own."""
    owned, rules, next_stream_port = set(), [], {"tcp": STREAM_FIRST_PORT, "udp": STREAM_FIRST_PORT}
    for index, (raw, canonical) in enumerate(pairs):
        raw = dict(raw, name="r%d-%s" % (index, raw["name"][:58]))
        protocol = canonical["protocol"]
        if protocol != "http":
            raw["server_port"] = next_stream_port[protocol]
            next_stream_port[protocol] += 1
            rules.append(parse_rule(raw))
            continue
        if canonical["tls"] is not None:
            raw["tls"], raw["server_port"] = real_tls(raw["tls"], certificate), TLS_PORTS[index % 2]
        else:
            raw["server_port"] = PLAIN_PORTS[index % 3]
        rule, content = parse_rule(raw)
        rule["http2"] = rule["server_port"] != TLS_PORTS[1]
        # PROXY protocol is a setting of the listening socket: on for every rule of the last plain port only
        rule["proxy_protocol"] = rule["server_port"] == PLAIN_PORTS[2]
        if rule["proxy_protocol"] and not rule["real_ip_from"]:
            rule["real_ip_from"] = ["127.0.0.1"]
        ports = [rule["server_port"]] + ([80] if rule["redirect_http"] else [])
        names = [name for name in rule["server_name"] if not any((name, port) in owned for port in ports)]
        rule["server_name"] = names or ["r%d.generated.test" % index]
        owned |= set((name, port) for name in rule["server_name"] for port in ports)
        rules.append((rule, content))
    return [rule for rule, _content in rules], dict((rule["name"], content) for rule, content in rules if content)


PROTOCOLS_HERE = PROTOCOLS if HAS_STREAM else ("http",)
RULE_SETS = st.lists(rule_pair(address=RESOLVABLE_ADDRESS, max_upstreams=4, protocols=PROTOCOLS_HERE),
                     min_size=RULES_PER_SET, max_size=RULES_PER_SET)


def nginx_with_large_name_buckets(prefix):
    nginx = NginxInstance(prefix)
    with open(nginx.conf) as handle:
        text = handle.read().replace("http {\n", "http {\n" + HASH_BUCKETS, 1)
    with open(nginx.conf, "w") as handle:
        handle.write(text)
    return nginx


def check_certificate_files(nginx, rule, certificate):
    """A rule's certificate (0644) and key (0600) beside it when given as content, byte for byte."""
    if not rule.get("tls") or "certificate" in rule["tls"]:
        return 0
    for suffix, mode in (("crt", 0o644), ("key", 0o600)):
        path = os.path.join(nginx.rules_dir, "%s.%s" % (rule["name"], suffix))
        with open(path) as handle:
            assert handle.read() == certificate[("certificate" if suffix == "crt" else "key") + "_content"]
        assert os.stat(path).st_mode & 0o777 == mode, path
    return 2


@budget(4, shrink=False)
@given(RULE_SETS)
def test_generated_rule_sets_pass_nginx_t_and_read_back_unchanged(certificate, pairs):
    rules, contents = assemble(pairs, certificate)
    prefix = tempfile.mkdtemp(prefix="antman-generated-")
    try:
        nginx = nginx_with_large_name_buckets(prefix)
        desired = dict((rule["name"], rule) for rule in rules)
        applier = nginx.applier(reload=False)
        outcome = applier.run(lambda snapshot: desired, contents=contents)  # nginx -t, or ApplyError
        assert len(outcome.changes) == len(rules) == RULES_PER_SET
        snapshot = read_snapshot(nginx.rules_dir, nginx.rules_dir, applier.features)
        assert snapshot.rules() == desired and not snapshot.unmanaged
        assert all(managed.in_sync for managed in snapshot.managed.values())
        companions = sum(check_certificate_files(nginx, rule, certificate) for rule in rules)
        assert len(os.listdir(nginx.rules_dir)) == RULES_PER_SET + companions
    finally:
        shutil.rmtree(prefix)
