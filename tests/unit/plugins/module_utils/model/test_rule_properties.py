"""Property-based tests: for any input, the model either refuses it with a message that names the
field, or accepts it and the renderer writes exactly the nginx directives the rule implies (in
http context, or in stream context for tcp and udp rules); private keys never leave their file.

Example counts are those of the normal suite (derandomized, the same examples every run);
``HYPOTHESIS_PROFILE=nightly`` multiplies them (``ANTMAN_NIGHTLY_FACTOR``, default 50) with a fresh
random seed each run. ``pytest --hypothesis-show-statistics`` prints how many inputs were accepted
and refused.
"""
import json
import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import desired_files
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import NginxFeatures, render_rule, rule_file_name
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, merge_rule, normalize_rule, parse_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE as RULE_FIELDS
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import parse_managed_text
from ansible_collections.antsle.antman.tests.support.nginx_oracle import check_rendered, expected_file_name
from ansible_collections.antsle.antman.tests.support.rule_strategies import (
    ADDRESS, BOOL, HOSTILE_FIELDS, HOSTILE_KEYS, HOSTILE_UPSTREAM_FIELDS, HOSTILE_UPSTREAMS, HTTP_ONLY, REFERENCE,
    SERVER_NAME, UPSTREAM_DEFAULTS, UPSTREAM_ORDER, budget, default_of, reference_health_check, rule_order, rule_pair,
    upstream_pair)
from ansible_collections.antsle.antman.tests.support.tls_strategies import (
    SECRET_PREFIX, certificate_text, key_text, tls_pair)

FIELD_PATH = re.compile(
    r"\A(?:(?:name|protocol|server_name|server_port|method|connect_timeout|read_timeout|max_fails|fail_timeout"
    r"|next_upstream_tries|next_upstream_timeout|retry_non_idempotent|keepalive|redirect_http|ipv6|websocket"
    r"|websocket_timeout|client_max_body_size|buffering|http2|allow_from|real_ip_from|proxy_protocol"
    r"|proxy_protocol_upstream)(?:\[\d+\])?"
    r"|rate_limit(?:\.(?:requests_per_second|burst|connections))?"
    r"|health_check(?:\.(?:enabled|type|path|host|interval|timeout|fails|passes|status(?:\[\d+\])?))?"
    r"|tls(?:\.(?:certificate|key|certificate_content|key_content|certificate_sha256|key_sha256|acme|acme_dir|protocols|hsts))?"
    r"|upstreams(?:\[\d+\](?:\.(?:address|weight|backup|down|max_fails|fail_timeout))?)?): ")
# Raw values are shown cut at 80 characters; a problem may also name a canonical address (up to
# 259) it clashes with. Only the ip_hash problem lists every backup (canonical) address.
MAX_PROBLEM_LENGTH = 500
# Where certificate files are written; the rendered paths must follow it.
RULES_DIRS = ("/etc/nginx/antman.d", "/srv/lb/rules-2.d")
SECRET = re.compile(SECRET_PREFIX + "[A-Za-z]{8}")


def secrets_in(value):
    """The secret markers of every private key drawn into ``value`` (any nesting, keys too)."""
    found, pending = set(), [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, str):
            found.update(SECRET.findall(item))
    return found


def refuse(raw):
    """normalize_rule(raw) -> the RuleError, or None if it accepted the rule."""
    try:
        normalize_rule(raw)
    except RuleError as error:
        return error
    return None


def check_refusal(error, raw):
    """Every problem names its field (or an unsupported key); the message is one printable ASCII
    line, and shows nothing of a private key given anywhere in the input."""
    message = str(error)
    assert all(" " <= ch <= "~" for ch in message), "unprintable message %r" % message
    assert error.problems
    for problem in error.problems:
        assert FIELD_PATH.match(problem) or problem.startswith("unsupported field "), problem
        assert len(problem) <= MAX_PROBLEM_LENGTH or problem.startswith("upstreams: backup upstreams ("), problem
    for secret in secrets_in(raw):
        assert secret not in message and secret[:12] not in message, "key material shown: %s" % message
    assert "PRIVATE KEY" not in message, message


def names_field(error, path):
    """Whether a problem of ``error`` blames the field at ``path`` (e.g. ``upstreams[2].weight``)."""
    for problem in error.problems:
        if problem.startswith(path + ":") or problem.startswith(path + "[") or problem.startswith(path + "."):
            return True
        if path in ("server_port", "tls") and problem.startswith("redirect_http: true needs"):
            return True  # a valid port or tls can still be what redirect_http cannot go with
        if path == "protocol" and (re.match(r"\w+: does not apply to protocol ", problem)
                                   or problem == "server_name: missing"):
            return True  # a valid protocol other than the rule's makes its other fields wrong
        upstream = re.match(r"upstreams\[(\d+)\]\.(\w+)\Z", path)
        if upstream and upstream.group(2) in ("backup", "down") and problem.startswith("upstreams: "):
            return True  # a valid flag can still make the rule's set of upstreams invalid as a whole
        if upstream and upstream.group(2) == "address" and re.match(
                r"upstreams\[\d+\]\.address: .* duplicates upstreams\[%s\] " % upstream.group(1), problem):
            return True
    return False


def check_either_way(raw):
    """Whatever ``raw`` is: refused with every problem named, or accepted and rendered exactly."""
    error = refuse(raw)
    if error is None:
        event("accepted")
        check_accepted(raw, normalize_rule(raw))
    else:
        event("refused")
        check_refusal(error, raw)


def check_accepted(raw, rule):
    """An accepted rule: the fields of its protocol in the canonical order, every given value read
    as the reference reads it, the rendered file exactly what the rule implies, and a stable round
    trip."""
    protocol = rule["protocol"]
    assert tuple(rule) == rule_order(protocol)
    if protocol != "http":
        assert all(raw.get(key) is None for key in HTTP_ONLY), "a %s rule accepted an http-only field" % protocol
    for key in rule_order(protocol):
        value = raw.get(key)
        if key == "upstreams":
            continue
        if value is None:
            expected = default_of(key, protocol)
        else:
            expected = reference_health_check(value, protocol) if key == "health_check" else REFERENCE[key](value)
        assert rule[key] == expected, (key, value, rule[key])
    assert len(rule["upstreams"]) == len(raw["upstreams"])
    for item, upstream in zip(raw["upstreams"], rule["upstreams"]):
        assert tuple(upstream) == UPSTREAM_ORDER
        for key in UPSTREAM_ORDER:
            value = item.get(key)
            expected = UPSTREAM_DEFAULTS[key] if value is None else REFERENCE[key](value)
            if key in ("max_fails", "fail_timeout") and expected == rule[key]:
                expected = None  # an override equal to the rule's value is no override
            assert upstream[key] == expected, (key, value, upstream[key])
    if rule.get("redirect_http"):
        assert rule["tls"] and rule["server_port"] != 80
    check_rule_output(rule, raw)


def check_rule_output(rule, raw=None):
    """The rendered file, its name, the round trips, and the files written with it: a certificate
    and key given as content go into ``<name>.crt`` (0644) and ``<name>.key`` (0600), byte for byte,
    and nowhere else."""
    secrets = secrets_in(raw)
    content = bool(rule.get("tls")) and "certificate_sha256" in rule["tls"]
    for rules_dir in RULES_DIRS if content else RULES_DIRS[:1]:  # only files written from content move with it
        text = render_rule(rule, rules_dir)
        check_rendered(rule, text, rules_dir)
        assert not any(secret in text for secret in secrets)
    # a host with nginx 1.25.1 or later (http2 on;) and without IPv6
    check_rendered(rule, render_rule(rule, RULES_DIRS[0], NginxFeatures((1, 25, 1), ipv6=False)), RULES_DIRS[0],
                   http2_on=True, ipv6=False)
    assert rule_file_name(rule) == expected_file_name(rule)
    assert normalize_rule(rule) == rule
    assert normalize_rule(json.loads(json.dumps(rule))) == rule
    assert parse_managed_text(rule["name"], render_rule(rule, "/etc/nginx/antman.d")) == (rule, None)
    shown = json.dumps(rule) + repr(rule) + repr(dict(rule))
    assert not any(secret in shown for secret in secrets), "key material in the canonical rule"
    tls = (raw or {}).get("tls")
    if isinstance(tls, dict) and tls.get("key_content") is not None:
        _canonical, content = parse_rule(raw)
        files = desired_files(rule, render_rule(rule, RULES_DIRS[0]), None, content)
        name = rule["name"]
        assert files == {"%s.conf" % name: (render_rule(rule, RULES_DIRS[0]).encode(), 0o644),
                         "%s.crt" % name: (tls["certificate_content"].encode(), 0o644),
                         "%s.key" % name: (tls["key_content"].encode(), 0o600)}


@budget(400)
@given(rule_pair())
def test_valid_input_gives_the_expected_canonical_rule_and_exact_config(pair):
    raw, expected = pair
    rule = normalize_rule(raw)
    assert rule == expected
    event(rule["protocol"] + (" tls" if rule.get("tls") else "") + (" redirect" if rule.get("redirect_http") else ""))
    check_accepted(raw, rule)


FIELD_CHOICES = sorted(HOSTILE_FIELDS) + ["upstreams[].%s" % key for key in sorted(HOSTILE_UPSTREAM_FIELDS)] + [
    "upstreams", "<unknown key>", "upstreams[].<unknown key>"]


@st.composite
def one_hostile_field(draw):
    """A valid rule with exactly one field replaced by a hostile value: (raw, path of that field)."""
    raw, _unused = draw(rule_pair(max_upstreams=3))
    choice = draw(st.sampled_from(FIELD_CHOICES))
    if choice in HOSTILE_FIELDS:
        raw[choice] = draw(HOSTILE_FIELDS[choice])
        return raw, choice
    if choice == "upstreams":
        raw["upstreams"] = draw(HOSTILE_UPSTREAMS)
        return raw, "upstreams"
    if choice == "<unknown key>":
        key = draw(HOSTILE_KEYS.filter(lambda k: k not in RULE_FIELDS))
        raw[key] = draw(HOSTILE_FIELDS["name"])
        return raw, "unsupported"
    index = draw(st.integers(0, len(raw["upstreams"]) - 1))
    key = choice.split(".", 1)[1]
    if key == "<unknown key>":
        key = draw(HOSTILE_KEYS.filter(lambda k: k not in UPSTREAM_ORDER))
        raw["upstreams"][index][key] = draw(HOSTILE_FIELDS["name"])
        return raw, "upstreams[%d]: unsupported" % index
    raw["upstreams"][index][key] = draw(HOSTILE_UPSTREAM_FIELDS[key])
    return raw, "upstreams[%d].%s" % (index, key)


def check_one_hostile_field(raw, path):
    error = refuse(raw)
    if error is None:
        event("accepted")
        assert path not in ("upstreams", "unsupported") and "unsupported" not in path
        check_accepted(raw, normalize_rule(raw))
        return
    event("refused")
    check_refusal(error, raw)
    if path == "unsupported":
        assert any(p.startswith("unsupported field ") for p in error.problems), error.problems
    elif path.endswith(": unsupported"):
        assert any(p.startswith(path.replace(" unsupported", " unsupported field ")) for p in error.problems)
    else:
        assert names_field(error, path), (path, error.problems)


@budget(800)
@given(one_hostile_field())
def test_one_hostile_field_is_refused_by_name_or_rendered_exactly(case):
    check_one_hostile_field(*case)


@st.composite
def hostile_tls_rule(draw):
    """An https rule (sometimes redirecting port 80) whose tls is hostile."""
    raw, _unused = draw(rule_pair(max_upstreams=2, protocols=("http",)))
    raw["tls"] = draw(HOSTILE_FIELDS["tls"])
    if draw(st.booleans()):
        raw["redirect_http"], raw["server_port"] = True, draw(st.sampled_from([443, 8443]))
    return raw, "tls"


@budget(200)
@given(hostile_tls_rule())
def test_hostile_tls_is_refused_by_name_or_rendered_exactly_and_keys_never_shown(case):
    check_one_hostile_field(*case)


# Values an http rule may have for its own fields (raw spellings), all of them "given".
HTTP_ONLY_VALUES = {
    "server_name": SERVER_NAME.map(lambda pair: pair[0]),
    "retry_non_idempotent": BOOL.map(lambda pair: pair[0]),
    "keepalive": st.integers(0, 1024),
    "tls": tls_pair().map(lambda pair: pair[0]),
    "redirect_http": BOOL.map(lambda pair: pair[0]),
    "websocket": BOOL.map(lambda pair: pair[0]),
    "websocket_timeout": st.sampled_from(["1h", "30s", 60]),
    "client_max_body_size": st.sampled_from(["0", "200m", "1G", 1024]),
    "buffering": BOOL.map(lambda pair: pair[0]),
    "http2": BOOL.map(lambda pair: pair[0]),
}


@st.composite
def stream_rule_with_http_fields(draw):
    """A tcp or udp rule given one or more http-only fields (values valid for http, or hostile)."""
    raw, _unused = draw(rule_pair(max_upstreams=2, protocols=("tcp", "udp")))
    given_fields = draw(st.lists(st.sampled_from(HTTP_ONLY), min_size=1, max_size=3, unique=True))
    for key in given_fields:
        raw[key] = draw(st.one_of(HTTP_ONLY_VALUES[key], HOSTILE_FIELDS[key].filter(lambda v: v is not None)))
    return raw, given_fields


@budget(100)
@given(stream_rule_with_http_fields())
def test_stream_rules_refuse_every_http_only_field_by_name(case):
    raw, given_fields = case
    error = refuse(raw)
    assert error is not None
    check_refusal(error, raw)
    for key in given_fields:
        assert "%s: does not apply to protocol %s" % (key, raw["protocol"]) in error.problems, error.problems


@st.composite
def key_in_any_place(draw):
    """A private key put where it does not belong (or where it does), next to other fields that
    may be hostile: the key must never show, whatever the model makes of the rule."""
    raw, _unused = draw(rule_pair(max_upstreams=2, protocols=("http", "http", "tcp")))
    key = draw(key_text())
    place = draw(st.sampled_from(["tls.key", "tls.certificate", "tls.key_sha256", "tls.certificate_content",
                                  "tls.key_content", "tls.protocols", "tls", "tls.<unknown>", "server_name",
                                  "name", "upstreams[0].address", "read_timeout", "<unknown>", "keepalive"]))
    tls = {"certificate_content": draw(certificate_text()), "key_content": draw(key_text())}
    if place.startswith("tls."):
        field = place[4:]
        tls[field if field != "<unknown>" else "key_contents"] = key if field != "certificate_content" else (
            tls["certificate_content"] + key)
        raw["tls"] = tls
    elif place == "tls":
        raw["tls"] = draw(st.sampled_from([key, [tls["certificate_content"], key], {"content": key}]))
    elif place == "upstreams[0].address":
        raw["upstreams"][0]["address"] = key
    elif place == "<unknown>":
        raw["private_key"] = key
    else:
        raw[place] = key
    if draw(st.booleans()):
        other = draw(st.sampled_from(sorted(HOSTILE_FIELDS)))
        if other not in ("tls",):
            raw[other] = draw(HOSTILE_FIELDS[other])
    return raw


@budget(150)
@given(key_in_any_place())
def test_private_keys_never_show_in_messages_rules_or_rule_files(raw):
    check_either_way(raw)


def field_values(valid, hostile):
    return st.one_of(st.none(), valid, hostile)


@st.composite
def any_rule(draw):
    """Every field independently absent, None, valid or hostile."""
    valid_raw, _unused = draw(rule_pair(max_upstreams=3))
    raw = {}
    for key in rule_order("http"):
        if key == "upstreams":
            continue
        choice = draw(st.sampled_from(["absent", "valid", "valid", "hostile"]))
        if choice == "valid" and key in valid_raw:
            raw[key] = valid_raw[key]
        elif choice == "hostile":
            raw[key] = draw(HOSTILE_FIELDS[key])
    if "name" not in raw:
        raw["name"] = valid_raw["name"]
    upstreams = []
    for item in valid_raw["upstreams"]:
        item = dict(item)
        for key in UPSTREAM_ORDER:
            if draw(st.integers(0, 5)) == 0:
                item[key] = draw(HOSTILE_UPSTREAM_FIELDS[key])
        upstreams.append(item)
    raw["upstreams"] = draw(st.one_of(st.just(upstreams), st.just(upstreams), HOSTILE_UPSTREAMS))
    return raw


@budget(400)
@given(any_rule())
def test_any_input_is_refused_by_name_or_rendered_exactly(raw):
    check_either_way(raw)


@budget(100)
@given(rule_pair(max_upstreams=3), st.dictionaries(st.sampled_from(sorted(HOSTILE_FIELDS)), st.just(None), max_size=4),
       st.data())
def test_merging_hostile_fields_over_a_rule_is_refused_or_rendered_exactly(pair, chosen, data):
    _unused, existing = pair
    raw = dict((key, data.draw(HOSTILE_FIELDS[key])) for key in chosen)
    if data.draw(st.booleans()):
        raw["upstreams"] = [dict(address=u["address"], weight=data.draw(HOSTILE_UPSTREAM_FIELDS["weight"]))
                            for u in existing["upstreams"][:2]] + [data.draw(upstream_pair())[0]]
    error = refuse(merge_rule(existing, raw))
    if error is None:
        event("accepted")
        check_rule_output(normalize_rule(merge_rule(existing, raw)), raw)
    else:
        event("refused")
        check_refusal(error, raw)


@st.composite
def broken_roles(draw):
    """A valid rule made invalid as a whole: (raw, expected message)."""
    raw, canonical = draw(rule_pair())
    problems = ["all backup or down", "backup with ip_hash", "duplicate address"]
    if canonical["protocol"] == "http":
        problems += ["redirect without tls", "redirect on port 80"]
    problem = draw(st.sampled_from(problems))
    if problem == "all backup or down":
        for item in raw["upstreams"]:
            flag = draw(st.sampled_from([("backup",), ("down",), ("backup", "down")]))
            item.update((key, draw(st.sampled_from([True, "yes", "on", 1, "true"]))) for key in flag)
        raw["method"] = draw(st.sampled_from(["round_robin", "least_conn"]))
        return raw, ["upstreams: every upstream is backup or down"]
    if problem == "backup with ip_hash":
        raw["method"] = "ip_hash"
        raw["upstreams"].append({"address": "192.0.2.250:%d" % draw(st.integers(1, 65535)), "backup": True})
        return raw, ["upstreams: backup upstreams (", ") cannot be used with method 'ip_hash'"]
    if problem == "redirect without tls":
        raw["tls"], raw["redirect_http"] = draw(st.sampled_from([None, ABSENT_MARK])), draw(
            st.sampled_from([True, "yes", "on", 1]))
        if raw["tls"] is ABSENT_MARK:
            del raw["tls"]
        return raw, ["redirect_http: true needs tls"]
    if problem == "redirect on port 80":
        raw["tls"], _unused = draw(tls_pair())
        raw["redirect_http"], raw["server_port"] = True, draw(st.sampled_from([80, "80", 80.0]))
        return raw, ["redirect_http: true needs a server_port other than 80"]
    index = draw(st.integers(0, len(raw["upstreams"]) - 1))
    same = canonical["upstreams"][index]["address"]
    spelling = draw(st.sampled_from([same, same.upper(), same[:-3] if same.endswith(":80") else same]))
    raw["upstreams"].append({"address": spelling})
    # the value is shown cut at 80 characters, the canonical address it duplicates in full
    return raw, ["upstreams[%d].address: %s" % (len(raw["upstreams"]) - 1, json.dumps(spelling)[:80]),
                 " duplicates upstreams[%d] (%s)" % (index, same)]


ABSENT_MARK = object()


@budget(100)
@given(broken_roles())
def test_rules_broken_as_a_whole_are_refused(case):
    raw, expected = case
    error = refuse(raw)
    assert error is not None and all(part in str(error) for part in expected), (expected, error)
    check_refusal(error, raw)


# -- rule sets ------------------------------------------------------------------------------

SMALL_NAMES = st.sampled_from(["web", "Web", "api", "API", "shop", "ssh", "dns"])
SMALL_SERVER_NAMES = st.lists(st.sampled_from(["a.com", "b.com", "*.a.com", "a.*"]), min_size=1, max_size=2,
                              unique=True)
SMALL_PORTS = st.sampled_from([80, 443, 8080, 53])
SMALL_TLS = {"certificate": "/etc/ssl/a.pem", "key": "/etc/ssl/a.key"}


@st.composite
def small_rule(draw, name):
    kind = draw(st.sampled_from(["http", "http", "https", "https+redirect", "tcp", "udp"]))
    raw = {"name": name, "server_port": draw(SMALL_PORTS), "upstreams": [{"address": draw(ADDRESS)[0]}],
           "ipv6": draw(st.booleans())}
    if kind in ("tcp", "udp"):
        raw["protocol"] = kind
        return normalize_rule(raw)
    raw["server_name"] = draw(SMALL_SERVER_NAMES)
    if kind != "http":
        raw["tls"] = SMALL_TLS
        raw["http2"] = draw(st.booleans())
    if kind == "https+redirect":
        raw["redirect_http"] = True
        raw["server_port"] = draw(st.sampled_from([443, 8080]))
    return normalize_rule(raw)


@st.composite
def small_rule_sets(draw):
    names = draw(st.lists(SMALL_NAMES, min_size=1, max_size=5, unique=True))
    return [draw(small_rule(name)) for name in names]


def expected_clashes(rules):
    """What must clash, worked out from what nginx does with the servers the rules make:
    {("name", folded name), ("socket", port, transport), ("tls", port), ("http2", port),
    ("proxy_protocol", port), ("server_name", name, port)}. Sockets are per address family: IPv4 always, IPv6 with ipv6."""
    clashes, folded = set(), {}
    sockets, http_servers, proxy_protocol = {}, [], {}
    for rule in rules:
        folded.setdefault(rule["name"].lower(), []).append(rule["name"])
        if rule["protocol"] == "http":
            http_servers.append((rule["name"], rule["server_port"], bool(rule["tls"]), rule["server_name"]))
            proxy_protocol.setdefault(rule["server_port"], set()).add(rule["proxy_protocol"])
            if rule["redirect_http"]:
                http_servers.append((rule["name"], 80, False, rule["server_name"]))
                proxy_protocol.setdefault(80, set()).add(False)  # the redirect's listen has no PROXY protocol
    clashes |= set(("name", key) for key, owners in folded.items() if len(owners) > 1)
    for rule in rules:
        transport = "udp" if rule["protocol"] == "udp" else "tcp"
        for family in ("IPv4", "IPv6") if rule["ipv6"] else ("IPv4",):
            sockets.setdefault((family, rule["server_port"], transport), []).append(rule["protocol"])
            if rule.get("redirect_http"):
                sockets.setdefault((family, 80, "tcp"), []).append("http")
    for (_family, port, transport), users in sockets.items():
        # http servers share a listening socket; a stream server needs one of its own
        if len(users) > 1 and any(user != "http" for user in users):
            clashes.add(("socket", port, transport))
    by_port, by_name, http2_by_port = {}, {}, {}
    for name, port, tls, server_names in http_servers:
        by_port.setdefault(port, set()).add(tls)
        for server_name in server_names:
            by_name.setdefault((server_name, port), set()).add(name)
    for rule in rules:
        if rule["protocol"] == "http" and rule["tls"]:
            http2_by_port.setdefault(rule["server_port"], set()).add(rule["http2"])
    clashes |= set(("tls", port) for port, kinds in by_port.items() if len(kinds) > 1)
    clashes |= set(("http2", port) for port, kinds in http2_by_port.items() if len(kinds) > 1)
    clashes |= set(("proxy_protocol", port) for port, kinds in proxy_protocol.items() if len(kinds) > 1)
    clashes |= set(("server_name", n, port) for (n, port), owners in by_name.items() if len(owners) > 1)
    return clashes


CLASH_MESSAGES = [
    (re.compile(r"rule '([\w-]+)': name clashes with rule '([\w-]+)' \(rule names are case-insensitive\)\Z"),
     lambda m: ("name", m.group(1).lower())),
    (re.compile(r"rule '[\w-]+': (tcp|udp) port (\d+) is already used by rule '[\w-]+' \((http|tcp|udp)\) "
                r"on (IPv4|IPv6|IPv4 and IPv6)\Z"),
     lambda m: ("socket", int(m.group(2)), m.group(1))),
    (re.compile(r"rule '[\w-]+': http2 is (on|off) on server_port (\d+) but (on|off) in rule '[\w-]+'; all tls rules "
                r"on a port must agree on http2 \(nginx before 1.25.1 sets it per listening socket\)\Z"),
     lambda m: ("http2", int(m.group(2)))),
    (re.compile(r"rule '[\w-]+': proxy_protocol is (on|off) on port (\d+) but (on|off) in rule '[\w-]+'; all http rules "
                r"on a port must agree on proxy_protocol \(a setting of the listening socket\)\Z"),
     lambda m: ("proxy_protocol", int(m.group(2)))),
    (re.compile(r"rule '[\w-]+': (?:server_port (\d+)|redirect_http \(port (80)\)) is (?:TLS|plain HTTP) in rule "
                r"'[\w-]+'(?: \(its redirect_http\))?; all http rules on a port must agree on tls\Z"),
     lambda m: ("tls", int(m.group(1) or m.group(2)))),
    (re.compile(r"rule '[\w-]+': server_name '([^']+)' on server_port (\d+) is already used by rule '[\w-]+'\Z"),
     lambda m: ("server_name", m.group(1), int(m.group(2)))),
]


def reported_clashes(problems):
    found = set()
    for problem in problems:
        for pattern, key in CLASH_MESSAGES:
            match = pattern.match(problem)
            if match:
                found.add(key(match))
                break
        else:
            raise AssertionError("unexpected problem %r" % problem)
    return found


@budget(200)
@given(small_rule_sets())
def test_rule_sets_clash_exactly_where_nginx_would_misread_or_refuse_them(rules):
    expected = expected_clashes(rules)
    if not expected:
        event("no clash")
        check_rule_set(rules)
        return
    event("clash: " + " ".join(sorted(set(c[0] for c in expected))))
    with pytest.raises(RuleError) as error:
        check_rule_set(rules)
    assert reported_clashes(error.value.problems) == expected, (expected, error.value.problems)
