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
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import rotation
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import effective_next_upstream_timeout, effective_tries
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import QUIET_DEFAULTS
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import CHALLENGE_PATH, acme_files, companion_names, is_acme

HTTP_SUFFIX = ".conf"
STREAM_SUFFIX = ".stream"
HEADER_PREFIX = "# antman-rule: "
# After the server line of an upstream the health agent holds out of rotation.
HELD_OUT_NOTE = "  # out of rotation: failed its health check"
INDENT = "    "
# Retry on errors, timeouts and the gateway-type answers an antlet gives when its own app is
# down; never on 500 (a real application error, retrying could repeat its side effects).
NEXT_UPSTREAM_CONDITIONS = "error timeout http_502 http_503 http_504"
ZONE_SIZE = "256k"
# Requests with an Upgrade header (WebSocket handshakes) go to this named location, through an
# error_page redirect: no variable or map is defined that could clash with the host's own.
WEBSOCKET_LOCATION = "@antman_websocket"
WEBSOCKET_REDIRECT_STATUS = 418
# Mozilla's "intermediate" TLS profile (ssl-config.mozilla.org, guidelines 5.7): forward-secret AEAD
# suites only (no static-RSA key exchange, CBC, CAMELLIA or ARIA), the groups it lists, and the
# client's cipher preference (every suite offered is strong). TLS 1.3 suites are OpenSSL's own.
TLS_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305"])
TLS_CURVES = "X25519:prime256v1:secp384r1"
DEFAULT_TLS_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
# Per-client state of rate_limit: one zone per rule, 1m holds about 8000 client addresses (a state is
# 64 to 128 bytes); when it is full nginx forgets the least recently seen client.
LIMIT_ZONE_SIZE = "1m"
# Requests beyond rate_limit get 429 from this named location, which adds Retry-After (one second
# covers the wait for the next token at any rate of 1 r/s or more).
RATE_LIMITED_LOCATION = "@antman_rate_limited"
RATE_LIMITED_STATUS = 429
RETRY_AFTER_SECONDS = 1
# nginx 1.25.1 replaced "listen ... http2" (per listening socket) with "http2 on;" (per server).
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)
# Beside the rules directory (not in it: that is switched as a whole), the role's server-level settings
# of every rule (its access log): /etc/nginx/antman.d -> /etc/nginx/antman.d-server.conf.
SERVER_SNIPPET_SUFFIX = "-server.conf"


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


def server_snippet_path(rules_dir):
    """The file the role writes with the server-level settings every rule's http server includes."""
    return os.path.normpath(rules_dir) + SERVER_SNIPPET_SUFFIX


def server_snippet_include(rules_dir):
    """The include line of a rule's http server blocks. Written as a glob that matches only that file
    (its last letter in brackets): nginx does not fail on a glob that matches nothing, so a host without
    the role (modules only) serves the rule with its own http-level logging, and with the role the
    rule's requests are logged once, to the role's log (a server-level access_log replaces the ones
    inherited from http, the host's own access.log included)."""
    return "include %s;" % server_snippet_glob(server_snippet_path(rules_dir))


def server_snippet_glob(path):
    return "%s[%s]" % (path[:-1], path[-1])


def is_server_snippet_include(pattern):
    """Whether an include pattern is a rule's own include of the role's server-level settings."""
    return pattern.endswith(server_snippet_glob(SERVER_SNIPPET_SUFFIX))


def upstream_name(rule):
    return "antman_%s" % rule["name"]


def is_stream(rule):
    return rule["protocol"] in ("tcp", "udp")


def rule_file_name(rule):
    """``<name>.conf`` (included in nginx's http context) or ``<name>.stream`` (stream context)."""
    return rule["name"] + (STREAM_SUFFIX if is_stream(rule) else HTTP_SUFFIX)


def render_header(rule):
    """Two comment lines: a human note, and the canonical rule as one line of JSON (ASCII only),
    which is how the reader gets the rule back without parsing nginx syntax. Fields added since
    rule files were first written are left out at their default (``QUIET_DEFAULTS``): a rule that
    does not use them is written exactly as before."""
    quiet = QUIET_DEFAULTS[rule["protocol"]]
    stored = OrderedDict((key, value) for key, value in rule.items() if key not in quiet or value != quiet[key])
    return "# Managed by antsle.antman: rule %s. Do not edit, changes are overwritten.\n%s%s\n" % (
        rule["name"], HEADER_PREFIX, json.dumps(stored, separators=(",", ":"), ensure_ascii=True))


def limit_zone_name(rule):
    """The rule's own rate_limit zone (not the upstream's zone name: nginx refuses one name for two uses)."""
    return "antman_%s_%s" % (rule["name"], "conn" if is_stream(rule) else "req")


def render_limit_zone(rule):
    """The zone of rate_limit, at http or stream level (where nginx requires it), or nothing."""
    if not rule.get("rate_limit"):
        return ""
    directive = "limit_conn_zone" if is_stream(rule) else "limit_req_zone"
    rate = "" if is_stream(rule) else " rate=%dr/s" % rule["rate_limit"]["requests_per_second"]
    return "%s $binary_remote_addr zone=%s:%s%s;\n" % (directive, limit_zone_name(rule), LIMIT_ZONE_SIZE, rate)


def render_access_directives(rule):
    """Server-level lines, which every location inherits: the trusted proxies and where they give
    the client address, the allow-list, then the connection limit (stream) or the status of refused
    requests (http). Nothing for a rule without these options."""
    lines = []
    if rule.get("real_ip_from"):
        lines += ["set_real_ip_from %s;" % network for network in rule["real_ip_from"]]
        if not is_stream(rule):
            # the stream module reads the address from the PROXY header only
            lines.append("real_ip_header %s;" % ("proxy_protocol" if rule["proxy_protocol"] else "X-Forwarded-For"))
            lines.append("real_ip_recursive on;")  # a chain of trusted proxies: the last untrusted address
    if rule.get("allow_from"):
        lines += ["allow %s;" % network for network in rule["allow_from"]] + ["deny all;"]
    if rule.get("rate_limit") and is_stream(rule):
        lines.append("limit_conn %s %d;" % (limit_zone_name(rule), rule["rate_limit"]["connections"]))
    elif rule.get("rate_limit"):
        lines.append("limit_req_status %d;" % RATE_LIMITED_STATUS)
    return lines


def render_limit_req(rule):
    """In each proxying location (not at server level, which the 429 location would inherit)."""
    if not rule.get("rate_limit"):
        return []
    burst = rule["rate_limit"]["burst"]
    if not burst:
        return ["limit_req zone=%s;" % limit_zone_name(rule)]  # nginx refuses burst=0: none is the same
    # nodelay: the burst is served at once, not queued behind the rate (no latency added)
    return ["limit_req zone=%s burst=%d nodelay;" % (limit_zone_name(rule), burst)]


def render_rate_limited_location(rule):
    return ["", INDENT + "location %s {" % RATE_LIMITED_LOCATION,
            INDENT * 2 + "add_header Retry-After %d always;" % RETRY_AFTER_SECONDS,
            INDENT * 2 + "return %d;" % RATE_LIMITED_STATUS, INDENT + "}"]


def render_server_line(upstream, rule, held_out=False):
    """One ``server`` line; ``held_out``: marked down because it failed its health check (observed
    state, not the rule's: the comment says so to whoever reads the file)."""
    parts = ["server", upstream["address"], "weight=%d" % upstream["weight"]]
    max_fails = upstream["max_fails"] if upstream["max_fails"] is not None else rule["max_fails"]
    fail_timeout = upstream["fail_timeout"] if upstream["fail_timeout"] is not None else rule["fail_timeout"]
    parts.append("max_fails=%d" % max_fails)
    parts.append("fail_timeout=%s" % fail_timeout)
    if upstream["backup"]:
        parts.append("backup")
    if upstream["down"]:
        parts.append("down")
    elif held_out:
        return " ".join(parts) + " down;" + HELD_OUT_NOTE
    return " ".join(parts) + ";"


def render_upstream_block(rule, held_out=frozenset()):
    name = upstream_name(rule)
    # The shared zone makes every worker use one round-robin state and one failure count:
    # exact weights with any number of workers, and a failed upstream is skipped by all of them.
    lines = ["upstream %s {" % name, INDENT + "zone %s %s;" % (name, ZONE_SIZE)]
    if rule["method"] == "ip_hash" and is_stream(rule):
        lines.append(INDENT + "hash $remote_addr;")  # the stream module's client-IP stickiness
    elif rule["method"] != "round_robin":
        lines.append(INDENT + "%s;" % rule["method"])
    lines.extend(INDENT + render_server_line(upstream, rule, upstream["address"] in held_out) for upstream in rule["upstreams"])
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
    lines = render_limit_req(rule)
    if rule.get("rate_limit"):
        lines.append("error_page %d %s;" % (RATE_LIMITED_STATUS, RATE_LIMITED_LOCATION))
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
    lines = render_limit_req(rule)
    lines += ["proxy_pass http://%s;" % upstream_name(rule), "proxy_http_version 1.1;",
              "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection upgrade;"]
    lines += ["proxy_set_header %s %s;" % header for header in forwarded_headers(rule)]
    lines += render_retry_directives(rule, rule["websocket_timeout"])
    return lines


def tls_policy_lines(protocols=DEFAULT_TLS_PROTOCOLS):
    """The TLS versions, ciphers and groups of a TLS server: a rule's, and the role's catch-all
    server on a TLS port (whose settings are the ones a handshake starts with, before nginx picks
    the rule's server by SNI; so they must be as strict)."""
    return ["ssl_protocols %s;" % " ".join(protocols), "ssl_ciphers %s;" % TLS_CIPHERS,
            "ssl_ecdh_curve %s;" % TLS_CURVES, "ssl_prefer_server_ciphers off;"]


def render_tls_directives(rule, rules_dir):
    tls = rule["tls"]
    if "certificate" in tls:
        certificate, key = tls["certificate"], tls["key"]
    elif is_acme(rule):
        files = acme_files(rule)
        certificate, key = files["certificate"], files["key"]
    else:
        certificate, key = (os.path.join(rules_dir, n) for n in companion_names(rule["name"]))
    lines = ["ssl_certificate %s;" % certificate, "ssl_certificate_key %s;" % key] + tls_policy_lines(tls["protocols"])
    if tls.get("hsts") is not None:
        # "always": also on error answers (a 502 while every antlet is down must not drop the policy).
        lines.append("add_header Strict-Transport-Security max-age=%d always;" % tls["hsts"])
    return lines


def render_server_block(rule, rules_dir, features):
    tls = rule.get("tls")
    http2 = bool(tls) and rule["http2"]
    parameters = (["ssl"] if tls else []) + (["http2"] if http2 and not features.http2_directive() else [])
    parameters += ["proxy_protocol"] if rule["proxy_protocol"] else []
    lines = ["server {"]
    lines.extend(INDENT + line for line in listen_lines(rule["server_port"], parameters, rule, features))
    if http2 and features.http2_directive():
        lines.append(INDENT + "http2 on;")
    lines.append(INDENT + "server_name %s;" % " ".join(rule["server_name"]))
    lines.append(INDENT + server_snippet_include(rules_dir))
    if tls:
        lines.extend(INDENT + line for line in render_tls_directives(rule, rules_dir))
    lines.append(INDENT + "client_max_body_size %s;" % rule["client_max_body_size"])
    lines.extend(INDENT + line for line in render_access_directives(rule))
    lines += ["", INDENT + "location / {"]
    lines.extend(INDENT * 2 + line for line in render_proxy_directives(rule))
    lines.append(INDENT + "}")
    if rule["websocket"]:
        lines += ["", INDENT + "location %s {" % WEBSOCKET_LOCATION]
        lines.extend(INDENT * 2 + line for line in render_websocket_directives(rule))
        lines.append(INDENT + "}")
    if rule.get("rate_limit"):
        lines += render_rate_limited_location(rule)
    lines.append("}")
    return "\n".join(lines) + "\n"


def redirect_target(rule):
    """``https://$host`` plus the rule's port unless it is https's own (443), then the request URI."""
    port = "" if rule["server_port"] == 443 else ":%d" % rule["server_port"]
    return "https://$host%s$request_uri" % port


def render_port80_block(rule, rules_dir, features):
    """The extra port-80 server of ``redirect_http`` (a 301 to the same host and path over https)
    and/or of ``tls.acme`` (HTTP-01 challenge files for the rule's names; anything else 404 unless
    redirected)."""
    lines = ["server {"]
    lines.extend(INDENT + line for line in listen_lines(80, [], rule, features))
    lines.append(INDENT + "server_name %s;" % " ".join(rule["server_name"]))
    lines.append(INDENT + server_snippet_include(rules_dir))
    otherwise = "return 301 %s;" % redirect_target(rule) if rule.get("redirect_http") else "return 404;"
    if not is_acme(rule):
        lines.append(INDENT + otherwise)
    else:
        lines += [
            INDENT + "location ^~ %s {" % CHALLENGE_PATH,
            INDENT * 2 + "root %s;" % acme_files(rule)["challenge_root"],
            INDENT * 2 + "default_type text/plain;",
            INDENT + "}",
            INDENT + "location / {",
            INDENT * 2 + otherwise,
            INDENT + "}",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_stream_server_block(rule, features):
    parameters = ["udp"] if rule["protocol"] == "udp" else []
    parameters += ["proxy_protocol"] if rule.get("proxy_protocol") else []
    lines = ["server {"]
    lines.extend(INDENT + line for line in listen_lines(rule["server_port"], parameters, rule, features))
    lines.extend(INDENT + line for line in render_access_directives(rule))
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
    if rule.get("proxy_protocol_upstream"):
        lines.append(INDENT + "proxy_protocol on;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_rule(rule, rules_dir, features=PORTABLE, unhealthy=()):
    """The complete file for one canonical rule. ``rules_dir`` locates certificate files that the
    collection writes beside the rule (tls given as content); ``features`` is what the host's nginx
    offers (the host reader and the transaction always pass the host's); ``unhealthy`` the addresses
    the health agent found failing (observed state, applied with the rule: those fail open allows
    are marked ``down``)."""
    head = render_header(rule) + render_limit_zone(rule)
    upstream = render_upstream_block(rule, rotation(rule, unhealthy).held_out if unhealthy else frozenset())
    if is_stream(rule):
        return "%s%s\n%s" % (head, upstream, render_stream_server_block(rule, features))
    text = "%s%s\n%s" % (head, upstream, render_server_block(rule, rules_dir, features))
    if rule.get("redirect_http") or is_acme(rule):
        text += "\n" + render_port80_block(rule, rules_dir, features)
    return text
