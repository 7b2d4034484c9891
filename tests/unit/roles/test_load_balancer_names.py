"""Every name the collection adds to nginx's http level (the role's drop-in and the rule files: log
formats, upstreams, shared memory zones, variables) starts with ``antman_``, so it cannot clash with
the names hosts define themselves (``main``, ``backend``, ``$connection_upgrade``, ...). The host's
own names are found by the same scanner the modules use."""
import os
import re

import jinja2
import yaml
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import ConfScan
from ansible_collections.antsle.antman.plugins.filter.lb_role_plan import lb_role_plan
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule
from ansible_collections.antsle.antman.tests.support.schema_files import ROOT


def to_bool(value):
    return boolean(value, strict=False)


ROLE = os.path.join(ROOT, "roles", "load_balancer")
SET_RE = re.compile(r"\bset\s+\$([A-Za-z0-9_]+)")
TLS = {"certificate": "/etc/ssl/a.crt", "key": "/etc/ssl/a.key"}
RULES = [
    {"name": "web", "server_name": "web.test", "upstreams": [{"address": "10.1.1.102"}, {"address": "10.1.1.103", "backup": True}]},
    {"name": "shop", "server_name": "shop.test", "server_port": 443, "tls": TLS, "redirect_http": True,
     "method": "least_conn", "upstreams": [{"address": "10.1.1.104:8080"}]},
    {"name": "sticky", "server_name": "s.test", "method": "ip_hash", "keepalive": 0, "upstreams": [{"address": "10.1.1.105"}]},
]


def dropin_text(host=None):
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        variables = yaml.safe_load(handle)
    # The role's facts: its plan (filter lb_role_plan) and its host module's answer (lb_host_facts).
    plan = lb_role_plan(RULES, {}, {}, rules_dir=variables["antman_lb_rules_dir"],
                        stream_conf_path=variables["antman_lb_stream_conf_path"],
                        status_listen=variables["antman_lb_status_listen"], extra_ports=[8080])
    facts = {"dropin": {"includes_rules": True}, "rules_included_by": [], "catch_all_ports": [80, 443, 8080],
             "tls_ports": [443], "hash_bucket_size": 512, "ipv6": True}
    facts.update(host or {})
    variables.update(ansible_managed="Ansible managed", _antman_lb_plan=plan, _antman_lb_host=facts)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")),
                                     keep_trailing_newline=True, trim_blocks=True)
    environment.filters["comment"] = lambda text, decoration="": "# " + text
    environment.filters["bool"] = to_bool
    return environment.get_template("antman.conf.j2").render(**variables)


def test_the_drop_in_includes_the_rules_unless_the_host_does(tmp_path):
    assert "\ninclude /etc/nginx/antman.d/*.conf;\n" in dropin_text()
    host = {"dropin": {"includes_rules": False}, "rules_included_by": [{"file": "/etc/nginx/nginx.conf", "line": 31}]}
    text = dropin_text(host)
    assert "include /etc/nginx/antman.d/*.conf;" not in text
    assert "# The rules (/etc/nginx/antman.d/*.conf) are included by the host's own configuration:\n# /etc/nginx/nginx.conf" in text


def added_names(tmp_path, text):
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp {\n%s\n}\n" % text)
    scan = ConfScan(str(path))
    return [(d.kind, d.name) for d in scan.definitions] + [("variable", name) for name in SET_RE.findall(text)]


def test_the_drop_in_and_the_rules_only_add_antman_names(tmp_path):
    text = dropin_text() + "".join(render_rule(normalize_rule(raw), "/etc/nginx/antman.d") for raw in RULES)
    names = added_names(tmp_path, text)
    assert ("log_format", "antman_upstream") in names and ("upstream", "antman_web") in names
    assert ("zone", "antman_shop") in names
    assert [name for name in names if not name[1].startswith("antman_")] == []


def test_the_scanner_finds_the_names_hosts_commonly_define(tmp_path):
    """What the checks above would catch: antMan's UI map, RHEL's log format, a hand-written upstream."""
    host = ("log_format main '$remote_addr';\nmap $http_upgrade $connection_upgrade { default upgrade; }\n"
            "upstream backend { zone backend 64k; server 127.0.0.1:3000; }\n"
            "limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\n")
    assert added_names(tmp_path, host) == [("log_format", "main"), ("variable", "connection_upgrade"),
                                           ("upstream", "backend"), ("zone", "backend"), ("zone", "one")]
