import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import PORTABLE, NginxFeatures, render_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host, read_snapshot
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import NginxError


def write(path, text):
    with open(str(path), "w") as handle:
        handle.write(text)


def test_snapshot_reads_managed_rules_and_reports_the_rest(tmp_path):
    rule = normalize_rule({"name": "web", "server_name": "a.com", "upstreams": [{"address": "b"}]})
    write(tmp_path / "web.conf", render_rule(rule, "/etc/nginx/antman.d"))
    write(tmp_path / "hand.conf", "server { listen 81; }\n")
    write(tmp_path / "notes.txt", "x")
    write(tmp_path / "drift.conf", render_rule(normalize_rule({"name": "drift", "server_name": "d.com",
                                                               "upstreams": [{"address": "b"}]}), "/etc/nginx/antman.d") + "# edit\n")
    write(tmp_path / "broken.conf", "# Managed by antsle.antman: rule broken.\n# antman-rule: {not json\n")
    snapshot = read_snapshot(str(tmp_path), "/etc/nginx/antman.d", PORTABLE)
    assert list(snapshot.rules()) == ["drift", "web"]
    assert snapshot.rules()["web"] == rule
    assert snapshot.managed["web"].in_sync and not snapshot.managed["drift"].in_sync
    assert snapshot.managed["broken"].rule is None
    assert snapshot.unmanaged == ["hand.conf", "notes.txt"]
    warnings = " ".join(snapshot.warnings())
    assert "hand.conf: not managed" in warnings and "broken.conf: unreadable rule header" in warnings


def test_missing_directory_is_empty(tmp_path):
    snapshot = read_snapshot(os.path.join(str(tmp_path), "nope"), "/etc/nginx/antman.d", PORTABLE)
    assert not snapshot.managed and not snapshot.unmanaged


def test_rules_are_listed_by_name_not_by_file_name(tmp_path):
    # "web-2.conf" sorts before "web.conf" ('-' < '.'), the rule "web" before "web-2"
    for name in ("web-2", "web", "a"):
        rule = normalize_rule({"name": name, "server_name": "%s.test" % name, "upstreams": [{"address": "b"}]})
        write(tmp_path / ("%s.conf" % name), render_rule(rule, "/etc/nginx/antman.d"))
    assert list(read_snapshot(str(tmp_path), "/etc/nginx/antman.d", PORTABLE).rules()) == ["a", "web", "web-2"]


def test_the_host_reader_checks_the_include_and_reads_latin1_configuration(tmp_path):
    rules_dir = tmp_path / "antman.d"
    conf = tmp_path / "nginx.conf"
    conf.write_bytes(b"# \xe9t\xe9\nevents {}\nhttp {\n}\n")
    with pytest.raises(NginxError, match="is not included from the http context"):
        Host.read(str(conf), str(rules_dir))
    conf.write_bytes(b"# \xe9t\xe9\nevents {}\nhttp {\n  include " + str(rules_dir).encode() + b"/*.conf;\n}\n")
    assert Host.read(str(conf), str(rules_dir)).snapshot(PORTABLE).rules() == {}
    with pytest.raises(NginxError, match="not found; set nginx_conf"):
        Host.read(str(tmp_path / "missing.conf"), str(rules_dir))


def test_a_rule_is_in_sync_only_for_the_host_it_was_rendered_for(tmp_path):
    """The text of a tls rule depends on the host's nginx version (HTTP/2 syntax), every rule's on
    its IPv6: the reader re-renders for the host it reads, and asks the version only when needed."""
    tls = normalize_rule({"name": "shop", "server_name": "a.com", "server_port": 443, "upstreams": [{"address": "b"}],
                          "tls": {"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}})
    plain = normalize_rule({"name": "web", "server_name": "a.com", "upstreams": [{"address": "b"}]})
    old, new = NginxFeatures((1, 22, 1)), NginxFeatures((1, 25, 1))
    for rule in (tls, plain):
        write(tmp_path / ("%s.conf" % rule["name"]), render_rule(rule, "/etc/nginx/antman.d", old))
    assert all(f.in_sync for f in read_snapshot(str(tmp_path), "/etc/nginx/antman.d", old).managed.values())
    upgraded = read_snapshot(str(tmp_path), "/etc/nginx/antman.d", new)
    assert not upgraded.managed["shop"].in_sync and upgraded.managed["web"].in_sync
    assert "http2 on;" in upgraded.managed["shop"].rendered
    no_ipv6 = read_snapshot(str(tmp_path), "/etc/nginx/antman.d", NginxFeatures((1, 22, 1), ipv6=False))
    assert not any(f.in_sync for f in no_ipv6.managed.values())
    asked = []
    lazy = NginxFeatures(version=lambda: asked.append(1) or (1, 22, 1))
    (tmp_path / "shop.conf").unlink()
    assert read_snapshot(str(tmp_path), "/etc/nginx/antman.d", lazy).managed["web"].in_sync and asked == []
