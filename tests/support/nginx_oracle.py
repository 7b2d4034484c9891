"""An independent statement of what nginx configuration a canonical rule must produce, and a
check of rendered text against it with a real nginx configuration parser (crossplane).

Nothing here calls the renderer: the expected directives are written out from the rule by hand,
so a renderer that emits one directive too many, one argument too few, or lets a value break
out of its token is caught by the comparison.
"""
import json
import os
import re
import tempfile

import crossplane
from crossplane.analyzer import DIRECTIVES, NGX_CONF_FLAG, NGX_HTTP_MAIN_CONF, NGX_HTTP_SRV_CONF

# nginx 1.25.1's "http2 on;" is newer than crossplane's directive table (whose register function
# is Python 2 only).
DIRECTIVES.setdefault("http2", [NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_FLAG])

ZONE_SIZE = "256k"
# The only arguments the renderer may write that contain anything beyond a plain token: the
# fixed forwarded headers' variables, the empty Connection header value, the client address the
# stream module hashes for ip_hash, the upgrade test (and a redirect's target and the Host with
# the rule's port, allowed per rule).
FIXED_ARGS = frozenset(["$host", "$remote_addr", "$proxy_add_x_forwarded_for", "$scheme", "$server_port",
                        "$http_upgrade", ""])
SAFE_ARG = re.compile(r"\A[A-Za-z0-9._:*\[\]=/+@-]+\Z")
HEADER_NOTE = " Managed by antsle.antman: rule %s. Do not edit, changes are overwritten."
HEADER_RULE = " antman-rule: "
DEFAULT_RULES_DIR = "/etc/nginx/antman.d"


def directive(name, *args, **block):
    return (name, tuple(args), block.get("block"))


def is_stream(rule):
    return rule["protocol"] in ("tcp", "udp")


def expected_file_name(rule):
    """http rules go into nginx's http context (``*.conf``), tcp and udp rules into its stream context."""
    return rule["name"] + (".stream" if is_stream(rule) else ".conf")


def expected_upstream(rule):
    upstream = "antman_" + rule["name"]
    block = [directive("zone", upstream, ZONE_SIZE)]
    if rule["method"] == "ip_hash" and is_stream(rule):
        block.append(directive("hash", "$remote_addr"))  # the stream module has no ip_hash
    elif rule["method"] != "round_robin":
        block.append(directive(rule["method"]))
    for item in rule["upstreams"]:
        max_fails = item["max_fails"] if item["max_fails"] is not None else rule["max_fails"]
        fail_timeout = item["fail_timeout"] if item["fail_timeout"] is not None else rule["fail_timeout"]
        args = [item["address"], "weight=%d" % item["weight"], "max_fails=%d" % max_fails,
                "fail_timeout=%s" % fail_timeout]
        args += ["backup"] if item["backup"] else []
        args += ["down"] if item["down"] else []
        block.append(directive("server", *args))
    if not is_stream(rule) and rule["keepalive"]:
        block.append(directive("keepalive", str(rule["keepalive"])))
    return directive("upstream", upstream, block=block)


def milliseconds(text):
    number = int(re.match(r"[0-9]+", text).group(0))
    return number if text.endswith("ms") else number * 1000


def expected_tries(rule):
    """Given, or every upstream not down when there are backups, else 3."""
    if rule["next_upstream_tries"] is not None:
        return str(rule["next_upstream_tries"])
    in_rotation = [u for u in rule["upstreams"] if not u["down"]]
    return str(len(in_rotation)) if any(u["backup"] for u in in_rotation) else "3"


def expected_next_upstream_timeout(rule):
    """Given, or for http rules three tries' worth of connect + read timeout; None: not written."""
    if rule["next_upstream_timeout"] is not None:
        return rule["next_upstream_timeout"]
    if is_stream(rule):
        return None
    total = 3 * (milliseconds(rule["connect_timeout"]) + milliseconds(rule["read_timeout"]))
    return "%dms" % total if total % 1000 else "%ds" % (total // 1000)


def host_value(rule):
    """The Host (and X-Forwarded-Host) sent upstream: with the port unless it is the scheme's own."""
    default = 443 if rule["tls"] else 80
    return "$host" if rule["server_port"] == default else "$host:%d" % rule["server_port"]


def forwarded(rule):
    return [directive("proxy_set_header", header, value) for header, value in (
        ("Host", host_value(rule)), ("X-Real-IP", "$remote_addr"), ("X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        ("X-Forwarded-Proto", "$scheme"), ("X-Forwarded-Host", host_value(rule)), ("X-Forwarded-Port", "$server_port"))]


def retries(rule, timeout):
    conditions = ["error", "timeout", "http_502", "http_503", "http_504"]
    conditions += ["non_idempotent"] if rule["retry_non_idempotent"] else []
    return [
        directive("proxy_connect_timeout", rule["connect_timeout"]),
        directive("proxy_send_timeout", timeout),
        directive("proxy_read_timeout", timeout),
        directive("proxy_next_upstream", *conditions),
        directive("proxy_next_upstream_tries", expected_tries(rule)),
        directive("proxy_next_upstream_timeout", expected_next_upstream_timeout(rule)),
    ]


def expected_location(rule):
    location = []
    if rule["websocket"]:
        # WebSocket handshakes leave for the named location; nothing else runs in the if
        location += [directive("error_page", "418", "=", "@antman_websocket"),
                     directive("if", "$http_upgrade", block=[directive("return", "418")])]
    location.append(directive("proxy_pass", "http://antman_" + rule["name"]))
    if rule["keepalive"]:
        location += [directive("proxy_http_version", "1.1"), directive("proxy_set_header", "Connection", "")]
    location += forwarded(rule) + retries(rule, rule["read_timeout"])
    if not rule["buffering"]:
        location += [directive("proxy_buffering", "off"), directive("proxy_request_buffering", "off")]
    return directive("location", "/", block=location)


def expected_websocket_location(rule):
    block = [directive("proxy_pass", "http://antman_" + rule["name"]), directive("proxy_http_version", "1.1"),
             directive("proxy_set_header", "Upgrade", "$http_upgrade"),
             directive("proxy_set_header", "Connection", "upgrade")]
    block += forwarded(rule) + retries(rule, rule["websocket_timeout"])
    return directive("location", "@antman_websocket", block=block)


def expected_listens(rule, port, parameters, ipv6):
    listens = [directive("listen", str(port), *parameters)]
    if rule["ipv6"] and ipv6:
        listens.append(directive("listen", "[::]:%d" % port, *parameters))
    return listens


def expected_tls(rule, rules_dir):
    """Certificate and key: the paths given, or the files the collection writes beside the rule."""
    tls = rule["tls"]
    if "certificate" in tls:
        certificate, key = tls["certificate"], tls["key"]
    else:
        certificate = "%s/%s.crt" % (rules_dir.rstrip("/"), rule["name"])
        key = "%s/%s.key" % (rules_dir.rstrip("/"), rule["name"])
    return [directive("ssl_certificate", certificate), directive("ssl_certificate_key", key),
            directive("ssl_protocols", *tls["protocols"])]


def redirect_target(rule):
    """``https://$host`` plus the rule's port unless it is https's own (443), then the request URI."""
    port = "" if rule["server_port"] == 443 else ":%d" % rule["server_port"]
    return "https://$host%s$request_uri" % port


def expected_tree(rule, rules_dir=DEFAULT_RULES_DIR, http2_on=False, ipv6=True):
    """[(directive, args, block or None)] nginx must read from a rule's file (comments apart): in
    http context for an http rule, in stream context for tcp and udp. ``http2_on``: the host's nginx
    is 1.25.1 or later (``http2 on;``, not a listen parameter); ``ipv6``: the host has IPv6."""
    if is_stream(rule):
        server = expected_listens(rule, rule["server_port"], ["udp"] if rule["protocol"] == "udp" else [], ipv6)
        server += [
            directive("proxy_pass", "antman_" + rule["name"]),
            directive("proxy_connect_timeout", rule["connect_timeout"]),
            directive("proxy_timeout", rule["read_timeout"]),
            directive("proxy_next_upstream", "on"),
            directive("proxy_next_upstream_tries", expected_tries(rule)),
        ]
        if expected_next_upstream_timeout(rule) is not None:
            server.append(directive("proxy_next_upstream_timeout", expected_next_upstream_timeout(rule)))
        return [expected_upstream(rule), directive("server", block=server)]
    tls = rule["tls"]
    http2 = bool(tls) and rule["http2"]
    parameters = (["ssl"] if tls else []) + (["http2"] if http2 and not http2_on else [])
    server = expected_listens(rule, rule["server_port"], parameters, ipv6)
    server += [directive("http2", "on")] if http2 and http2_on else []
    server.append(directive("server_name", *rule["server_name"]))
    server += expected_tls(rule, rules_dir) if tls else []
    server.append(directive("client_max_body_size", rule["client_max_body_size"]))
    server.append(expected_location(rule))
    if rule["websocket"]:
        server.append(expected_websocket_location(rule))
    tree = [expected_upstream(rule), directive("server", block=server)]
    if rule["redirect_http"]:
        tree.append(directive("server", block=expected_listens(rule, 80, [], ipv6) + [
            directive("server_name", *rule["server_name"]),
            directive("return", "301", redirect_target(rule))]))
    return tree


def simplify(parsed):
    """crossplane's parse tree as [(directive, args, block or None)]; comments as ('#', text, None)."""
    tree = []
    for item in parsed:
        if item["directive"] == "#":
            tree.append(("#", item["comment"], None))
        else:
            block = simplify(item["block"]) if "block" in item else None
            tree.append((item["directive"], tuple(item["args"]), block))
    return tree


def parse_text(text, context="http"):
    """nginx's reading of ``text`` as the content of an http { } (or stream { }) block, via
    crossplane (strict: unknown directives, wrong contexts and wrong argument counts are errors)."""
    handle, path = tempfile.mkstemp(suffix=".conf", prefix="antman-oracle-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write("%s {\n%s}\n" % (context, text))
        payload = crossplane.parse(path, single=True, comments=True, strict=True)
    finally:
        os.unlink(path)
    if payload["status"] != "ok":
        raise AssertionError("crossplane refused the rendered text: %r\n%s" % (payload["errors"], text))
    (config,) = payload["config"]
    (block,) = simplify(config["parsed"])
    assert block[0] == context and block[1] == (), block
    return block[2]


def all_args(tree):
    for name, args, block in tree:
        if name == "#":
            continue
        for arg in args:
            yield name, arg
        if block is not None:
            yield from all_args(block)


def check_rendered(rule, text, rules_dir=DEFAULT_RULES_DIR, http2_on=False, ipv6=True):
    """Assert that ``text`` is exactly the configuration ``rule`` implies, and nothing else (for a
    host whose nginx takes ``http2 on;`` or not, with IPv6 or not)."""
    assert text.isascii() and "\r" not in text and "\0" not in text, repr(text)
    assert "PRIVATE KEY" not in text and "-----BEGIN" not in text, "PEM content in a rule file"
    tree = parse_text(text, "stream" if is_stream(rule) else "http")
    comments = [entry for entry in tree if entry[0] == "#"]
    assert tree[:2] == comments, "comments must be the two header lines, before everything: %r" % (tree,)
    assert comments[0][1] == HEADER_NOTE % rule["name"], comments
    assert comments[1][1].startswith(HEADER_RULE), comments
    assert json.loads(comments[1][1][len(HEADER_RULE):]) == rule, "header JSON does not hold the rule"
    expected = expected_tree(rule, rules_dir, http2_on, ipv6)
    assert tree[2:] == expected, "directives differ:\n%r\n%r" % (tree[2:], expected)
    allowed = FIXED_ARGS | ({redirect_target(rule)} if rule.get("redirect_http") else set())
    allowed |= {host_value(rule)} if not is_stream(rule) else set()
    for name, arg in all_args(tree[2:]):
        assert arg in allowed or SAFE_ARG.match(arg), "unsafe argument %r of %s" % (arg, name)
    for name, args, _unused in tree[2][2]:
        if name == "server":
            # ngx_parse_url() reads "unix:..." as a UNIX socket path, whatever the rule meant
            assert not args[0].lower().startswith("unix:"), args
    return tree
