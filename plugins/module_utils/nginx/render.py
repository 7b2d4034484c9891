# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx renderer: canonical rule -> nginx configuration text.

This is the only place that writes nginx syntax. It only ever receives canonical rules, whose
text values were checked against strict grammars by the model, so nothing here needs quoting.
The output is a pure function of the rule: same rule, same bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.antsle.antman.plugins.module_utils.model.tls import companion_names

HTTP_SUFFIX = ".conf"
STREAM_SUFFIX = ".stream"
HEADER_PREFIX = "# antman-rule: "
INDENT = "    "
# Retry on errors, timeouts and the gateway-type answers an antlet gives when its own app is
# down; never on 500 (a real application error, retrying could repeat its side effects).
NEXT_UPSTREAM_CONDITIONS = "error timeout http_502 http_503 http_504"
ZONE_SIZE = "256k"
FORWARDED_HEADERS = (
    ("Host", "$host"),
    ("X-Real-IP", "$remote_addr"),
    ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
    ("X-Forwarded-Proto", "$scheme"),
)


def upstream_name(rule):
    return "antman_%s" % rule["name"]


def is_stream(rule):
    return rule["protocol"] in ("tcp", "udp")


def rule_file_name(rule):
    """``<name>.conf`` (included in nginx's http context) or ``<name>.stream`` (stream context)."""
    return rule["name"] + (STREAM_SUFFIX if is_stream(rule) else HTTP_SUFFIX)


def render_header(rule):
    """Two comment lines: a human note, and the canonical rule as one line of JSON (ASCII only),
    which is how the reader gets the rule back without parsing nginx syntax."""
    return "# Managed by antsle.antman: rule %s. Do not edit, changes are overwritten.\n%s%s\n" % (
        rule["name"], HEADER_PREFIX, json.dumps(rule, separators=(",", ":"), ensure_ascii=True))


def render_server_line(upstream, rule):
    parts = ["server", upstream["address"], "weight=%d" % upstream["weight"]]
    max_fails = upstream["max_fails"] if upstream["max_fails"] is not None else rule["max_fails"]
    fail_timeout = upstream["fail_timeout"] if upstream["fail_timeout"] is not None else rule["fail_timeout"]
    parts.append("max_fails=%d" % max_fails)
    parts.append("fail_timeout=%s" % fail_timeout)
    if upstream["backup"]:
        parts.append("backup")
    if upstream["down"]:
        parts.append("down")
    return " ".join(parts) + ";"


def render_upstream_block(rule):
    name = upstream_name(rule)
    # The shared zone makes every worker use one round-robin state and one failure count:
    # exact weights with any number of workers, and a failed upstream is skipped by all of them.
    lines = ["upstream %s {" % name, INDENT + "zone %s %s;" % (name, ZONE_SIZE)]
    if rule["method"] == "ip_hash" and is_stream(rule):
        lines.append(INDENT + "hash $remote_addr;")  # the stream module's client-IP stickiness
    elif rule["method"] != "round_robin":
        lines.append(INDENT + "%s;" % rule["method"])
    lines.extend(INDENT + render_server_line(upstream, rule) for upstream in rule["upstreams"])
    if rule.get("keepalive"):
        lines.append(INDENT + "keepalive %d;" % rule["keepalive"])
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_proxy_directives(rule):
    lines = ["proxy_pass http://%s;" % upstream_name(rule)]
    if rule["keepalive"]:
        # Upstream keepalive needs HTTP/1.1 and an empty Connection header (nginx sends "close").
        lines += ["proxy_http_version 1.1;", 'proxy_set_header Connection "";']
    lines += ["proxy_set_header %s %s;" % header for header in FORWARDED_HEADERS]
    conditions = NEXT_UPSTREAM_CONDITIONS + (" non_idempotent" if rule["retry_non_idempotent"] else "")
    lines += [
        "proxy_connect_timeout %s;" % rule["connect_timeout"],
        "proxy_send_timeout %s;" % rule["read_timeout"],
        "proxy_read_timeout %s;" % rule["read_timeout"],
        "proxy_next_upstream %s;" % conditions,
        "proxy_next_upstream_tries %d;" % rule["next_upstream_tries"],
    ]
    return lines


def render_tls_directives(rule, rules_dir):
    tls = rule["tls"]
    if "certificate" in tls:
        certificate, key = tls["certificate"], tls["key"]
    else:
        certificate, key = (os.path.join(rules_dir, n) for n in companion_names(rule["name"]))
    return ["ssl_certificate %s;" % certificate, "ssl_certificate_key %s;" % key,
            "ssl_protocols %s;" % " ".join(tls["protocols"])]


def render_server_block(rule, rules_dir):
    tls = rule.get("tls")
    lines = [
        "server {",
        INDENT + "listen %d%s;" % (rule["server_port"], " ssl" if tls else ""),
        INDENT + "server_name %s;" % " ".join(rule["server_name"]),
    ]
    if tls:
        lines.extend(INDENT + line for line in render_tls_directives(rule, rules_dir))
    lines += ["", INDENT + "location / {"]
    lines.extend(INDENT * 2 + line for line in render_proxy_directives(rule))
    lines += [INDENT + "}", "}"]
    return "\n".join(lines) + "\n"


def render_redirect_block(rule):
    """The extra port-80 server of ``redirect_http``: 301 to the same host and path over https."""
    port = "" if rule["server_port"] == 443 else ":%d" % rule["server_port"]
    return "\n".join([
        "server {",
        INDENT + "listen 80;",
        INDENT + "server_name %s;" % " ".join(rule["server_name"]),
        INDENT + "return 301 https://$host%s$request_uri;" % port,
        "}",
    ]) + "\n"


def render_stream_server_block(rule):
    lines = [
        "server {",
        INDENT + "listen %d%s;" % (rule["server_port"], " udp" if rule["protocol"] == "udp" else ""),
        INDENT + "proxy_pass %s;" % upstream_name(rule),
        INDENT + "proxy_connect_timeout %s;" % rule["connect_timeout"],
        INDENT + "proxy_timeout %s;" % rule["read_timeout"],
        INDENT + "proxy_next_upstream on;",
        INDENT + "proxy_next_upstream_tries %d;" % rule["next_upstream_tries"],
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_rule(rule, rules_dir):
    """The complete file for one canonical rule. ``rules_dir`` locates certificate files that the
    collection writes beside the rule (tls given as content)."""
    if is_stream(rule):
        return "%s%s\n%s" % (render_header(rule), render_upstream_block(rule), render_stream_server_block(rule))
    text = "%s%s\n%s" % (render_header(rule), render_upstream_block(rule), render_server_block(rule, rules_dir))
    if rule.get("redirect_http"):
        text += "\n" + render_redirect_block(rule)
    return text
