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

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, OutOfRange, parse_time
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE, UPSTREAM
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import FORWARDED_HEADERS, NEXT_UPSTREAM_CONDITIONS
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule

# What a server/location/upstream means when a directive is absent (nginx 1.22 defaults).
NGINX_DEFAULTS = {
    "connect_timeout": "60s", "read_timeout": "60s", "max_fails": 1, "fail_timeout": "10s",
    "next_upstream_tries": 0, "keepalive": 0, "retry_non_idempotent": False,
}
STANDARD_HEADERS = set(FORWARDED_HEADERS) | {("Connection", "")}
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


def listen_port(node, notes, where):
    address = node["args"][0] if node["args"] else ""
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


def parse_server_directives(node, notes, where):
    """(ports, server names, location / node) of a server block."""
    ports, names, root = [], [], None
    for child in node["block"]:
        directive, args = child["directive"], child["args"]
        if directive == "listen":
            ports.append(listen_port(child, notes, where))
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
        else:
            notes.append("%s: directive '%s' ignored" % (where, directive))
    return ports, names, root


def parse_location(node, rule, notes, where):
    """Proxy settings of ``location /`` into ``rule``; returns the proxy_pass target."""
    target, headers = None, set()
    for child in node.get("block", []):
        directive, args = child["directive"], child["args"]
        if directive == "proxy_pass":
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
        elif directive == "proxy_set_header" and len(args) == 2:
            headers.add((args[0], args[1]))
            if (args[0], args[1]) not in STANDARD_HEADERS:
                notes.append("%s: proxy_set_header %s ignored (rules send the standard forwarding headers)"
                             % (where, args[0]))
        elif directive == "proxy_http_version":
            rule["_http11"] = args == ["1.1"]
        else:
            notes.append("%s: directive '%s' in location / ignored" % (where, directive))
    rule["_connection_cleared"] = ("Connection", "") in headers
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


def time_or_note(args, default, notes, where, directive):
    try:
        return parse_time(args[0] if args else "", 1, 2 ** 31 - 1)  # any time nginx itself accepts
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
    ports, names, location = parse_server_directives(node, notes, where)
    if location is None:
        raise ParseError(["%s: no 'location /' to proxy; not a load-balancing rule" % where])
    rule = dict(NGINX_DEFAULTS, method="round_robin")
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
    return normalize_rule(raw)


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
