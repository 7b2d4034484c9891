# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx renderer: canonical rule -> nginx configuration text.

This is the only place that writes nginx syntax. It only ever receives canonical rules, whose
text values were checked against strict grammars by the model, so nothing here needs quoting.
The output is a pure function of the rule and of what the host's nginx offers (``NginxFeatures``:
its version decides the HTTP/2 syntax, the host's IPv6 whether ``[::]`` listeners are written):
same rule, same host, same bytes. Canonical rules themselves never depend on the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import effective_next_upstream_timeout, effective_tries
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import companion_names

HTTP_SUFFIX = ".conf"
STREAM_SUFFIX = ".stream"
HEADER_PREFIX = "# antman-rule: "
INDENT = "    "
# Retry on errors, timeouts and the gateway-type answers an antlet gives when its own app is
# down; never on 500 (a real application error, retrying could repeat its side effects).
NEXT_UPSTREAM_CONDITIONS = "error timeout http_502 http_503 http_504"
ZONE_SIZE = "256k"
# Requests with an Upgrade header (WebSocket handshakes) go to this named location, through an
# error_page redirect: no variable or map is defined that could clash with the host's own.
WEBSOCKET_LOCATION = "@antman_websocket"
WEBSOCKET_REDIRECT_STATUS = 418
# nginx 1.25.1 replaced "listen ... http2" (per listening socket) with "http2 on;" (per server).
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)


class NginxFeatures:
    """What a rule's text depends on besides the rule: the host nginx's version (None: unknown,
    then the HTTP/2 syntax every version with HTTP/2 accepts, ``listen ... http2``) and whether the
    host has IPv6 (``[::]`` listeners). ``version`` may be a callable, asked once and only when a
    rule needs it (a tls rule with http2)."""

    def __init__(self, version=None, ipv6=True):
        self._version = version
        self.ipv6 = ipv6

    @property
    def version(self):
        if callable(self._version):
            self._version = self._version()
        return self._version

    def http2_directive(self):
        """Whether HTTP/2 is turned on with ``http2 on;`` (nginx >= 1.25.1), not a listen parameter."""
        return self.version is not None and tuple(self.version) >= HTTP2_DIRECTIVE_SINCE


# Rendered without a host (lb_rules state=rendered without nginx_version): syntax every nginx accepts.
PORTABLE = NginxFeatures()


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


def listen_lines(port, parameters, rule, features):
    """``listen`` on IPv4, and on IPv6 when the rule asks for it and the host has it."""
    suffix = "".join(" " + p for p in parameters)
    lines = ["listen %d%s;" % (port, suffix)]
    if rule["ipv6"] and features.ipv6:
        lines.append("listen [::]:%d%s;" % (port, suffix))
    return lines


def forwarded_headers(rule):
    """(header, value) sent to the upstreams. The Host the client asked for, with the port when it
    is not its scheme's default (what a browser sends, so applications build correct URLs)."""
    default_port = 443 if rule.get("tls") else 80
    host = "$host" if rule["server_port"] == default_port else "$host:%d" % rule["server_port"]
    return [
        ("Host", host),
        ("X-Real-IP", "$remote_addr"),
        ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        ("X-Forwarded-Proto", "$scheme"),
        ("X-Forwarded-Host", host),
        ("X-Forwarded-Port", "$server_port"),
    ]


def render_retry_directives(rule, read_timeout):
    conditions = NEXT_UPSTREAM_CONDITIONS + (" non_idempotent" if rule["retry_non_idempotent"] else "")
    return [
        "proxy_connect_timeout %s;" % rule["connect_timeout"],
        "proxy_send_timeout %s;" % read_timeout,
        "proxy_read_timeout %s;" % read_timeout,
        "proxy_next_upstream %s;" % conditions,
        "proxy_next_upstream_tries %d;" % effective_tries(rule),
        "proxy_next_upstream_timeout %s;" % effective_next_upstream_timeout(rule),
    ]


def render_proxy_directives(rule):
    """``location /``: ordinary requests, over kept-alive upstream connections."""
    lines = []
    if rule["websocket"]:
        lines += ["error_page %d = %s;" % (WEBSOCKET_REDIRECT_STATUS, WEBSOCKET_LOCATION),
                  "if ($http_upgrade) {", INDENT + "return %d;" % WEBSOCKET_REDIRECT_STATUS, "}"]
    lines.append("proxy_pass http://%s;" % upstream_name(rule))
    if rule["keepalive"]:
        # Upstream keepalive needs HTTP/1.1 and an empty Connection header (nginx sends "close").
        lines += ["proxy_http_version 1.1;", 'proxy_set_header Connection "";']
    lines += ["proxy_set_header %s %s;" % header for header in forwarded_headers(rule)]
    lines += render_retry_directives(rule, rule["read_timeout"])
    if not rule["buffering"]:
        lines += ["proxy_buffering off;", "proxy_request_buffering off;"]
    return lines


def render_websocket_directives(rule):
    """The upgrade location: Upgrade and Connection forwarded, the idle timeout of an upgraded
    connection (nginx applies proxy_read_timeout between any two reads on it)."""
    lines = ["proxy_pass http://%s;" % upstream_name(rule), "proxy_http_version 1.1;",
             "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection upgrade;"]
    lines += ["proxy_set_header %s %s;" % header for header in forwarded_headers(rule)]
    lines += render_retry_directives(rule, rule["websocket_timeout"])
    return lines


def render_tls_directives(rule, rules_dir):
    tls = rule["tls"]
    if "certificate" in tls:
        certificate, key = tls["certificate"], tls["key"]
    else:
        certificate, key = (os.path.join(rules_dir, n) for n in companion_names(rule["name"]))
    return ["ssl_certificate %s;" % certificate, "ssl_certificate_key %s;" % key,
            "ssl_protocols %s;" % " ".join(tls["protocols"])]


def render_server_block(rule, rules_dir, features):
    tls = rule.get("tls")
    http2 = bool(tls) and rule["http2"]
    parameters = (["ssl"] if tls else []) + (["http2"] if http2 and not features.http2_directive() else [])
    lines = ["server {"]
    lines.extend(INDENT + line for line in listen_lines(rule["server_port"], parameters, rule, features))
    if http2 and features.http2_directive():
        lines.append(INDENT + "http2 on;")
    lines.append(INDENT + "server_name %s;" % " ".join(rule["server_name"]))
    if tls:
        lines.extend(INDENT + line for line in render_tls_directives(rule, rules_dir))
    lines.append(INDENT + "client_max_body_size %s;" % rule["client_max_body_size"])
    lines += ["", INDENT + "location / {"]
    lines.extend(INDENT * 2 + line for line in render_proxy_directives(rule))
    lines.append(INDENT + "}")
    if rule["websocket"]:
        lines += ["", INDENT + "location %s {" % WEBSOCKET_LOCATION]
        lines.extend(INDENT * 2 + line for line in render_websocket_directives(rule))
        lines.append(INDENT + "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_redirect_block(rule, features):
    """The extra port-80 server of ``redirect_http``: 301 to the same host and path over https."""
    port = "" if rule["server_port"] == 443 else ":%d" % rule["server_port"]
    lines = ["server {"]
    lines.extend(INDENT + line for line in listen_lines(80, [], rule, features))
    lines += [
        INDENT + "server_name %s;" % " ".join(rule["server_name"]),
        INDENT + "return 301 https://$host%s$request_uri;" % port,
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_stream_server_block(rule, features):
    parameters = ["udp"] if rule["protocol"] == "udp" else []
    lines = ["server {"]
    lines.extend(INDENT + line for line in listen_lines(rule["server_port"], parameters, rule, features))
    lines += [
        INDENT + "proxy_pass %s;" % upstream_name(rule),
        INDENT + "proxy_connect_timeout %s;" % rule["connect_timeout"],
        INDENT + "proxy_timeout %s;" % rule["read_timeout"],
        INDENT + "proxy_next_upstream on;",
        INDENT + "proxy_next_upstream_tries %d;" % effective_tries(rule),
    ]
    timeout = effective_next_upstream_timeout(rule)
    if timeout is not None:
        lines.append(INDENT + "proxy_next_upstream_timeout %s;" % timeout)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_rule(rule, rules_dir, features=PORTABLE):
    """The complete file for one canonical rule. ``rules_dir`` locates certificate files that the
    collection writes beside the rule (tls given as content); ``features`` is what the host's nginx
    offers (the host reader and the transaction always pass the host's)."""
    if is_stream(rule):
        return "%s%s\n%s" % (render_header(rule), render_upstream_block(rule), render_stream_server_block(rule, features))
    text = "%s%s\n%s" % (render_header(rule), render_upstream_block(rule), render_server_block(rule, rules_dir, features))
    if rule.get("redirect_http"):
        text += "\n" + render_redirect_block(rule, features)
    return text
