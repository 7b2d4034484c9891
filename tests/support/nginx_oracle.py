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
                        "$http_upgrade", "", "^~", "$binary_remote_addr"])
# Fields a rule file's header leaves out at these values (older files stay byte-identical).
QUIET_IN_HEADER = {"allow_from": None, "rate_limit": None, "real_ip_from": None, "proxy_protocol": False,
                   "proxy_protocol_upstream": False}
# health_check's defaults, by protocol (udp rules have none).
QUIET_HEALTH_CHECK = {
    "http": {"enabled": True, "type": "http", "path": "/", "host": None, "status": ["200-499"], "interval": "1s",
             "timeout": "1s", "fails": 2, "passes": 2},
    "tcp": {"enabled": True, "type": "tcp", "interval": "1s", "timeout": "1s", "fails": 2, "passes": 2}}


def quiet_in_header(rule):
    """{field: value} a rule file's header leaves out for ``rule``."""
    return dict(QUIET_IN_HEADER, **({"health_check": QUIET_HEALTH_CHECK[rule["protocol"]]}
                                    if rule["protocol"] in QUIET_HEALTH_CHECK else {}))


SAFE_ARG = re.compile(r"\A[A-Za-z0-9._:*\[\]=/+@-]+\Z")
HEADER_NOTE = " Managed by antsle.antman: rule %s. Do not edit, changes are overwritten."
HEADER_RULE = " antman-rule: "
DEFAULT_RULES_DIR = "/etc/nginx/antman.d"
# Mozilla's "intermediate" configuration for nginx (ssl-config.mozilla.org), written out again here.
MOZILLA_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305")
MOZILLA_INTERMEDIATE_CURVES = "X25519:prime256v1:secp384r1"


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
    """Given, or for http rules one try's connect + read timeout (three tries' worth with backups in
    rotation); None: not written."""
    if rule["next_upstream_timeout"] is not None:
        return rule["next_upstream_timeout"]
    if is_stream(rule):
        return None
    tries = 3 if any(u["backup"] and not u["down"] for u in rule["upstreams"]) else 1
    total = tries * (milliseconds(rule["connect_timeout"]) + milliseconds(rule["read_timeout"]))
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


def limit_zone(rule):
    return "antman_%s_%s" % (rule["name"], "conn" if is_stream(rule) else "req")


def expected_zones(rule):
    """rate_limit's zone, at http or stream level."""
    if not rule.get("rate_limit"):
        return []
    if is_stream(rule):
        return [directive("limit_conn_zone", "$binary_remote_addr", "zone=%s:1m" % limit_zone(rule))]
    return [directive("limit_req_zone", "$binary_remote_addr", "zone=%s:1m" % limit_zone(rule),
                      "rate=%dr/s" % rule["rate_limit"]["requests_per_second"])]


def expected_access(rule):
    """Server level: trusted proxies and the header they give the address in, the allow-list, the
    connection limit (stream) or the status of refused requests (http)."""
    block = []
    if rule.get("real_ip_from"):
        block += [directive("set_real_ip_from", network) for network in rule["real_ip_from"]]
        if not is_stream(rule):
            block.append(directive("real_ip_header", "proxy_protocol" if rule["proxy_protocol"] else "X-Forwarded-For"))
            block.append(directive("real_ip_recursive", "on"))
    if rule.get("allow_from"):
        block += [directive("allow", network) for network in rule["allow_from"]] + [directive("deny", "all")]
    if rule.get("rate_limit"):
        if is_stream(rule):
            block.append(directive("limit_conn", limit_zone(rule), str(rule["rate_limit"]["connections"])))
        else:
            block.append(directive("limit_req_status", "429"))
    return block


def limit_req(rule):
    if not rule.get("rate_limit"):
        return []
    burst = rule["rate_limit"]["burst"]
    return [directive("limit_req", "zone=" + limit_zone(rule), *(["burst=%d" % burst, "nodelay"] if burst else []))]


def expected_location(rule):
    location = limit_req(rule)
    if rule.get("rate_limit"):
        location.append(directive("error_page", "429", "@antman_rate_limited"))
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
    block = limit_req(rule)
    block += [directive("proxy_pass", "http://antman_" + rule["name"]), directive("proxy_http_version", "1.1"),
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
    """Certificate and key: the paths given, the ACME files under acme_dir, or the files the
    collection writes beside the rule; then Mozilla's intermediate settings and the HSTS header."""
    tls = rule["tls"]
    if "certificate" in tls:
        certificate, key = tls["certificate"], tls["key"]
    elif tls.get("acme"):
        certificate = "%s/certs/%s.pem" % (tls["acme_dir"], rule["name"])
        key = "%s/private/%s.key" % (tls["acme_dir"], rule["name"])
    else:
        certificate = "%s/%s.crt" % (rules_dir.rstrip("/"), rule["name"])
        key = "%s/%s.key" % (rules_dir.rstrip("/"), rule["name"])
    expected = [directive("ssl_certificate", certificate), directive("ssl_certificate_key", key),
                directive("ssl_protocols", *tls["protocols"]),
                directive("ssl_ciphers", MOZILLA_INTERMEDIATE_CIPHERS),
                directive("ssl_ecdh_curve", MOZILLA_INTERMEDIATE_CURVES),
                directive("ssl_prefer_server_ciphers", "off")]
    if tls.get("hsts") is not None:
        expected.append(directive("add_header", "Strict-Transport-Security", "max-age=%d" % tls["hsts"], "always"))
    return expected


def expected_role_include(rules_dir):
    """The role's server-level settings (its access log), beside the rules directory, as a glob that
    matches that one file (absent on a host without the role: not an error for a glob)."""
    return directive("include", rules_dir.rstrip("/") + "-server.con[f]")


def expected_port80(rule, rules_dir, ipv6):
    """The plain port-80 server of redirect_http and/or tls.acme (challenge files for exactly the
    rule's names, everything else redirected or 404)."""
    otherwise = directive("return", "301", redirect_target(rule)) if rule["redirect_http"] else directive("return", "404")
    server = expected_listens(rule, 80, [], ipv6) + [directive("server_name", *rule["server_name"]),
                                                     expected_role_include(rules_dir)]
    if not (rule["tls"] and rule["tls"].get("acme")):
        return directive("server", block=server + [otherwise])
    return directive("server", block=server + [
        directive("location", "^~", "/.well-known/acme-challenge/", block=[
            directive("root", rule["tls"]["acme_dir"] + "/challenge"), directive("default_type", "text/plain")]),
        directive("location", "/", block=[otherwise])])


def redirect_target(rule):
    """``https://$host`` plus the rule's port unless it is https's own (443), then the request URI."""
    port = "" if rule["server_port"] == 443 else ":%d" % rule["server_port"]
    return "https://$host%s$request_uri" % port


def expected_tree(rule, rules_dir=DEFAULT_RULES_DIR, http2_on=False, ipv6=True):
    """[(directive, args, block or None)] nginx must read from a rule's file (comments apart): in
    http context for an http rule, in stream context for tcp and udp. ``http2_on``: the host's nginx
    is 1.25.1 or later (``http2 on;``, not a listen parameter); ``ipv6``: the host has IPv6."""
    if is_stream(rule):
        parameters = (["udp"] if rule["protocol"] == "udp" else []) + (["proxy_protocol"] if rule.get("proxy_protocol") else [])
        server = expected_listens(rule, rule["server_port"], parameters, ipv6) + expected_access(rule)
        server += [
            directive("proxy_pass", "antman_" + rule["name"]),
            directive("proxy_connect_timeout", rule["connect_timeout"]),
            directive("proxy_timeout", rule["read_timeout"]),
            directive("proxy_next_upstream", "on"),
            directive("proxy_next_upstream_tries", expected_tries(rule)),
        ]
        if expected_next_upstream_timeout(rule) is not None:
            server.append(directive("proxy_next_upstream_timeout", expected_next_upstream_timeout(rule)))
        if rule.get("proxy_protocol_upstream"):
            server.append(directive("proxy_protocol", "on"))
        return expected_zones(rule) + [expected_upstream(rule), directive("server", block=server)]
    tls = rule["tls"]
    http2 = bool(tls) and rule["http2"]
    parameters = (["ssl"] if tls else []) + (["http2"] if http2 and not http2_on else [])
    parameters += ["proxy_protocol"] if rule["proxy_protocol"] else []
    server = expected_listens(rule, rule["server_port"], parameters, ipv6)
    server += [directive("http2", "on")] if http2 and http2_on else []
    server.append(directive("server_name", *rule["server_name"]))
    server.append(expected_role_include(rules_dir))
    server += expected_tls(rule, rules_dir) if tls else []
    server.append(directive("client_max_body_size", rule["client_max_body_size"]))
    server += expected_access(rule)
    server.append(expected_location(rule))
    if rule["websocket"]:
        server.append(expected_websocket_location(rule))
    if rule["rate_limit"]:
        # refused requests: 429 with Retry-After, from a location of their own
        server.append(directive("location", "@antman_rate_limited", block=[
            directive("add_header", "Retry-After", "1", "always"), directive("return", "429")]))
    tree = expected_zones(rule) + [expected_upstream(rule), directive("server", block=server)]
    if rule["redirect_http"] or (tls and tls.get("acme")):
        tree.append(expected_port80(rule, rules_dir, ipv6))
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
    quiet = quiet_in_header(rule)
    stored = dict((key, value) for key, value in rule.items() if key not in quiet or quiet[key] != value)
    assert json.loads(comments[1][1][len(HEADER_RULE):]) == stored, "header JSON does not hold the rule"
    expected = expected_tree(rule, rules_dir, http2_on, ipv6)
    assert tree[2:] == expected, "directives differ:\n%r\n%r" % (tree[2:], expected)
    allowed = FIXED_ARGS | ({redirect_target(rule)} if rule.get("redirect_http") else set())
    allowed |= {host_value(rule)} if not is_stream(rule) else set()
    for name, arg in all_args(tree[2:]):
        assert arg in allowed or SAFE_ARG.match(arg), "unsafe argument %r of %s" % (arg, name)
    (upstream,) = [block for name, _args, block in tree[2:] if name == "upstream"]
    for name, args, _unused in upstream:
        if name == "server":
            # ngx_parse_url() reads "unix:..." as a UNIX socket path, whatever the rule meant
            assert not args[0].lower().startswith("unix:"), args
    return tree
