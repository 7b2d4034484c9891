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

ZONE_SIZE = "256k"
FORWARDED = (("Host", "$host"), ("X-Real-IP", "$remote_addr"),
             ("X-Forwarded-For", "$proxy_add_x_forwarded_for"), ("X-Forwarded-Proto", "$scheme"))
# The only arguments the renderer may write that contain anything beyond a plain token: the
# fixed forwarded headers' variables and the empty Connection header value.
FIXED_ARGS = frozenset(value for _unused, value in FORWARDED) | {""}
SAFE_ARG = re.compile(r"\A[A-Za-z0-9._:*\[\]=/-]+\Z")
HEADER_NOTE = " Managed by antsle.antman: rule %s. Do not edit, changes are overwritten."
HEADER_RULE = " antman-rule: "


def directive(name, *args, **block):
    return (name, tuple(args), block.get("block"))


def expected_tree(rule):
    """[(directive, args, block or None)] nginx must read from a rule's file (comments apart)."""
    upstream = "antman_" + rule["name"]
    servers = []
    for item in rule["upstreams"]:
        max_fails = item["max_fails"] if item["max_fails"] is not None else rule["max_fails"]
        fail_timeout = item["fail_timeout"] if item["fail_timeout"] is not None else rule["fail_timeout"]
        args = [item["address"], "weight=%d" % item["weight"], "max_fails=%d" % max_fails,
                "fail_timeout=%s" % fail_timeout]
        args += ["backup"] if item["backup"] else []
        args += ["down"] if item["down"] else []
        servers.append(directive("server", *args))
    upstream_block = [directive("zone", upstream, ZONE_SIZE)]
    if rule["method"] != "round_robin":
        upstream_block.append(directive(rule["method"]))
    upstream_block += servers
    if rule["keepalive"]:
        upstream_block.append(directive("keepalive", str(rule["keepalive"])))
    location = [directive("proxy_pass", "http://" + upstream)]
    if rule["keepalive"]:
        location += [directive("proxy_http_version", "1.1"), directive("proxy_set_header", "Connection", "")]
    location += [directive("proxy_set_header", header, value) for header, value in FORWARDED]
    conditions = ["error", "timeout", "http_502", "http_503", "http_504"]
    conditions += ["non_idempotent"] if rule["retry_non_idempotent"] else []
    location += [
        directive("proxy_connect_timeout", rule["connect_timeout"]),
        directive("proxy_send_timeout", rule["read_timeout"]),
        directive("proxy_read_timeout", rule["read_timeout"]),
        directive("proxy_next_upstream", *conditions),
        directive("proxy_next_upstream_tries", str(rule["next_upstream_tries"])),
    ]
    server_block = [
        directive("listen", str(rule["server_port"])),
        directive("server_name", *rule["server_name"]),
        directive("location", "/", block=location),
    ]
    return [directive("upstream", upstream, block=upstream_block), directive("server", block=server_block)]


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


def parse_text(text):
    """nginx's reading of ``text`` as the content of an http { } block, via crossplane (strict:
    unknown directives, wrong contexts and wrong argument counts are errors)."""
    handle, path = tempfile.mkstemp(suffix=".conf", prefix="antman-oracle-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write("http {\n%s}\n" % text)
        payload = crossplane.parse(path, single=True, comments=True, strict=True)
    finally:
        os.unlink(path)
    if payload["status"] != "ok":
        raise AssertionError("crossplane refused the rendered text: %r\n%s" % (payload["errors"], text))
    (config,) = payload["config"]
    (http,) = simplify(config["parsed"])
    assert http[0] == "http" and http[1] == (), http
    return http[2]


def all_args(tree):
    for name, args, block in tree:
        if name == "#":
            continue
        for arg in args:
            yield name, arg
        if block is not None:
            yield from all_args(block)


def check_rendered(rule, text):
    """Assert that ``text`` is exactly the configuration ``rule`` implies, and nothing else."""
    assert text.isascii() and "\r" not in text and "\0" not in text, repr(text)
    tree = parse_text(text)
    comments = [entry for entry in tree if entry[0] == "#"]
    assert tree[:2] == comments, "comments must be the two header lines, before everything: %r" % (tree,)
    assert comments[0][1] == HEADER_NOTE % rule["name"], comments
    assert comments[1][1].startswith(HEADER_RULE), comments
    assert json.loads(comments[1][1][len(HEADER_RULE):]) == rule, "header JSON does not hold the rule"
    assert tree[2:] == expected_tree(rule), "directives differ:\n%r\n%r" % (tree[2:], expected_tree(rule))
    for name, arg in all_args(tree[2:]):
        assert arg in FIXED_ARGS or SAFE_ARG.match(arg), "unsafe argument %r of %s" % (arg, name)
    for name, args, _unused in tree[2][2]:
        if name == "server":
            # ngx_parse_url() reads "unix:..." as a UNIX socket path, whatever the rule meant
            assert not args[0].lower().startswith("unix:"), args
    return tree
