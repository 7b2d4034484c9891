# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import existing nginx configuration (``upstream`` and ``server`` blocks) as rules.

Parsing is done by crossplane (nginx's own config parser library). Each ``server`` block that
proxies ``location /`` to an upstream (or to one address) becomes a rule; what a rule cannot
express is listed in ``unsupported``, one message per construct, and left out. Values are
imported as the configuration means them: directives that are absent take nginx's own defaults
(60 s timeouts, no keepalive, unlimited tries), not this collection's failover defaults. A value
nginx accepts but a rule bounds tighter (``proxy_connect_timeout 300``, as antMan's own template for
a balanced domain has, where rules allow at most 75s) is imported as the nearest bound, with a note
in ``unsupported``: the rule stays applicable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import tempfile
import traceback
from collections import Counter, OrderedDict

try:
    import crossplane
    CROSSPLANE_IMPORT_ERROR = None
except ImportError:
    crossplane = None
    CROSSPLANE_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError, OutOfRange, parse_cidr, parse_size, parse_time)
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    MAX_BODY_SIZE, RULE, UPSTREAM, UPSTREAM_OVERRIDES)
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import (
    NEXT_UPSTREAM_CONDITIONS, WEBSOCKET_LOCATION, WEBSOCKET_REDIRECT_STATUS, is_server_snippet_include)
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import (
    RuleError, effective_next_upstream_timeout, effective_tries, normalize_rule)

# What a server/location/upstream means when a directive is absent (nginx 1.22 defaults), as rule
# fields: an import starts from these, not from this collection's own defaults.
NGINX_DEFAULTS = {
    "method": "round_robin", "connect_timeout": "60s", "read_timeout": "60s", "max_fails": 1, "fail_timeout": "10s",
    "next_upstream_tries": 0, "next_upstream_timeout": "0s", "keepalive": 0, "retry_non_idempotent": False,
    "ipv6": False, "websocket": False, "client_max_body_size": "1m", "buffering": True,
}
# The forwarding headers rules send (Host and X-Forwarded-Host with or without a port), and the
# upgrade headers of a location that forwards WebSockets.
STANDARD_HEADERS = {("X-Real-IP", "$remote_addr"), ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
                    ("X-Forwarded-Proto", "$scheme"), ("X-Forwarded-Port", "$server_port"), ("Connection", "")}
HOST_VALUE_RE = re.compile(r"\A\$host(:[0-9]{1,5})?\Z")
UPGRADE_HEADER = ("Upgrade", "$http_upgrade")
NAME_CLEAN_RE = re.compile(r"[^A-Za-z0-9_-]+")


class ParseError(RuleError):
    pass


class ServerBlock:
    """One ``server`` block while it is read: ``fields``, the rule fields it sets (nginx's defaults
    until a directive says otherwise), and what its directives that are no rule field say, which
    decides how some fields are imported. Those start as nginx's defaults too."""

    def __init__(self, where, notes):
        self.where = where
        self.notes = notes
        self.fields = dict(NGINX_DEFAULTS)
        self.access = []  # allow / deny: (directive, address) in order
        self.real_ip_from = []  # set_real_ip_from
        self.real_ip_header = "X-Real-IP"
        self.real_ip_recursive = "off"
        self.send_timeout = None  # proxy_send_timeout of location /, canonical; None when absent
        self.http11 = False  # proxy_http_version 1.1 (upstream keepalive needs it)
        self.connection_cleared = False  # proxy_set_header Connection "" (and this)

    def note(self, text):
        self.notes.append("%s: %s" % (self.where, text))


def crossplane_parse(text):
    """crossplane's parse tree of ``text`` (a file fragment: contexts are not checked)."""
    handle, path = tempfile.mkstemp(suffix=".conf", prefix="antman-parse-")
    try:
        # Text read from a host may hold bytes that are not UTF-8 (a Latin-1 comment), as surrogates.
        with os.fdopen(handle, "w", encoding="utf-8", errors="surrogateescape") as stream:
            stream.write(text)
        payload = crossplane.parse(path, single=True, check_ctx=False, comments=False, catch_errors=True)
    finally:
        os.unlink(path)
    errors = ["line %s: %s" % (e.get("line"), e.get("error")) for e in payload.get("errors", [])]
    if errors:
        raise ParseError(["running_config: %s" % e.replace(path, "running_config") for e in errors])
    return payload["config"][0]["parsed"] if payload["config"] else []


def collect_blocks(tree, upstreams, servers):
    """Find upstream blocks (by name) and server blocks anywhere in the tree (top level, http, ...)."""
    for node in tree:
        if node["directive"] == "upstream" and "block" in node and node["args"]:
            upstreams[node["args"][0]] = node
        elif node["directive"] == "server" and "block" in node:
            servers.append(node)
        elif "block" in node and node["directive"] not in ("upstream", "server", "location"):
            collect_blocks(node["block"], upstreams, servers)


def listen_port(node, server):
    address = node["args"][0] if node["args"] else ""
    if address.startswith("[::]:"):
        server.fields["ipv6"] = True
    for parameter in node["args"][1:]:
        if parameter == "ssl":
            raise ParseError(["%s: listen with ssl (TLS termination) cannot be expressed as a rule" % server.where])
        server.note("listen parameter '%s' dropped" % parameter)
    if address.startswith("unix:"):
        raise ParseError(["%s: listen on a unix socket cannot be expressed as a rule" % server.where])
    port_text = address.rpartition(":")[2] if ":" in address else address
    if port_text.isdigit():
        if ":" in address and not address.startswith(("*:", "[::]:", "0.0.0.0:")):
            server.note("listen address '%s' dropped (rules listen on all addresses)" % address)
        return int(port_text)
    server.note("listen '%s' has no port; nginx uses 80" % address)
    return 80


def parse_server_directives(node, server):
    """(ports, server names, location / node) of a server block; its settings into ``server``."""
    ports, names, root = [], [], None
    for child in node["block"]:
        directive, args = child["directive"], child["args"]
        if directive == "listen":
            ports.append(listen_port(child, server))
        elif directive == "client_max_body_size":
            server.fields["client_max_body_size"] = size_or_note(args, server)
        elif directive == "location" and args == [WEBSOCKET_LOCATION]:
            parse_websocket_location(child, server)
        elif directive == "server_name":
            for name in args:
                if name in ("", "_") or name.startswith("~"):
                    server.note("server_name '%s' dropped (catch-all and regular expressions are not supported)" % name)
                else:
                    names.append(name)
        elif directive == "location" and args in (["/"], ["=", "/"]) and root is None:
            root = child
        elif directive == "location":
            server.note("location '%s' ignored (a rule proxies everything under /)" % " ".join(args))
        elif directive in ("allow", "deny") and len(args) == 1:
            server.access.append((directive, args[0]))
        elif directive == "set_real_ip_from" and len(args) == 1:
            server.real_ip_from.append(args[0])
        elif directive == "real_ip_header" and len(args) == 1:
            server.real_ip_header = args[0]
        elif directive == "real_ip_recursive" and len(args) == 1:
            server.real_ip_recursive = args[0]
        elif directive == "include" and len(args) == 1 and is_server_snippet_include(args[0]):
            pass  # a rule's own include of the role's settings (its access log): every rule has it
        else:
            server.note("directive '%s' ignored" % directive)
    return ports, names, root


def imported_networks(values, server, directive):
    """The canonical addresses of ``values``; one that a rule refuses is dropped, with a note."""
    networks = []
    for value in values:
        try:
            network = parse_cidr(value)
        except FieldError as error:
            server.note("%s %s dropped (%s)" % (directive, value, error))
            continue
        if network not in networks:
            networks.append(network)
    return networks


def import_access(server):
    """allow / deny and the real-IP settings of a server as allow_from and real_ip_from. Only the
    form a rule writes (allow ...; deny all;) is an allow-list; any other order or deny is noted."""
    access, fields = server.access, server.fields
    if access:
        allowed = [value for directive, value in access[:-1] if directive == "allow"]
        if access[-1] == ("deny", "all") and len(allowed) == len(access) - 1 and "all" not in allowed:
            fields["allow_from"] = imported_networks(allowed, server, "allow")
            if not fields["allow_from"]:
                # an empty allow_from is "everyone": refuse rather than open what was closed
                raise ParseError(["%s: none of its allow entries is an address a rule accepts; not imported"
                                  % server.where])
        else:
            server.note("allow / deny other than 'allow ...; deny all;' ignored; the rule lets everyone in")
    if server.real_ip_from and server.real_ip_header.lower() != "x-forwarded-for":
        server.note("set_real_ip_from with real_ip_header %s ignored (rules read X-Forwarded-For)" % server.real_ip_header)
    elif server.real_ip_from:
        fields["real_ip_from"] = imported_networks(server.real_ip_from, server, "set_real_ip_from") or None
        if server.real_ip_recursive != "on":
            server.note("real_ip_recursive %s imported as on (rules take the last untrusted address)"
                        % server.real_ip_recursive)


def parse_location(node, server):
    """Proxy settings of ``location /`` into ``server``; returns the proxy_pass target."""
    target, headers, buffering, fields = None, set(), {}, server.fields
    for child in node.get("block", []):
        directive, args = child["directive"], child["args"]
        if is_websocket_redirect(child):
            fields["websocket"] = True
        elif directive == "proxy_pass":
            target = args[0] if args else None
        elif directive in TIME_DIRECTIVES:
            key = TIME_DIRECTIVES[directive]
            value = time_or_note(args, NGINX_DEFAULTS[key], server, directive, minimum=0 if key == "next_upstream_timeout" else 1)
            if directive == "proxy_send_timeout":
                server.send_timeout = bounded(RULE, key, value, [], server.where, directive)
            else:
                fields[key] = bounded(RULE, key, value, server.notes, server.where, directive)
        elif directive == "proxy_next_upstream":
            parse_next_upstream(args, server)
        elif directive == "proxy_next_upstream_tries" and args and args[0].isdigit():
            fields["next_upstream_tries"] = bounded(RULE, "next_upstream_tries", int(args[0]), server.notes,
                                                    server.where, directive)
        elif directive == "client_max_body_size":
            fields["client_max_body_size"] = size_or_note(args, server)
        elif directive in ("proxy_buffering", "proxy_request_buffering") and args in (["on"], ["off"]):
            buffering[directive] = args == ["on"]
        elif directive == "proxy_set_header" and len(args) == 2:
            headers.add((args[0], args[1]))
            if not standard_header(args[0], args[1], headers):
                server.note("proxy_set_header %s ignored (rules send the standard forwarding headers)" % args[0])
        elif directive == "proxy_http_version":
            server.http11 = args == ["1.1"]
        else:
            server.note("directive '%s' in location / ignored" % directive)
    server.connection_cleared = ("Connection", "") in headers
    if UPGRADE_HEADER in headers:
        # the usual hand-written form: Upgrade and Connection forwarded from location / itself
        fields["websocket"] = True
        fields.setdefault("websocket_timeout", fields["read_timeout"])
    if buffering:
        fields["buffering"] = any(buffering.values())
        if len(set(buffering.values())) > 1 or len(buffering) == 1 and not fields["buffering"]:
            server.note("proxy_buffering and proxy_request_buffering differ; the rule's buffering is %s for both"
                        % ("on" if fields["buffering"] else "off"))
    if server.send_timeout not in (None, fields["read_timeout"]):
        server.note("proxy_send_timeout differs from proxy_read_timeout; rules use read_timeout for both")
    return target


# The timeouts of location / and the rule field each is imported as (proxy_send_timeout: read_timeout,
# which rules use for both).
TIME_DIRECTIVES = {"proxy_connect_timeout": "connect_timeout", "proxy_read_timeout": "read_timeout",
                   "proxy_send_timeout": "read_timeout", "proxy_next_upstream_timeout": "next_upstream_timeout"}


def parse_next_upstream(args, server):
    if args == ["off"]:
        server.note("proxy_next_upstream off cannot be expressed (rules always retry on error and timeout)")
        return
    conditions = [a for a in args if a != "non_idempotent"]
    server.fields["retry_non_idempotent"] = "non_idempotent" in args
    if sorted(conditions) != sorted(NEXT_UPSTREAM_CONDITIONS.split()):
        server.note("proxy_next_upstream '%s' replaced by the rules' '%s'" % (" ".join(args), NEXT_UPSTREAM_CONDITIONS))


def standard_header(name, value, headers):
    """Whether a proxy_set_header is one a rule sends: the forwarding headers, and Upgrade with any
    Connection value (a location that forwards WebSockets)."""
    if (name, value) in STANDARD_HEADERS or (name, value) == UPGRADE_HEADER:
        return True
    if name in ("Host", "X-Forwarded-Host"):
        return bool(HOST_VALUE_RE.match(value))
    return name == "Connection"


def is_websocket_redirect(node):
    """The rules' own WebSocket hand-over: ``error_page 418 = @antman_websocket`` or the
    ``if ($http_upgrade) { return 418; }`` beside it."""
    status = str(WEBSOCKET_REDIRECT_STATUS)
    if node["directive"] == "error_page":
        return node["args"] == [status, "=", WEBSOCKET_LOCATION] or node["args"] == [status, "=" + WEBSOCKET_LOCATION]
    if node["directive"] == "if":
        block = node.get("block", [])
        return node["args"] == ["$http_upgrade"] and [(b["directive"], b["args"]) for b in block] == [("return", [status])]
    return False


def parse_websocket_location(node, server):
    """The rules' ``location @antman_websocket``: its read timeout is the rule's websocket_timeout
    (one it cannot read: the rules' default, as if the location had none)."""
    for child in node.get("block", []):
        if child["directive"] == "proxy_read_timeout":
            value = time_or_note(child["args"], RULE["websocket_timeout"].default_for("http"), server,
                                 "proxy_read_timeout", whose="the rules' default")
            server.fields["websocket_timeout"] = bounded(RULE, "websocket_timeout", value, server.notes, server.where,
                                                         "proxy_read_timeout")


def size_or_note(args, server):
    default = NGINX_DEFAULTS["client_max_body_size"]
    try:
        return parse_size(args[0] if args else "", MAX_BODY_SIZE)
    except FieldError as error:
        server.note("client_max_body_size %s (kept nginx's default %s)" % (error, default))
        return default


def time_or_note(args, default, server, directive, minimum=1, maximum=2 ** 31 - 1, whose="nginx's default"):
    """A time as nginx reads it (any time nginx itself accepts; rules' own bounds are applied by ``bounded``)."""
    try:
        return parse_time(args[0] if args else "", minimum, maximum)
    except FieldError as error:
        server.note("%s %s (kept %s %s)" % (directive, error, whose, default))
        return default


def bounded(fields, key, value, notes, where, what):
    """``value`` for the rule field ``key`` (of ``fields``: RULE or UPSTREAM), clamped to the field's
    bounds with a note when nginx accepts it but a rule does not; any other problem is left to the
    model, which refuses the rule naming the field."""
    try:
        return fields[key].parse(value)
    except OutOfRange as error:
        notes.append("%s: %s %s is beyond what a rule allows (%s); imported as %s"
                     % (where, what, value, str(error).rpartition("(")[2].rstrip(")"), error.nearest))
        return error.nearest
    except FieldError:
        return value


def parse_upstream_block(node, fields, notes):
    where = "upstream %s (line %s)" % (node["args"][0], node["line"])
    servers = []
    for child in node["block"]:
        directive, args = child["directive"], child["args"]
        if directive == "server" and args:
            servers.append(parse_upstream_server(args, notes, where))
        elif directive in ("least_conn", "ip_hash"):
            fields["method"] = directive
        elif directive == "keepalive" and args and args[0].isdigit():
            fields["keepalive"] = bounded(RULE, "keepalive", int(args[0]), notes, where, directive)
        elif directive == "zone":
            continue
        elif directive in ("hash", "random"):
            notes.append("%s: balancing method '%s' is not supported; round_robin used" % (where, directive))
        else:
            notes.append("%s: directive '%s' ignored" % (where, directive))
    return servers


def upstream_server(address):
    """An upstream as nginx reads a ``server`` line without parameters."""
    upstream = {"address": address}
    upstream.update((key, NGINX_DEFAULTS[key]) for key in UPSTREAM_OVERRIDES)
    return upstream


def parse_upstream_server(args, notes, where):
    upstream = upstream_server(args[0])
    for parameter in args[1:]:
        key, _sep, value = parameter.partition("=")
        if key in ("backup", "down") and not value:
            upstream[key] = True
        elif key in ("weight",) + UPSTREAM_OVERRIDES:
            upstream[key] = bounded(UPSTREAM, key, value, notes, where, "server %s %s" % (args[0], key))
        else:
            notes.append("%s: server %s parameter '%s' dropped" % (where, args[0], parameter))
    return upstream


def hoist_failure_settings(fields, servers):
    """Rule-level max_fails / fail_timeout = the most common value; others stay as overrides."""
    for key in UPSTREAM_OVERRIDES:
        values = [canonical_failure_value(key, s[key]) for s in servers]
        common = Counter(values).most_common(1)[0][0] if values else NGINX_DEFAULTS[key]
        fields[key] = common
        for server, value in zip(servers, values):
            server[key] = None if value == common else server[key]


def canonical_failure_value(key, value):
    """The value of an upstream override as a rule holds it (any value: the model refuses bad ones)."""
    try:
        return UPSTREAM[key].parse(value)
    except FieldError:
        return value


def rule_name(base, taken):
    name = NAME_CLEAN_RE.sub("-", base[len("antman_"):] if base.startswith("antman_") else base).strip("-_")[:64]
    name = name or "rule"
    candidate, counter = name, 2
    while candidate.lower() in taken:
        suffix = "-%d" % counter
        candidate, counter = name[:64 - len(suffix)] + suffix, counter + 1
    taken.add(candidate.lower())
    return candidate


def server_to_rule(node, upstreams, taken, notes):
    server = ServerBlock("server (line %s)" % node["line"], notes)
    fields = server.fields
    ports, names, location = parse_server_directives(node, server)
    import_access(server)
    if location is None:
        raise ParseError(["%s: no 'location /' to proxy; not a load-balancing rule" % server.where])
    target = parse_location(location, server)
    if not target or not target.startswith("http://"):
        raise ParseError(["%s: location / does not proxy_pass to http:// (%s)" % (server.where, target)])
    host, slash, path = target[len("http://"):].partition("/")
    if slash:
        server.note("proxy_pass URI part '/%s' dropped" % path)
    if host in upstreams:
        servers = parse_upstream_block(upstreams[host], fields, notes)
        base = host
    else:
        servers = [upstream_server(host)]
        base = names[0].replace(".", "-") if names else host
    if fields["keepalive"] and not (server.http11 and server.connection_cleared):
        server.note("upstream keepalive without HTTP/1.1 and an empty Connection header has no effect; "
                    "imported as keepalive 0")
        fields["keepalive"] = 0
    if len(set(ports)) > 1:
        server.note("several ports %s; the rule uses %d" % (sorted(set(ports)), ports[0]))
    hoist_failure_settings(fields, servers)
    fields.update(name=rule_name(base, taken), server_name=names or None, server_port=ports[0] if ports else 80,
                  upstreams=servers)
    return computed_as_default(normalize_rule(fields))


def computed_as_default(rule):
    """Tries and next-upstream timeout equal to what a rule computes when it gives none are that
    default (one meaning, one canonical form)."""
    for key, effective in (("next_upstream_tries", effective_tries),
                           ("next_upstream_timeout", effective_next_upstream_timeout)):
        given = rule[key]
        rule[key] = None
        if effective(rule) != given:
            rule[key] = given
    return rule


def parse_config(text):
    """(rules, unsupported) from nginx configuration text. RuleError if the text is not nginx syntax."""
    upstreams, servers = OrderedDict(), []
    collect_blocks(crossplane_parse(text), upstreams, servers)
    rules, notes, taken = [], [], set()
    for node in servers:
        try:
            rule = server_to_rule(node, upstreams, taken, notes)
        except RuleError as error:
            notes.extend(error.problems if isinstance(error, ParseError) else
                         ["server (line %s) cannot be imported: %s" % (node["line"], p) for p in error.problems])
            continue
        rules.append(rule)
    return rules, notes
