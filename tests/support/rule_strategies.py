"""Hypothesis strategies for rule input, valid and hostile, and a reference reading of accepted
values.

Valid strategies draw ``(raw, canonical)`` pairs: an input as a playbook could give it (any case,
ports left out, times in any unit, numbers as strings...) and the canonical value the model must
turn it into, built from the same parts rather than by calling the model. Rules are http (with or
without tls, see tls_strategies.py, and redirect_http), tcp or udp; the canonical form of each
protocol holds only its own fields, with its own read_timeout default.

Hostile strategies draw values meant to be refused: nginx syntax and shell metacharacters spliced
into valid values, the whole of Unicode (control characters, lone surrogates, homographs), very
long values, integers of every size and the wrong types.
"""
import functools
import ipaddress
import os
import re
import string

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from ansible_collections.antsle.antman.tests.support.tls_strategies import (
    hostile_tls, hostile_tls_values, reference_tls, tls_pair)

NIGHTLY = os.environ.get("HYPOTHESIS_PROFILE") == "nightly"
NIGHTLY_FACTOR = int(os.environ.get("ANTMAN_NIGHTLY_FACTOR", "50"))


def budget(examples, shrink=True):
    """Settings for a property test: ``examples`` in the normal suite (derandomized: the same
    examples every run, so CI is reproducible), ``NIGHTLY_FACTOR`` times as many and a fresh
    random seed with HYPOTHESIS_PROFILE=nightly. ``shrink=False`` for tests whose examples are
    expensive: a failure is then reported as found, not minimised."""
    phases = [phase for phase in Phase if shrink or phase not in (Phase.shrink, Phase.explain)]
    return settings(
        phases=phases,
        max_examples=examples * (NIGHTLY_FACTOR if NIGHTLY else 1),
        derandomize=not NIGHTLY,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                               HealthCheck.large_base_example],
    )


# -- valid values: (raw, canonical) -----------------------------------------------------------

ALNUM = string.ascii_lowercase + string.digits
LABEL = st.tuples(st.sampled_from(ALNUM), st.text(ALNUM + "-", max_size=30), st.sampled_from(ALNUM)).map(
    lambda t: t[0] + t[1] + t[2] if t[1] else t[0])
TRUE_WORDS = ("yes", "on", "true", "y", "t", "1")
FALSE_WORDS = ("no", "off", "false", "n", "f", "0")


def recase(strategy):
    """(raw in random letter case, canonical lowercase) from a strategy of lowercase text."""
    def apply(pair):
        text, bits = pair
        return "".join(c.upper() if (bits >> (i % 64)) & 1 else c for i, c in enumerate(text)), text
    return st.tuples(strategy, st.integers(0, 2 ** 64 - 1)).map(apply)


def not_all_digits(label):
    """The last label of a host name must not be all digits (it would read as a bad IPv4 address)."""
    return label[:-1] + "x" if label.isdigit() else label


def exact_length_hostname(length):
    """A valid host name of exactly ``length`` characters (labels of at most 63, last one a letter)."""
    labels, left = [], length
    while left > 63:
        labels.append("a" * 62 + "b")
        left -= 64
    if left == 0:  # the dot made it fit exactly: shorten the previous label by one, add a one-letter label
        labels[-1] = labels[-1][:-2] + "b"
        left = 1
    labels.append("c" * left)
    return ".".join(labels)


HOSTNAME = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(lambda labels: labels[:-1] + [not_all_digits(labels[-1])])
    .map(".".join),
    st.integers(1, 253).map(exact_length_hostname),
)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6)


def pair_of(strategy):
    return strategy.map(lambda value: (value, value))


SERVER_NAME_ITEM = st.one_of(
    recase(HOSTNAME),
    recase(HOSTNAME.filter(lambda n: len(n) <= 251)).map(lambda p: ("*." + p[0], "*." + p[1])),
    recase(HOSTNAME.filter(lambda n: len(n) <= 251)).map(lambda p: (p[0] + ".*", p[1] + ".*")),
    pair_of(IPV4),
)
SERVER_NAME = st.one_of(
    SERVER_NAME_ITEM.map(lambda p: (p[0], [p[1]])),
    st.lists(SERVER_NAME_ITEM, min_size=1, max_size=5, unique_by=lambda p: p[1])
    .map(lambda pairs: ([p[0] for p in pairs], [p[1] for p in pairs])),
)
PORT_NUMBER = st.integers(1, 65535)


def port_text(port, padded):
    return "%05d" % port if padded else "%d" % port


def host_address(host_pairs, allow_ipv6=True):
    """(raw, canonical) upstream addresses built from (raw host, canonical host) pairs."""
    with_port = st.tuples(host_pairs, PORT_NUMBER, st.booleans()).map(
        lambda t: ("%s:%s" % (t[0][0], port_text(t[1], t[2])), "%s:%d" % (t[0][1], t[1])))
    without_port = host_pairs.map(lambda p: (p[0], "%s:80" % p[1]))
    choices = [with_port, without_port]
    if allow_ipv6:
        ipv6 = st.tuples(IPV6, st.sampled_from(["compressed", "exploded"]), st.booleans(), PORT_NUMBER,
                         st.sampled_from(["bracket-port", "bracket", "bare"]))
        choices.append(ipv6.map(ipv6_pair))
    return st.one_of(*choices)


def ipv6_pair(parts):
    address, form, upper, port, layout = parts
    text = getattr(address, form)
    text = text.upper() if upper else text
    canonical_host = "[%s]" % address.compressed
    if layout == "bracket-port":
        return "[%s]:%d" % (text, port), "%s:%d" % (canonical_host, port)
    if layout == "bracket":
        return "[%s]" % text, "%s:80" % canonical_host
    return text, "%s:80" % canonical_host


ADDRESS = host_address(st.one_of(recase(HOSTNAME.filter(lambda n: n != "unix")), pair_of(IPV4)))
# Addresses nginx -t can resolve on any machine: IP literals and localhost.
RESOLVABLE_ADDRESS = host_address(st.one_of(pair_of(IPV4), recase(st.just("localhost"))))


def int_pair(minimum, maximum):
    forms = st.sampled_from(["int", "str", "padded-str", "float"])
    return st.tuples(st.integers(minimum, maximum), forms).map(int_form)


def int_form(pair):
    value, form = pair
    raw = {"int": value, "str": "%d" % value, "padded-str": " %d " % value, "float": float(value)}[form]
    return raw, value


BOOL = st.one_of(
    st.booleans().map(lambda b: (b, b)),
    st.sampled_from([(w, True) for w in TRUE_WORDS] + [(w, False) for w in FALSE_WORDS]
                    + [(w.upper(), w in TRUE_WORDS) for w in ("yes", "no", "true", "false", "on", "off")]
                    + [(1, True), (0, False)]),
)


def canonical_time(milliseconds):
    return "%dms" % milliseconds if milliseconds % 1000 else "%ds" % (milliseconds // 1000)


def time_pair(minimum_ms, maximum_ms, whole_seconds=False):
    if whole_seconds:
        values = st.integers(-(-minimum_ms // 1000), maximum_ms // 1000).map(lambda s: s * 1000)
    else:
        values = st.integers(minimum_ms, maximum_ms)
    return st.tuples(values, st.integers(0, 7)).map(time_form)


def time_form(pair):
    milliseconds, choice = pair
    seconds, rest = divmod(milliseconds, 1000)
    forms = ["%dms" % milliseconds]
    if rest:
        forms.append("%d.%03d" % (seconds, rest))
        forms.append(("%d.%03d" % (seconds, rest)).rstrip("0"))
    else:
        forms += ["%ds" % seconds, "%d" % seconds, seconds, float(seconds), " %ds " % seconds]
        if seconds % 60 == 0:
            forms.append("%dm" % (seconds // 60))
        if seconds % 3600 == 0:
            forms.append("%dh" % (seconds // 3600))
    return forms[choice % len(forms)], canonical_time(milliseconds)


SIZE_FACTORS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def canonical_size(size):
    for unit in ("g", "m", "k"):
        if size and size % SIZE_FACTORS[unit] == 0:
            return "%d%s" % (size // SIZE_FACTORS[unit], unit)
    return "%d" % size


def size_form(parts):
    number, unit, upper, as_int = parts
    size = number * SIZE_FACTORS[unit]
    if as_int and not unit:
        return size, canonical_size(size)
    return "%d%s" % (number, unit.upper() if upper else unit), canonical_size(size)


# nginx sizes up to 1024g: bytes, k, m or g in either case; 0 is "no limit"
SIZE = st.tuples(st.integers(0, 1024), st.sampled_from(["", "k", "m", "g"]), st.booleans(), st.booleans()).map(size_form)
NAME = st.tuples(st.sampled_from(string.ascii_letters + string.digits),
                 st.text(string.ascii_letters + string.digits + "_-", max_size=63)).map(lambda t: (t[0] + t[1],) * 2)
METHOD = st.sampled_from(["round_robin", "least_conn", "ip_hash"]).map(lambda m: (m, m))


def cidr_form(parts):
    """(raw, canonical) of a network: its address with the host bits cleared, written as given
    (IPv6 exploded or in upper case too), a single host with or without /32 or /128."""
    version, bits, prefix, spelling = parts
    width = 32 if version == 4 else 128
    prefix %= width + 1
    value = (bits >> (width - prefix) << (width - prefix)) if prefix else 0
    address = ipaddress.ip_address(value) if version == 4 else ipaddress.IPv6Address(value)
    text = address.exploded.upper() if version == 6 and spelling % 2 else str(address)
    canonical = address.compressed if prefix == width else "%s/%d" % (address.compressed, prefix)
    if prefix == width and spelling % 3 == 0:
        return text, canonical
    return "%s/%d" % (text, prefix), canonical


CIDR = st.tuples(st.sampled_from([4, 6]), st.integers(0, 2 ** 128 - 1), st.integers(0, 200), st.integers(0, 5)).map(
    lambda parts: cidr_form((parts[0], parts[1] % (2 ** (32 if parts[0] == 4 else 128)), parts[2], parts[3])))
CIDR_LIST = st.lists(CIDR, min_size=1, max_size=4, unique_by=lambda pair: pair[1]).map(
    lambda pairs: ([p[0] for p in pairs], [p[1] for p in pairs]))


def rate_limit_pair(protocol):
    """http: requests_per_second and an optional burst (default 0); tcp: connections."""
    if protocol == "tcp":
        return int_pair(1, 65535).map(lambda p: ({"connections": p[0]}, {"connections": p[1]}))
    return st.tuples(int_pair(1, 100000), st.one_of(st.none(), int_pair(0, 100000))).map(
        lambda t: (dict({"requests_per_second": t[0][0]}, **({"burst": t[1][0]} if t[1] else {})),
                   {"requests_per_second": t[0][1], "burst": t[1][1] if t[1] else 0}))


# health_check: the options of a check, and (raw, canonical) pairs of the whole dict per protocol.
HEALTH_PROTOCOLS = ("http", "tcp")
HEALTH_HTTP_ONLY = ("path", "host", "status")
PATH_CHARACTERS = string.ascii_letters + string.digits + "._~!$&'()*+,;=:@/?-"
HEALTH_PATH = st.one_of(st.just("/"), st.text(PATH_CHARACTERS, min_size=1, max_size=40).map(lambda text: "/" + text))
STATUS_ITEM = st.tuples(st.integers(100, 599), st.integers(0, 99), st.sampled_from(["int", "str", "range"])).map(
    lambda t: (t[0], "%d" % t[0]) if t[2] == "int" else ("%d" % t[0], "%d" % t[0]) if t[2] == "str" else
    ("%d-%d" % (t[0], min(t[0] + t[1], 599)), "%d-%d" % (t[0], min(t[0] + t[1], 599)) if t[1] and t[0] < 599 else "%d" % t[0]))
STATUS = st.one_of(
    STATUS_ITEM.map(lambda p: (p[0], [p[1]])),
    st.lists(STATUS_ITEM, min_size=1, max_size=4, unique_by=lambda p: p[1]).map(
        lambda pairs: ([p[0] for p in pairs], [p[1] for p in pairs])))
HOST_HEADER = st.one_of(
    recase(HOSTNAME), pair_of(IPV4),
    st.tuples(recase(HOSTNAME), PORT_NUMBER).map(lambda t: ("%s:%d" % (t[0][0], t[1]), "%s:%d" % (t[0][1], t[1]))),
    st.tuples(IPV6, PORT_NUMBER).map(lambda t: ("[%s]:%d" % (t[0].exploded, t[1]), "[%s]:%d" % (t[0].compressed, t[1]))))
HEALTH_OPTION_PAIRS = {
    "enabled": BOOL, "path": HEALTH_PATH.map(lambda p: (p, p)), "host": HOST_HEADER, "status": STATUS,
    "interval": time_pair(100, 3600000), "timeout": time_pair(100, 60000), "fails": int_pair(1, 100),
    "passes": int_pair(1, 100)}
HEALTH_DEFAULTS = {"enabled": True, "path": "/", "host": None, "status": ["200-499"], "interval": "1s", "timeout": "1s",
                   "fails": 2, "passes": 2}
HEALTH_ORDER = ("enabled", "type", "path", "host", "status", "interval", "timeout", "fails", "passes")


def health_default(protocol):
    """The canonical default check of type ``protocol``: a tcp check has no http options."""
    default = dict(HEALTH_DEFAULTS, type=protocol)
    return default if protocol == "http" else dict((k, v) for k, v in default.items() if k not in HEALTH_HTTP_ONLY)


@st.composite
def health_check_pair(draw, protocol):
    """(raw, canonical) health_check of a rule of ``protocol``: each option left out, None or given."""
    kind = draw(st.sampled_from(["http", "tcp"])) if protocol == "http" else "tcp"
    raw, canonical = {}, health_default("http" if kind == "http" else "tcp")
    canonical["type"] = kind
    if kind != "http" or draw(st.booleans()):
        if kind != protocol or draw(st.booleans()):
            raw["type"] = kind
    for key, pairs in HEALTH_OPTION_PAIRS.items():
        if kind == "tcp" and key in HEALTH_HTTP_ONLY:
            if draw(st.integers(0, 5)) == 0:
                raw[key] = None
            continue
        value, normal = draw(optional(pairs, canonical[key]))
        if value is not ABSENT:
            raw[key] = value
        canonical[key] = normal
    return raw, dict((key, canonical[key]) for key in HEALTH_ORDER if key in canonical)


RULE_FIELD_PAIRS = {
    "server_port": int_pair(1, 65535),
    "method": METHOD,
    "connect_timeout": time_pair(1, 75000),
    "read_timeout": time_pair(1, 3600000),
    "max_fails": int_pair(0, 1000),
    "fail_timeout": time_pair(1000, 3600000, whole_seconds=True),
    "next_upstream_tries": int_pair(0, 100),
    "next_upstream_timeout": time_pair(0, 3600000),
    "retry_non_idempotent": BOOL,
    "keepalive": int_pair(0, 1024),
    "redirect_http": BOOL,
    "ipv6": BOOL,
    "websocket": BOOL,
    "websocket_timeout": time_pair(1, 86400000),
    "client_max_body_size": SIZE,
    "buffering": BOOL,
    "http2": BOOL,
}
PROTOCOLS = ("http", "tcp", "udp")
# Fields an http rule has and a tcp or udp (nginx stream) rule has not.
HTTP_ONLY = ("server_name", "retry_non_idempotent", "keepalive", "websocket", "websocket_timeout", "client_max_body_size",
             "buffering", "tls", "http2", "redirect_http")
# Who may reach a rule: the protocols each of these fields applies to, their defaults.
ACCESS_PROTOCOLS = {"allow_from": PROTOCOLS, "rate_limit": ("http", "tcp"), "real_ip_from": ("http", "tcp"),
                    "proxy_protocol": ("http", "tcp"), "proxy_protocol_upstream": ("tcp",)}
ACCESS_DEFAULTS = {"allow_from": None, "rate_limit": None, "real_ip_from": None, "proxy_protocol": False,
                   "proxy_protocol_upstream": False}
RULE_DEFAULTS = {
    "protocol": "http", "server_port": 80, "method": "round_robin", "connect_timeout": "1s", "max_fails": 5,
    "fail_timeout": "10s", "next_upstream_tries": None, "next_upstream_timeout": None, "retry_non_idempotent": False,
    "keepalive": 32, "tls": None, "redirect_http": False, "ipv6": True, "websocket": True, "websocket_timeout": "3600s",
    "client_max_body_size": "200m", "buffering": True, "http2": True,
}
READ_TIMEOUT_DEFAULTS = {"http": "5s", "tcp": "600s", "udp": "10s"}
UPSTREAM_FIELD_PAIRS = {
    "weight": int_pair(1, 1000),
    "backup": BOOL,
    "down": BOOL,
    "max_fails": int_pair(0, 1000),
    "fail_timeout": time_pair(1000, 3600000, whole_seconds=True),
}
UPSTREAM_DEFAULTS = {"weight": 1, "backup": False, "down": False, "max_fails": None, "fail_timeout": None}
RULE_ORDER = ("name", "protocol", "server_name", "server_port", "ipv6", "method", "upstreams", "connect_timeout",
              "read_timeout", "max_fails", "fail_timeout", "next_upstream_tries", "next_upstream_timeout",
              "retry_non_idempotent", "keepalive", "websocket", "websocket_timeout", "client_max_body_size", "buffering",
              "tls", "http2", "redirect_http", "allow_from", "rate_limit", "real_ip_from", "proxy_protocol",
              "proxy_protocol_upstream", "health_check")
UPSTREAM_ORDER = ("address", "weight", "backup", "down", "max_fails", "fail_timeout")
ABSENT = object()


def rule_order(protocol):
    """The fields of a canonical rule of ``protocol``, in order."""
    return tuple(key for key in RULE_ORDER if (protocol == "http" or key not in HTTP_ONLY)
                 and protocol in ACCESS_PROTOCOLS.get(key, HEALTH_PROTOCOLS if key == "health_check" else PROTOCOLS))


def default_of(key, protocol):
    if key == "health_check":
        return health_default(protocol)
    if key in ACCESS_DEFAULTS:
        return ACCESS_DEFAULTS[key]
    return READ_TIMEOUT_DEFAULTS[protocol] if key == "read_timeout" else RULE_DEFAULTS[key]


def optional(pairs, default):
    """A field left out, given as None (Ansible's "not set"), or given: (raw or ABSENT, canonical)."""
    return st.one_of(st.just((ABSENT, default)), st.just((None, default)), pairs)


RULE_FIELD_OPTIONAL = dict(((key, protocol), optional(pairs, default_of(key, protocol)))
                           for key, pairs in RULE_FIELD_PAIRS.items() for protocol in PROTOCOLS)
UPSTREAM_FIELD_OPTIONAL = dict((key, optional(pairs, UPSTREAM_DEFAULTS[key]))
                               for key, pairs in UPSTREAM_FIELD_PAIRS.items())
# http is the default protocol: spelled out, or left out, or None.
PROTOCOL_SPELLINGS = {"http": st.sampled_from([ABSENT, None, "http"]), "tcp": st.just("tcp"), "udp": st.just("udp")}


@st.composite
def upstream_pair(draw, address=ADDRESS):
    raw_address, canonical_address = draw(address)
    raw, canonical = {"address": raw_address}, {"address": canonical_address}
    for key in UPSTREAM_ORDER[1:]:
        value, normal = draw(UPSTREAM_FIELD_OPTIONAL[key])
        if value is not ABSENT:
            raw[key] = value
        canonical[key] = normal
    return raw, canonical


@functools.lru_cache(maxsize=None)
def upstream_lists(address, max_upstreams):
    # strategies are built once: building them inside a draw costs more than drawing from them
    return st.lists(upstream_pair(address), min_size=1, max_size=max_upstreams, unique_by=lambda p: p[1]["address"])


TLS = optional(tls_pair(), None)


@st.composite
def rule_pair(draw, address=ADDRESS, server_name=SERVER_NAME, name=NAME, max_upstreams=6, protocols=PROTOCOLS,
              tls=TLS):
    """(raw rule, canonical rule) for a rule the model must accept. http rules are drawn as often
    as tcp and udp together."""
    protocol = draw(st.sampled_from(protocols + tuple(p for p in protocols if p == "http")))
    raw, canonical = {}, {}
    raw["name"], canonical["name"] = draw(name)
    spelling = draw(PROTOCOL_SPELLINGS[protocol])
    if spelling is not ABSENT:
        raw["protocol"] = spelling
    canonical["protocol"] = protocol
    for key in HTTP_ONLY:
        if protocol != "http" and draw(st.integers(0, 3)) == 0:
            raw[key] = None  # Ansible passes unset options as None: that is not giving them
    if protocol == "http":
        raw["server_name"], canonical["server_name"] = draw(server_name)
        tls_raw, canonical["tls"] = draw(tls)
        if tls_raw is not ABSENT:
            raw["tls"] = tls_raw
    for key in RULE_FIELD_PAIRS:
        if protocol != "http" and key in HTTP_ONLY:
            continue
        value, normal = draw(RULE_FIELD_OPTIONAL[key, protocol])
        if value is not ABSENT:
            raw[key] = value
        canonical[key] = normal
    for key, applies in ACCESS_PROTOCOLS.items():
        if protocol not in applies:
            continue
        pairs = {"allow_from": CIDR_LIST, "real_ip_from": CIDR_LIST, "rate_limit": rate_limit_pair(protocol)}.get(key, BOOL)
        value, normal = draw(optional(pairs, ACCESS_DEFAULTS[key]))
        if value is not ABSENT:
            raw[key] = value
        canonical[key] = normal
    make_access_valid(protocol, raw, canonical)
    if protocol in HEALTH_PROTOCOLS:
        value, canonical["health_check"] = draw(optional(health_check_pair(protocol), health_default(protocol)))
        if value is not ABSENT:
            raw["health_check"] = value
    upstreams = draw(upstream_lists(address, max_upstreams))
    raw["upstreams"] = [dict(p[0]) for p in upstreams]
    canonical["upstreams"] = [dict(p[1]) for p in upstreams]
    make_roles_valid(raw, canonical)
    make_redirect_valid(raw, canonical)
    for upstream in canonical["upstreams"]:
        # an override equal to the rule's own value says nothing: the canonical rule has none
        for key in ("max_fails", "fail_timeout"):
            if upstream[key] == canonical[key]:
                upstream[key] = None
    return raw, dict((key, canonical[key]) for key in rule_order(protocol))


def make_roles_valid(raw, canonical):
    """At least one primary that is not down; no backups with ip_hash."""
    pairs = list(zip(raw["upstreams"], canonical["upstreams"]))
    if canonical["method"] == "ip_hash":
        for item, normal in pairs:
            item["backup"], normal["backup"] = False, False
    if not any(not n["backup"] and not n["down"] for _unused, n in pairs):
        item, normal = pairs[0]
        item["backup"] = item["down"] = normal["backup"] = normal["down"] = False


def make_access_valid(protocol, raw, canonical):
    """PROXY protocol on the listening side needs trusted proxies; a tcp rule's trusted proxies
    need PROXY protocol (its only source of the client address)."""
    if canonical.get("proxy_protocol") and not canonical.get("real_ip_from"):
        raw["proxy_protocol"] = canonical["proxy_protocol"] = False
    if protocol == "tcp" and canonical.get("real_ip_from") and not canonical.get("proxy_protocol"):
        raw["proxy_protocol"] = canonical["proxy_protocol"] = True


def make_redirect_valid(raw, canonical):
    """redirect_http needs tls, and a server_port other than 80 (the redirect's own); so does
    tls.acme (port 80 answers its challenges)."""
    if (canonical.get("tls") or {}).get("acme"):
        if canonical["server_port"] == 80:
            raw["server_port"] = canonical["server_port"] = 443
        if any("*" in name or re.match(r"\A[0-9.]+\Z", name) for name in canonical["server_name"]):
            raw["server_name"], canonical["server_name"] = "acme.local", ["acme.local"]  # exact names only
    if not canonical.get("redirect_http"):
        return
    if canonical["tls"] is None:
        raw["redirect_http"] = canonical["redirect_http"] = False
    elif canonical["server_port"] == 80:
        raw["server_port"] = canonical["server_port"] = 443


# -- hostile values -----------------------------------------------------------------------

PAYLOADS = [
    ";", "{", "}", "$", "$host", "#", "\\", "\n", "\r", "\t", " ", "'", '"', "\x00", "\x7f", "\x1b[31m",
    "\u2028", "\u0085", "\ufeff", "\u200b", "\u00a0", "\uff1b", "\uff5b", "\u212a", "\u0130", "\u00df",
    "\ud800", "..", "/", "../../etc/passwd", "http://", "https://evil.example/", "unix:", "unix:/run/x.sock",
    "%00", "%0a", "`id`", "$(id)", "${IFS}", "*", "~", "^", "|", "&", "<", ">", ",", "=", "@", ":", "[", "]",
    "; return 200 pwned;", "} server { listen 81; location / { root /; } } #", "\ninclude /etc/shadow;\n",
    " backup", " down", " weight=1000", ";proxy_pass http://evil;", "\\x3b", "\"; deny all; \"",
]
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
RANDOM_TEXT = st.text(ANY_CHARACTER, max_size=40)
LONG_TEXT = st.builds(lambda unit, count: unit * count,
                      st.sampled_from(["a", "a.", "9", "x-", ";", "\u00e9", "\n", "ab:", "1.", "[", "5s"]),
                      st.integers(60, 3000))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=6))
WRONG_TYPES = st.one_of(
    st.booleans(),
    st.floats(),
    st.integers(),
    st.binary(max_size=8),
    st.recursive(SCALARS | st.text(max_size=4),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
                 | st.tuples(inner, inner), max_leaves=6),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), min_size=1, max_size=2),
    st.lists(st.text(max_size=8), min_size=1, max_size=2),
)


def spliced(valid_raw):
    """A valid value with a payload spliced in somewhere (or stuck to either end)."""
    def splice(parts):
        text, payload, position = parts
        text = str(text)
        position %= len(text) + 1
        return text[:position] + payload + text[position:]
    return st.tuples(valid_raw, st.one_of(st.sampled_from(PAYLOADS), RANDOM_TEXT.filter(bool)),
                     st.integers(0, 10 ** 6)).map(splice)


def hostile_text(valid_raw):
    return st.one_of(spliced(valid_raw), RANDOM_TEXT, LONG_TEXT, WRONG_TYPES)


INT_WORDS = st.sampled_from(["--5", "+5", "-", "", " ", "0x10", "1e3", "5.0", "5.5", "\u0663", "\uff15", "1_000",
                             "0b1", "80; include x", "80 ", "nan", "inf", "-0", "00000000000000000000001",
                             "99999999999999999999999", "\u00b2"])


def hostile_int(minimum, maximum):
    edges = [minimum - 1, maximum + 1, -1, 0, 2 ** 31, 2 ** 63, -2 ** 63 - 1]
    return st.one_of(
        st.integers(),
        st.sampled_from(edges),
        st.integers(0, 6000).map(lambda k: 10 ** k),
        st.integers(0, 6000).map(lambda k: -(10 ** k)),
        st.floats(),
        st.booleans(),
        INT_WORDS,
        st.integers(minimum - 5, maximum + 5).map(lambda n: "%d" % n),
        spliced(st.integers(minimum, maximum).map(str)),
        RANDOM_TEXT,
        WRONG_TYPES,
    )


SIZE_WORDS = st.sampled_from(["200mb", "200 m", "1t", "-1", "1.5m", "200m;", "0x10", "m", "", "1e6", "\uff11m",
                              "2000g", "99999999999999", "200m 1", "$size", "1K\n", "unlimited", "off"])
TIME_WORDS = st.sampled_from(["5s;", "5 s", "5S", "-5s", "5d", "5y", "1.2345", "9999999999s", "0", "0s", "0ms",
                              "5s\n", "$var", "5s 10s", "1h30m", ".5", "5.", "1e3", "\uff15s", "5\u00a0s", ""])
BOOL_WORDS = st.sampled_from(["yes;", "tru", "enabled", "2", "-1", "", " yes", "oui", "\u0131", "1.0", "none"])
PROTOCOL_WORDS = st.sampled_from(["TCP", "Http", "tcp;", "udp ", " udp", "http2", "https", "quic", "stream", "tcp udp",
                                  "tcp\n", "ssl", "", "tls", "h2c", "ws"])
METHOD_WORDS = st.sampled_from(["ROUND_ROBIN", "random", "hash $remote_addr", "least_conn;", "ip_hash\n",
                                " least_conn", "least-conn", "round_robin backup", ""])


def hostile_time():
    return st.one_of(TIME_WORDS, spliced(st.sampled_from(["5s", "500ms", "1m", "1.5"])), hostile_int(0, 10),
                     RANDOM_TEXT, LONG_TEXT, WRONG_TYPES)


HOSTILE_CIDRS = st.one_of(
    hostile_text(CIDR.map(lambda p: p[0])),
    st.sampled_from(["10.1.1.7/24", "10.0.0.0/33", "::1/129", "10.0.0.0/-1", "10.0.0.0/", "/8", "0x0a000000/8",
                     "010.000.000.000/8", "10.0.0.0/8 ", "10.0.0.0/08", "fe80::1%eth0", "all", "unix:", "10.0.0.0/8;",
                     "10.0.0.0/8\r\nX-Forwarded-For: 1.2.3.4", "::ffff:10.0.0.0/200", "1.2.3", "[::1]", "[::1]/128"]))
HOSTILE_FIELDS = {
    "name": st.one_of(hostile_text(NAME.map(lambda p: p[0])),
                      st.sampled_from(["../etc", "..", ".", "a/b", "a.conf", "web.conf", "-x", "_x", "x" * 65,
                                       "web\x00", "con", "a b"])),
    "server_name": st.one_of(
        hostile_text(SERVER_NAME_ITEM.map(lambda p: p[0])),
        st.lists(hostile_text(SERVER_NAME_ITEM.map(lambda p: p[0])), min_size=1, max_size=3),
        st.sampled_from([[], ["a.com", "A.COM"], "*", "*.*", "~^(.*)$", "_", "", ".example.com", "example.com.",
                         "a..b", "-a.com", "a-.com", "1.2.3", "1.2.3.4.5", "[::1]", "::1", "a.com:80",
                         "xn--", "a_b.com", "*.1.2.3.4"])),
    "server_port": hostile_int(1, 65535),
    "method": st.one_of(METHOD_WORDS, hostile_text(st.sampled_from(["round_robin", "ip_hash"]))),
    "connect_timeout": hostile_time(),
    "read_timeout": hostile_time(),
    "max_fails": hostile_int(0, 1000),
    "fail_timeout": st.one_of(hostile_time(), st.sampled_from(["1500ms", "0.5", "999ms", "1.001"])),
    "next_upstream_tries": hostile_int(0, 100),
    "retry_non_idempotent": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "keepalive": hostile_int(0, 1024),
    "protocol": st.one_of(PROTOCOL_WORDS, hostile_text(st.sampled_from(["http", "tcp", "udp"]))),
    "redirect_http": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "next_upstream_timeout": hostile_time(),
    "ipv6": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "websocket": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "websocket_timeout": st.one_of(hostile_time(), st.sampled_from(["25h", "86401s", "2d", "0"])),
    "client_max_body_size": st.one_of(SIZE_WORDS, spliced(st.sampled_from(["200m", "0", "1g", "512k"])),
                                      hostile_int(0, 10 ** 12), RANDOM_TEXT, LONG_TEXT, WRONG_TYPES),
    "buffering": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "http2": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "allow_from": st.one_of(HOSTILE_CIDRS, st.lists(HOSTILE_CIDRS, min_size=1, max_size=3)),
    "real_ip_from": st.one_of(HOSTILE_CIDRS, st.lists(HOSTILE_CIDRS, min_size=1, max_size=3)),
    "proxy_protocol": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "rate_limit": st.one_of(
        WRONG_TYPES, RANDOM_TEXT,
        st.fixed_dictionaries({}, optional={"requests_per_second": hostile_int(1, 100000), "burst": hostile_int(0, 100000),
                                            "connections": hostile_int(1, 65535)}),
        st.sampled_from([{}, {"burst": 5}, {"requests_per_second": 10, "connections": 2}, {"requests_per_second": "10r/s"},
                         {"rate": 10}, {"requests_per_second": 10, "zone": "x; deny all"}])),
}
HOSTILE_HEALTH_OPTIONS = {
    "enabled": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "type": st.one_of(PROTOCOL_WORDS, hostile_text(st.sampled_from(["http", "tcp"])), st.sampled_from(["udp", "HTTP"])),
    # the path goes into the probe's request line, the host into its Host header
    "path": st.one_of(hostile_text(HEALTH_PATH), st.sampled_from(
        ["", "health", "/a b", "/a\r\nX-Injected: 1", "/%zz", "/%", "/#frag", "http://evil/", "//", "/\u00e9", "/" * 1030,
         "/a\x00"])),
    "host": st.one_of(hostile_text(HOST_HEADER.map(lambda p: p[0])), st.sampled_from(
        ["", "*.example.com", "a.com:0", "a.com:65536", "[::1", "::1", "a.com\r\nX: 1", "a b", "a.com:80:80",
         "user@a.com", "a.com/x", "[fe80::1%eth0]"])),
    "status": st.one_of(hostile_text(st.sampled_from(["200", "200-399"])), hostile_int(100, 599), st.sampled_from(
        [[], "99", "600", "399-200", "2xx", "200-", "-200", "200,300", ["200", "200"], ["200", "x"], 10 ** 5000,
         "200 OK", "200\n"]), st.lists(WRONG_TYPES, min_size=1, max_size=2)),
    "interval": st.one_of(hostile_time(), st.sampled_from(["99ms", "2h", "0"])),
    "timeout": st.one_of(hostile_time(), st.sampled_from(["99ms", "61s", "0"])),
    "fails": hostile_int(1, 100),
    "passes": hostile_int(1, 100),
}
HOSTILE_FIELDS["health_check"] = st.one_of(
    WRONG_TYPES, RANDOM_TEXT,
    st.fixed_dictionaries({}, optional=HOSTILE_HEALTH_OPTIONS),
    st.sampled_from([{"type": "tcp", "path": "/health"}, {"type": "tcp", "status": [200]}, {"interval": "1s", "x": 1},
                     {"port": 8080}, {"enabled": True, "command": "curl x"}]))
HOSTILE_TLS_FIELDS = hostile_tls_values(hostile_text, spliced, RANDOM_TEXT, LONG_TEXT, WRONG_TYPES)
HOSTILE_FIELDS["tls"] = hostile_tls(HOSTILE_TLS_FIELDS, WRONG_TYPES, RANDOM_TEXT)
HOSTILE_UPSTREAM_FIELDS = {
    "address": st.one_of(
        hostile_text(ADDRESS.map(lambda p: p[0])),
        st.sampled_from(["http://10.0.0.1", "https://a.com:443", "10.0.0.1/x", "unix:/run/app.sock", "unix",
                         "UNIX:80", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:-1", "10.0.0.1:http", "a.com:",
                         "[::1", "[::1]x", "[fe80::1%eth0]", "fe80::1%eth0", "[::1]:0", "10.0.0.1 backup",
                         "10.0.0.1:80 weight=100", "a.com:80:80", "999.0.0.1", "localhost:008080", "$host:80"])),
    "weight": hostile_int(1, 1000),
    "backup": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "down": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "max_fails": hostile_int(0, 1000),
    "fail_timeout": hostile_time(),
}
HOSTILE_KEYS = st.one_of(st.text(max_size=12), st.integers(), st.none(), st.booleans(),
                         st.sampled_from(["root", "include", "proxy_pass", "Name", "upstream", "server_names"]))
HOSTILE_UPSTREAMS = st.one_of(
    WRONG_TYPES, RANDOM_TEXT, st.just([]), st.lists(WRONG_TYPES | RANDOM_TEXT, min_size=1, max_size=3),
    st.integers(129, 200).map(lambda n: [{"address": "10.0.%d.%d" % divmod(i, 256)} for i in range(n)]),
)


# -- a reference reading of values the model accepted -------------------------------------------

REFERENCE_TIME = re.compile(r"\A([0-9]{1,9})(ms|s|m|h)?\Z")
REFERENCE_DECIMAL = re.compile(r"\A([0-9]{1,9})\.([0-9]{1,3})\Z")
UNIT_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, None: 1000}


def reference_int(raw):
    assert not isinstance(raw, bool), raw
    if isinstance(raw, float):
        assert raw.is_integer(), raw
        return int(raw)
    if isinstance(raw, str):
        text = raw.strip()
        assert re.match(r"\A-?[0-9]{1,19}\Z", text), raw
        return int(text)
    assert isinstance(raw, int), raw
    return raw


def reference_bool(raw):
    if isinstance(raw, bool):
        return raw
    assert isinstance(raw, (str, int)) and not isinstance(raw, float), raw
    word = raw.lower() if isinstance(raw, str) else str(raw)
    assert word in TRUE_WORDS + FALSE_WORDS, raw
    return word in TRUE_WORDS


def reference_time(raw):
    assert not isinstance(raw, bool), raw
    text = repr(raw) if isinstance(raw, float) else str(raw) if isinstance(raw, int) else raw
    assert isinstance(text, str), raw
    text = text.strip()
    unit, decimal = REFERENCE_TIME.match(text), REFERENCE_DECIMAL.match(text)
    assert unit or decimal, raw
    if unit:
        return canonical_time(int(unit.group(1)) * UNIT_MS[unit.group(2)])
    return canonical_time(int(decimal.group(1)) * 1000 + int(decimal.group(2).ljust(3, "0")))


def reference_server_names(raw):
    items = [raw] if isinstance(raw, str) else raw
    assert isinstance(items, (list, tuple)), raw
    for item in items:
        assert isinstance(item, str) and item.isascii(), "accepted a non-ASCII server name %r" % (item,)
    return [item.lower() for item in items]


def reference_address(raw):
    assert isinstance(raw, str) and raw.isascii(), "accepted a non-ASCII address %r" % (raw,)
    text = raw.lower()
    bracketed = re.match(r"\A\[([0-9a-f:.]+)\](?::([0-9]{1,5}))?\Z", text)
    if bracketed:
        return "[%s]:%d" % (ipaddress.IPv6Address(bracketed.group(1)).compressed, int(bracketed.group(2) or 80))
    if text.count(":") >= 2:
        return "[%s]:80" % ipaddress.IPv6Address(text).compressed
    host, _unused, port = text.partition(":")
    assert set(host) <= set(string.ascii_lowercase + string.digits + ".-"), raw
    return "%s:%d" % (host, int(port) if port else 80)


REFERENCE_SIZE = re.compile(r"\A([0-9]{1,12})([kmg]?)\Z")


def reference_size(raw):
    assert not isinstance(raw, bool), raw
    text = str(raw) if isinstance(raw, int) else raw
    assert isinstance(text, str), raw
    match = REFERENCE_SIZE.match(text.strip().lower())
    assert match, raw
    size = int(match.group(1)) * SIZE_FACTORS[match.group(2)]
    assert size <= 1 << 40, raw
    return canonical_size(size)


def reference_cidrs(raw):
    """A list (or one) of networks: compressed, host bits clear, single hosts without a prefix."""
    items = [raw] if isinstance(raw, str) else raw
    assert isinstance(items, (list, tuple)) and items, raw
    result = []
    for item in items:
        assert isinstance(item, str) and re.match(r"\A[0-9A-Fa-f.:]+(/[0-9]{1,3})?\Z", item), "accepted %r" % (item,)
        network = ipaddress.ip_network(item, strict=True)
        single = network.prefixlen == network.max_prefixlen
        result.append(network.network_address.compressed if single else network.compressed)
    assert len(set(result)) == len(result), raw
    return result


def reference_rate_limit(raw):
    assert isinstance(raw, dict), raw
    if raw.get("connections") is not None:
        return {"connections": reference_int(raw["connections"])}
    return {"requests_per_second": reference_int(raw["requests_per_second"]),
            "burst": 0 if raw.get("burst") is None else reference_int(raw["burst"])}


def reference_host_header(raw):
    assert isinstance(raw, str) and raw.isascii(), raw
    text = raw.lower()
    bracketed = re.match(r"\A\[([0-9a-f:.]+)\](?::([0-9]{1,5}))?\Z", text)
    if bracketed:
        host = "[%s]" % ipaddress.IPv6Address(bracketed.group(1)).compressed
        return host + (":%d" % int(bracketed.group(2)) if bracketed.group(2) else "")
    host, sep, port = text.partition(":")
    assert set(host) <= set(string.ascii_lowercase + string.digits + ".-") and "*" not in host, raw
    return host + (":%d" % int(port) if sep else "")


def reference_status(raw):
    items = [raw] if isinstance(raw, (str, int)) and not isinstance(raw, bool) else raw
    result = []
    for item in items:
        low, _sep, high = str(item).strip().partition("-")
        low, high = int(low), int(high or low)
        assert 100 <= low <= high <= 599, raw
        result.append("%d" % low if low == high else "%d-%d" % (low, high))
    assert len(set(result)) == len(result), raw
    return result


HEALTH_REFERENCE = {"enabled": reference_bool, "type": lambda raw: raw, "path": lambda raw: raw,
                    "host": reference_host_header, "status": reference_status, "interval": reference_time,
                    "timeout": reference_time, "fails": reference_int, "passes": reference_int}


def reference_health_check(raw, protocol):
    """The canonical health_check of an accepted raw one, for a rule of ``protocol``."""
    assert isinstance(raw, dict), raw
    kind = raw.get("type") or protocol
    assert kind in ("http", "tcp") and (kind == "tcp" or protocol == "http"), raw
    expected = health_default("http" if kind == "http" else "tcp")
    expected["type"] = kind
    for key, read in HEALTH_REFERENCE.items():
        if raw.get(key) is not None and key != "type":
            assert kind == "http" or key not in HEALTH_HTTP_ONLY, raw
            expected[key] = read(raw[key])
    return expected


REFERENCE = {
    "allow_from": reference_cidrs,
    "real_ip_from": reference_cidrs,
    "rate_limit": reference_rate_limit,
    "proxy_protocol": reference_bool,
    "proxy_protocol_upstream": reference_bool,
    "name": lambda raw: raw,
    "protocol": lambda raw: raw,
    "tls": reference_tls,
    "redirect_http": reference_bool,
    "server_name": reference_server_names,
    "server_port": reference_int,
    "method": lambda raw: raw,
    "connect_timeout": reference_time,
    "read_timeout": reference_time,
    "max_fails": reference_int,
    "fail_timeout": reference_time,
    "next_upstream_tries": reference_int,
    "next_upstream_timeout": reference_time,
    "retry_non_idempotent": reference_bool,
    "ipv6": reference_bool,
    "websocket": reference_bool,
    "websocket_timeout": reference_time,
    "client_max_body_size": reference_size,
    "buffering": reference_bool,
    "http2": reference_bool,
    "keepalive": reference_int,
    "address": reference_address,
    "weight": reference_int,
    "backup": reference_bool,
    "down": reference_bool,
}
