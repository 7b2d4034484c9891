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
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import MAX_BODY_SIZE, RULE, UPSTREAM
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import (
    NEXT_UPSTREAM_CONDITIONS, WEBSOCKET_LOCATION, WEBSOCKET_REDIRECT_STATUS)
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import (
    RuleError, effective_next_upstream_timeout, effective_tries, normalize_rule)

# What a server/location/upstream means when a directive is absent (nginx 1.22 defaults).
NGINX_DEFAULTS = {
    "connect_timeout": "60s", "read_timeout": "60s", "max_fails": 1, "fail_timeout": "10s",
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


def listen_port(node, notes, where, rule):
    address = node["args"][0] if node["args"] else ""
    if address.startswith("[::]:"):
        rule["ipv6"] = True
    for parameter in node["args"][1:]:
        if parameter == "ssl":
            raise ParseError(["%s: listen with ssl (TLS termination) cannot be expressed as a rule" % where])
        notes.append("%s: listen parameter '%s' dropped" % (where, parameter))
    if address.startswith("unix:"):
        raise ParseError(["%s: listen on a unix socket cannot be expressed as a rule" % where])
    port_text = address.rpartition(":")[2] if ":" in address else address
    if port_text.isdigit():
        if ":" in address and not address.startswith(("*:", "[::]:", "0.0.0.0:")):
            notes.append("%s: listen address '%s' dropped (rules listen on all addresses)" % (where, address))
        return int(port_text)
    notes.append("%s: listen '%s' has no port; nginx uses 80" % (where, address))
    return 80


def parse_server_directives(node, notes, where, rule):
    """(ports, server names, location / node) of a server block; server-level settings into ``rule``."""
    ports, names, root = [], [], None
    for child in node["block"]:
        directive, args = child["directive"], child["args"]
        if directive == "listen":
            ports.append(listen_port(child, notes, where, rule))
        elif directive == "client_max_body_size":
            rule["client_max_body_size"] = size_or_note(args, notes, where)
        elif directive == "location" and args == [WEBSOCKET_LOCATION]:
            parse_websocket_location(child, rule, notes, where)
        elif directive == "server_name":
            for name in args:
                if name in ("", "_") or name.startswith("~"):
                    notes.append("%s: server_name '%s' dropped (catch-all and regular expressions are not supported)"
                                 % (where, name))
                else:
                    names.append(name)
        elif directive == "location" and args in (["/"], ["=", "/"]) and root is None:
            root = child
        elif directive == "location":
            notes.append("%s: location '%s' ignored (a rule proxies everything under /)" % (where, " ".join(args)))
        elif directive in ("allow", "deny") and len(args) == 1:
            rule.setdefault("_access", []).append((directive, args[0]))
        elif directive == "set_real_ip_from" and len(args) == 1:
            rule.setdefault("_real_ip_from", []).append(args[0])
        elif directive in ("real_ip_header", "real_ip_recursive") and len(args) == 1:
            rule["_" + directive] = args[0]
        else:
            notes.append("%s: directive '%s' ignored" % (where, directive))
    return ports, names, root


def imported_networks(values, notes, where, directive):
    """The canonical addresses of ``values``; one that a rule refuses is dropped, with a note."""
    networks = []
    for value in values:
        try:
            network = parse_cidr(value)
        except FieldError as error:
            notes.append("%s: %s %s dropped (%s)" % (where, directive, value, error))
            continue
        if network not in networks:
            networks.append(network)
    return networks


def import_access(rule, notes, where):
    """allow / deny and the real-IP settings of a server as allow_from and real_ip_from. Only the
    form a rule writes (allow ...; deny all;) is an allow-list; any other order or deny is noted."""
    access = rule.pop("_access", None)
    if access:
        allowed = [value for directive, value in access[:-1] if directive == "allow"]
        if access[-1] == ("deny", "all") and len(allowed) == len(access) - 1 and "all" not in allowed:
            rule["allow_from"] = imported_networks(allowed, notes, where, "allow")
            if not rule["allow_from"]:
                # an empty allow_from is "everyone": refuse rather than open what was closed
                raise ParseError(["%s: none of its allow entries is an address a rule accepts; not imported" % where])
        else:
            notes.append("%s: allow / deny other than 'allow ...; deny all;' ignored; the rule lets everyone in" % where)
    trusted = rule.pop("_real_ip_from", None)
    header, recursive = rule.pop("_real_ip_header", "X-Real-IP"), rule.pop("_real_ip_recursive", "off")
    if trusted and header.lower() != "x-forwarded-for":
        notes.append("%s: set_real_ip_from with real_ip_header %s ignored (rules read X-Forwarded-For)" % (where, header))
    elif trusted:
        rule["real_ip_from"] = imported_networks(trusted, notes, where, "set_real_ip_from") or None
        if recursive != "on":
            notes.append("%s: real_ip_recursive %s imported as on (rules take the last untrusted address)" % (where, recursive))


def parse_location(node, rule, notes, where):
    """Proxy settings of ``location /`` into ``rule``; returns the proxy_pass target."""
    target, headers, buffering = None, set(), {}
    for child in node.get("block", []):
        directive, args = child["directive"], child["args"]
        if is_websocket_redirect(child):
            rule["websocket"] = True
        elif directive == "proxy_pass":
            target = args[0] if args else None
        elif directive == "proxy_connect_timeout":
            value = time_or_note(args, NGINX_DEFAULTS["connect_timeout"], notes, where, directive)
            rule["connect_timeout"] = bounded(RULE, "connect_timeout", value, notes, where, directive)
        elif directive == "proxy_read_timeout":
            value = time_or_note(args, NGINX_DEFAULTS["read_timeout"], notes, where, directive)
            rule["read_timeout"] = bounded(RULE, "read_timeout", value, notes, where, directive)
        elif directive == "proxy_send_timeout":
            value = time_or_note(args, NGINX_DEFAULTS["read_timeout"], notes, where, directive)
            rule["_send_timeout"] = bounded(RULE, "read_timeout", value, [], where, directive)
        elif directive == "proxy_next_upstream":
            parse_next_upstream(args, rule, notes, where)
        elif directive == "proxy_next_upstream_tries" and args and args[0].isdigit():
            rule["next_upstream_tries"] = bounded(RULE, "next_upstream_tries", int(args[0]), notes, where, directive)
        elif directive == "proxy_next_upstream_timeout":
            value = time_or_note(args, NGINX_DEFAULTS["next_upstream_timeout"], notes, where, directive, minimum=0)
            rule["next_upstream_timeout"] = bounded(RULE, "next_upstream_timeout", value, notes, where, directive)
        elif directive == "client_max_body_size":
            rule["client_max_body_size"] = size_or_note(args, notes, where)
        elif directive in ("proxy_buffering", "proxy_request_buffering") and args in (["on"], ["off"]):
            buffering[directive] = args == ["on"]
        elif directive == "proxy_set_header" and len(args) == 2:
            headers.add((args[0], args[1]))
            if not standard_header(args[0], args[1], headers):
                notes.append("%s: proxy_set_header %s ignored (rules send the standard forwarding headers)"
                             % (where, args[0]))
        elif directive == "proxy_http_version":
            rule["_http11"] = args == ["1.1"]
        else:
            notes.append("%s: directive '%s' in location / ignored" % (where, directive))
    rule["_connection_cleared"] = ("Connection", "") in headers
    if UPGRADE_HEADER in headers:
        # the usual hand-written form: Upgrade and Connection forwarded from location / itself
        rule["websocket"] = True
        rule.setdefault("websocket_timeout", rule.get("read_timeout", NGINX_DEFAULTS["read_timeout"]))
    if buffering:
        rule["buffering"] = any(buffering.values())
        if len(set(buffering.values())) > 1 or len(buffering) == 1 and not rule["buffering"]:
            notes.append("%s: proxy_buffering and proxy_request_buffering differ; the rule's buffering is %s for both"
                         % (where, "on" if rule["buffering"] else "off"))
    if rule.get("_send_timeout", rule.get("read_timeout", "60s")) != rule.get("read_timeout", "60s"):
        notes.append("%s: proxy_send_timeout differs from proxy_read_timeout; rules use read_timeout for both" % where)
    return target


def parse_next_upstream(args, rule, notes, where):
    if args == ["off"]:
        notes.append("%s: proxy_next_upstream off cannot be expressed (rules always retry on error and timeout)"
                     % where)
        return
    conditions = [a for a in args if a != "non_idempotent"]
    rule["retry_non_idempotent"] = "non_idempotent" in args
    if sorted(conditions) != sorted(NEXT_UPSTREAM_CONDITIONS.split()):
        notes.append("%s: proxy_next_upstream '%s' replaced by the rules' '%s'"
                     % (where, " ".join(args), NEXT_UPSTREAM_CONDITIONS))


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


def parse_websocket_location(node, rule, notes, where):
    """The rules' ``location @antman_websocket``: its read timeout is the rule's websocket_timeout."""
    for child in node.get("block", []):
        if child["directive"] == "proxy_read_timeout":
            value = time_or_note(child["args"], "3600s", notes, where, "proxy_read_timeout")
            rule["websocket_timeout"] = bounded(RULE, "websocket_timeout", value, notes, where, "proxy_read_timeout")


def size_or_note(args, notes, where):
    try:
        return parse_size(args[0] if args else "", MAX_BODY_SIZE)
    except FieldError as error:
        notes.append("%s: client_max_body_size %s (kept nginx's default 1m)" % (where, error))
        return NGINX_DEFAULTS["client_max_body_size"]


def time_or_note(args, default, notes, where, directive, minimum=1, maximum=2 ** 31 - 1):
    """A time as nginx reads it (any time nginx itself accepts; rules' own bounds are applied by ``bounded``)."""
    try:
        return parse_time(args[0] if args else "", minimum, maximum)
    except FieldError as error:
        notes.append("%s: %s %s (kept nginx's default %s)" % (where, directive, error, default))
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


def parse_upstream_block(node, rule, notes):
    where = "upstream %s (line %s)" % (node["args"][0], node["line"])
    servers = []
    for child in node["block"]:
        directive, args = child["directive"], child["args"]
        if directive == "server" and args:
            servers.append(parse_upstream_server(args, notes, where))
        elif directive in ("least_conn", "ip_hash"):
            rule["method"] = directive if directive == "ip_hash" else "least_conn"
        elif directive == "keepalive" and args and args[0].isdigit():
            rule["keepalive"] = bounded(RULE, "keepalive", int(args[0]), notes, where, directive)
        elif directive == "zone":
            continue
        elif directive in ("hash", "random"):
            notes.append("%s: balancing method '%s' is not supported; round_robin used" % (where, directive))
        else:
            notes.append("%s: directive '%s' ignored" % (where, directive))
    return servers


def parse_upstream_server(args, notes, where):
    upstream = {"address": args[0], "max_fails": NGINX_DEFAULTS["max_fails"], "fail_timeout": NGINX_DEFAULTS["fail_timeout"]}
    for parameter in args[1:]:
        key, _sep, value = parameter.partition("=")
        if key in ("backup", "down") and not value:
            upstream[key] = True
        elif key in ("weight", "max_fails", "fail_timeout"):
            upstream[key] = bounded(UPSTREAM, key, value, notes, where, "server %s %s" % (args[0], key))
        else:
            notes.append("%s: server %s parameter '%s' dropped" % (where, args[0], parameter))
    return upstream


def hoist_failure_settings(rule, servers):
    """Rule-level max_fails / fail_timeout = the most common value; others stay as overrides."""
    for key in ("max_fails", "fail_timeout"):
        values = [canonical_failure_value(key, s[key]) for s in servers]
        common = Counter(values).most_common(1)[0][0] if values else NGINX_DEFAULTS[key]
        rule[key] = common
        for server, value in zip(servers, values):
            server[key] = None if value == common else server[key]


def canonical_failure_value(key, value):
    try:
        return int(value) if key == "max_fails" else parse_time(value, 0, 3600000)
    except (ValueError, FieldError):
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
    where = "server (line %s)" % node["line"]
    rule = dict(NGINX_DEFAULTS, method="round_robin")
    ports, names, location = parse_server_directives(node, notes, where, rule)
    import_access(rule, notes, where)
    if location is None:
        raise ParseError(["%s: no 'location /' to proxy; not a load-balancing rule" % where])
    target = parse_location(location, rule, notes, where)
    if not target or not target.startswith("http://"):
        raise ParseError(["%s: location / does not proxy_pass to http:// (%s)" % (where, target)])
    host, slash, path = target[len("http://"):].partition("/")
    if slash:
        notes.append("%s: proxy_pass URI part '/%s' dropped" % (where, path))
    if host in upstreams:
        servers = parse_upstream_block(upstreams[host], rule, notes)
        base = host
    else:
        servers = [{"address": host, "max_fails": 1, "fail_timeout": "10s"}]
        base = names[0].replace(".", "-") if names else host
    if rule.get("keepalive") and not (rule.get("_http11") and rule.get("_connection_cleared")):
        notes.append("%s: upstream keepalive without HTTP/1.1 and an empty Connection header has no effect; "
                     "imported as keepalive 0" % where)
        rule["keepalive"] = 0
    if len(set(ports)) > 1:
        notes.append("%s: several ports %s; the rule uses %d" % (where, sorted(set(ports)), ports[0]))
    hoist_failure_settings(rule, servers)
    raw = dict((k, v) for k, v in rule.items() if not k.startswith("_"))
    raw.update(name=rule_name(base, taken), server_name=names or None, server_port=ports[0] if ports else 80,
               upstreams=servers)
    return computed_as_default(normalize_rule(raw))


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
