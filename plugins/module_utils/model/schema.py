# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one schema of a load-balancing rule: every field's type, grammar, defaults, choices and
documentation, written once, nested fields (``upstreams[]``, ``tls``, ``rate_limit``) included.

Everything else is derived from it:
- the rule model: ``options.py`` reads raw input through these fields (grammars, defaults per
  protocol, which fields apply to which protocol, fields that must be given, the forms of ``tls``,
  the upstreams' distinct addresses) and merges edits; ``rule.py`` adds the checks across fields;
- the modules' argument specs (``rule_argument_spec``, ``config_argument_spec``);
- the modules' documentation, generated into ``plugins/modules/lb_rule.py`` and ``lb_rules.py``
  (``option_docs``), and the role's argument specs (``roles/load_balancer/meta/argument_specs.yml``),
  both written by ``scripts/generate-schema-files.sh``; a unit test fails when a committed copy is stale.

Adding a rule option means: a ``Field`` here, its rendering in ``nginx/render.py``, the generator
run, and tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    TLS_PROTOCOLS, FieldError, format_status_range, parse_address, parse_bool, parse_choice, parse_cidr_list,
    parse_host_header, parse_http_path, parse_int, parse_name, parse_path, parse_pem, parse_server_names, parse_sha256,
    parse_size, parse_status_ranges, parse_time, parse_tls_protocols, show)

PROTOCOLS = ("http", "tcp", "udp")
RULE_DEFAULT_PROTOCOL = "http"
HTTP = ("http",)
TCP = ("tcp",)
HTTP_TCP = ("http", "tcp")
METHODS = ("round_robin", "least_conn", "ip_hash")
MAX_UPSTREAMS = 128
MAX_BODY_SIZE = 1 << 40  # 1024g: far beyond any upload, well within nginx's off_t
# Without backups a request is tried on up to 3 upstreams; with backups it may take 3 tries' time.
DEFAULT_TRIES = 3
# Where the role keeps ACME account, keys, certificates and challenge files unless told otherwise.
DEFAULT_ACME_DIR = "/var/lib/antman/acme"
MAX_HSTS = 2 * 63072000  # four years: beyond any recommendation, within nginx's time
NO_DEFAULT = object()


class Field:
    """One option of a rule (or of an upstream, of ``tls``, of ``rate_limit``).

    ``parse`` turns a raw value into the canonical one or raises FieldError (a field with
    ``options`` is read option by option instead: a mapping, or with ``type="list"`` a list of
    them). ``default`` applies to every protocol; ``protocol_defaults`` ({protocol: value}) when the
    default depends on it. ``protocols`` are the protocols the field applies to: giving it for
    another is an error. ``description`` is a list of paragraphs in Ansible's documentation markup.

    ``required``: always given, by Ansible's argument spec too (what identifies a rule or an
    upstream). ``needed``: given whenever the parent is (a rule of a protocol it applies to,
    ``rate_limit``), but not by the argument spec, since a task that edits a rule may leave it out;
    a text says why (``missing, <needed>``). ``expected``: what a value of the wrong type should
    have been (a mapping, a list of mappings; ``item_expected`` for one item of such a list).
    ``max_items``: the longest list; ``unique``: the option that must differ between two items (by
    its canonical value). ``forms``: the ways a mapping may be given (``Form``): exactly one.
    ``kind_option``: the option of a mapping whose value, not the rule's protocol, decides which of
    its options apply and their defaults (``health_check``'s ``type``; the rule's protocol when not given)."""

    def __init__(self, name, type, description, parse=None, default=NO_DEFAULT, protocol_defaults=None,
                 protocols=PROTOCOLS, choices=None, elements=None, options=None, required=False, no_log=None,
                 quiet_default=False, needed=False, expected=None, item_expected=None, max_items=None, unique=None,
                 forms=(), kind_option=None):
        self.name = name
        self.type = type
        self.description = list(description)
        self.parse = parse
        self.default = default
        self.protocol_defaults = protocol_defaults or {}
        self.protocols = protocols
        self.choices = choices
        self.elements = elements
        self.options = options
        self.required = required
        self.no_log = no_log
        # A field added after rule files were first written: at its default it is left out of the
        # file's JSON header, so every rule written before stays byte-identical (no rewrite, no
        # reload on upgrade); the reader fills the default back in.
        self.quiet_default = quiet_default
        self.needed = needed
        self.expected = expected or ("a list" if type == "list" else "a mapping")
        self.item_expected = item_expected or "a mapping"
        self.max_items = max_items
        self.unique = unique
        self.forms = forms
        self.kind_option = kind_option

    @property
    def has_default(self):
        return self.default is not NO_DEFAULT

    def default_for(self, protocol):
        """The default of this field for a rule of ``protocol`` (KeyError if it has none)."""
        if self.has_default:
            return self.default
        return self.protocol_defaults[protocol]

    def has_default_for(self, protocol):
        return self.has_default or protocol in self.protocol_defaults

    def applies_to(self, protocol):
        return protocol in self.protocols


class Form:
    """One way of giving a mapping field (``tls``): ``fields`` all given, ``optional`` ones may be
    (their defaults apply), and nothing of another form. ``selector``: a boolean field whose
    V(true) is the form (``acme``; V(false) counts as not given). ``text`` names the form in the
    error listing the forms (a form without one is accepted but not advertised)."""

    def __init__(self, fields, optional=(), selector=None, text=None):
        self.fields = tuple(fields)
        self.optional = tuple(optional)
        self.selector = selector
        self.text = text

    @property
    def keys(self):
        return self.fields + self.optional


# --- upstreams[] ---------------------------------------------------------------------------------

UPSTREAM_FIELDS = (
    Field("address", "str", required=True, parse=parse_address, description=[
        "V(host), V(host:port), V(10.1.1.102:80), V([2001:db8::5]:8080). Without a port, port 80.",
        "Host names must resolve when nginx loads the configuration, or the change is refused and rolled back.",
        "Two upstreams of one rule cannot have the same address.",
    ]),
    Field("weight", "int", default=1, parse=lambda v: parse_int(v, 1, 1000), description=[
        "Relative share of requests (1-1000). Weights 3, 1, 1 send 3 of every 5 requests to the first.",
    ]),
    Field("backup", "bool", default=False, parse=parse_bool, description=[
        "Used only when all the other (non-backup) upstreams are down or failed.",
    ]),
    Field("down", "bool", default=False, parse=parse_bool, description=[
        "Kept in the rule but taken out of rotation (maintenance).",
    ]),
    Field("max_fails", "int", default=None, parse=lambda v: parse_int(v, 0, 1000), description=[
        "Overrides the rule's O(max_fails) for this upstream.",
    ]),
    Field("fail_timeout", "str", default=None, parse=lambda v: parse_time(v, 1000, 3600000, whole_seconds=True),
          description=["Overrides the rule's O(fail_timeout) for this upstream."]),
)

# --- tls -----------------------------------------------------------------------------------------

TLS_FIELDS = (
    Field("certificate", "str", parse=parse_path, description=[
        "Absolute path of the certificate (chain) in PEM on the host."]),
    Field("key", "str", parse=parse_path, no_log=False, description=[
        "Absolute path of the private key in PEM on the host."]),
    Field("certificate_content", "str", parse=lambda v: parse_pem(v, "certificate"), description=[
        "The certificate (chain) in PEM."]),
    Field("key_content", "str", parse=lambda v: parse_pem(v, "key"), no_log=True, description=[
        "The unencrypted private key in PEM."]),
    Field("certificate_sha256", "str", parse=parse_sha256, description=[
        "Digest of certificate content the collection wrote earlier, as rules are read back. Given instead of "
        "content, the files already on the host are kept (a gathered rule set restores as it was)."]),
    Field("key_sha256", "str", parse=parse_sha256, no_log=False, description=[
        "Digest of key content the collection wrote earlier (see O(tls.certificate_sha256))."]),
    Field("acme", "bool", parse=parse_bool, description=[
        "V(true): the certificate comes from an ACME CA (Let's Encrypt), obtained and renewed by the role "
        "(see the role's C(antman_lb_acme_*) variables) through HTTP-01 challenges, which this rule answers on "
        "port 80 for exactly its O(server_name) names (C(/.well-known/acme-challenge/), from "
        "C(<acme_dir>/challenge)); other requests there get 404, or the redirect of O(redirect_http).",
        "nginx serves C(<acme_dir>/certs/<name>.pem) with the key C(<acme_dir>/private/<name>.key); until the CA "
        "has issued the certificate, the role puts a self-signed placeholder there.",
        "Given instead of the certificate and key fields."]),
    Field("acme_dir", "str", parse=parse_path, default=DEFAULT_ACME_DIR, description=[
        "With O(tls.acme), the directory of the ACME files (the role sets it from C(antman_lb_acme_dir))."]),
    Field("protocols", "list", elements="str", choices=list(TLS_PROTOCOLS), parse=parse_tls_protocols,
          default=list(TLS_PROTOCOLS), description=[
        "TLS versions accepted.",
        "Ciphers and key exchange groups follow Mozilla's \"intermediate\" profile (forward-secret AEAD suites only, "
        "groups X25519, prime256v1, secp384r1); they are not configurable."]),
    Field("hsts", "int", parse=lambda v: parse_int(v, 0, MAX_HSTS), description=[
        "Send C(Strict-Transport-Security: max-age=<hsts>) on every response of this rule (browsers then use "
        "https only for its names for that many seconds). 0 tells browsers to forget it. Not sent when not given.",
        "Mozilla recommends V(63072000) (two years) once https works for every name of the rule."]),
)
# The ways of giving a certificate: exactly one. protocols and hsts go with any of them.
TLS_FORMS = (
    Form(("certificate", "key"), text="certificate and key (paths on the host)"),
    Form(("certificate_content", "key_content"), text="certificate_content and key_content"),
    Form(("certificate_sha256", "key_sha256")),  # content as rules are read back: not offered in errors
    Form(("acme",), optional=("acme_dir",), selector="acme", text="acme: true"),
)

# --- rate_limit ----------------------------------------------------------------------------------

MAX_RATE = 100000
MAX_CONNECTIONS = 65535  # nginx's limit_conn limit
RATE_LIMIT_FIELDS = (
    Field("requests_per_second", "int", parse=lambda v: parse_int(v, 1, MAX_RATE), protocols=HTTP, needed=True,
          description=["Requests per second each client address may make (1-%d), on average. Required in an http "
                       "rule's O(rate_limit)." % MAX_RATE]),
    Field("burst", "int", parse=lambda v: parse_int(v, 0, MAX_RATE), default=0, protocols=HTTP, description=[
        "Requests beyond the rate a client may make at once, served without delay; the next ones get C(429).",
    ]),
    Field("connections", "int", parse=lambda v: parse_int(v, 1, MAX_CONNECTIONS), protocols=TCP, needed=True,
          description=["Connections each client address may have open at once (1-%d); more are closed. Required "
                       "in a tcp rule's O(rate_limit)." % MAX_CONNECTIONS]),
)

# --- health_check --------------------------------------------------------------------------------

HEALTH_CHECK_TYPES = ("http", "tcp")
MAX_HEALTH_FAILS = 100


def parse_statuses(value):
    """Accepted statuses, canonical: a list of ``"200"`` / ``"200-499"`` texts, order kept, none twice."""
    texts = [format_status_range(low, high) for low, high in parse_status_ranges(value)]
    for index, text in enumerate(texts):
        if text in texts[:index]:
            raise FieldError("[%d]: %s is listed twice (as %s)" % (index, show(value[index]), text))
    return texts


# The options of one type of check only (protocols=HTTP: type http) are read by the check's
# O(type), not by the rule's protocol (Field.kind_option); their defaults are the docs' defaults.
HEALTH_CHECK_FIELDS = (
    Field("enabled", "bool", parse=parse_bool, default=True, description=[
        "V(false) - the agent does not probe this rule's upstreams (passive checks only).",
    ]),
    Field("type", "str", choices=list(HEALTH_CHECK_TYPES), parse=lambda v: parse_choice(v, HEALTH_CHECK_TYPES),
          protocol_defaults={"http": "http", "tcp": "tcp"}, description=[
        "V(http) - a GET of O(health_check.path) (on the connection of the last probe that passed when its answer "
        "allowed HTTP/1.1 keep-alive, a new one at least every 10 probes and after any failure); it passes when the answer's status is one of "
        "O(health_check.status) within O(health_check.timeout). V(tcp) - a TCP connect within O(health_check.timeout).",
        "A tcp rule has no HTTP to send: V(http) is refused there.",
    ]),
    Field("path", "str", parse=parse_http_path, protocols=HTTP, default="/", description=[
        "The path (and query) requested, such as V(/health).",
    ]),
    Field("host", "str", parse=parse_host_header, protocols=HTTP, default=None, description=[
        "The C(Host) header sent, a host name or address with an optional port. Not given, the rule's "
        "first O(server_name); when that is a wildcard (V(*.example.com)), the upstream's address (host:port), "
        "with a warning.",
    ]),
    Field("status", "list", elements="str", parse=parse_statuses, protocols=HTTP, default=["200-499"], description=[
        "The statuses that pass, each a status (V(200)) or a range (V(200-399)). The default, V(200-499): "
        "any answer but a server error means the application answered; give V(200) (or V(200-399)) when the path "
        "is a health endpoint that says so.",
    ]),
    Field("interval", "str", parse=lambda v: parse_time(v, 100, 3600000), default="1s", description=[
        "Time between two probes of an upstream (nginx time, V(100ms) to V(1h)). An upstream in doubt is probed "
        "sooner: half an interval after a failed probe, and as soon as the probe under way has not answered within "
        "four times the upstream's usual answer time (at least 100ms, at most half an interval), so a hung "
        "application is judged about one timeout after its first unanswered probe began, plus that doubt for each "
        "further failure needed.",
    ]),
    Field("timeout", "str", parse=lambda v: parse_time(v, 100, 60000), default="1s", description=[
        "How long one probe may take, connecting and (V(http)) until the status line (V(100ms) to V(60s)). A probe "
        "that takes longer fails.",
    ]),
    Field("fails", "int", parse=lambda v: parse_int(v, 1, MAX_HEALTH_FAILS), default=2, description=[
        "Failed probes in a row (1-%d) after which an upstream leaves this rule's rotation." % MAX_HEALTH_FAILS,
    ]),
    Field("passes", "int", parse=lambda v: parse_int(v, 1, MAX_HEALTH_FAILS), default=2, no_log=False, description=[
        "Passed probes in a row (1-%d) after which an upstream out of rotation returns. An upstream that keeps "
        "failing and returning (flapping) must pass for longer each time." % MAX_HEALTH_FAILS,
    ]),
)


def defaults_of(fields, protocol):
    """{option: default} of every one of ``fields`` that applies to ``protocol`` and has a default for it."""
    return OrderedDict((f.name, copy.deepcopy(f.default_for(protocol))) for f in fields
                       if f.applies_to(protocol) and f.has_default_for(protocol))


# --- the rule ------------------------------------------------------------------------------------

# Defaults chosen for failover (see the README's "Failover defaults"): a crashed upstream is
# skipped at once (connection refused -> next upstream), a hung one after read_timeout, and a
# dropped-SYN one after connect_timeout; each is then avoided for fail_timeout.
RULE_FIELDS = (
    Field("name", "str", required=True, parse=parse_name, description=[
        "The rule's identifier. It names the rule's file (C(<name>.conf)) and its nginx upstream (C(antman_<name>)).",
        "1 to 64 letters, digits, C(-) or C(_), starting with a letter or digit. Names that differ only "
        "in case are the same name to nginx and are refused.",
    ]),
    Field(
        "protocol", "str", default=RULE_DEFAULT_PROTOCOL, choices=list(PROTOCOLS), parse=lambda v: parse_choice(v, PROTOCOLS),
        description=[
            "V(http) balances HTTP requests (nginx's http context), with server names, TLS and per-request retries.",
            "V(tcp) and V(udp) balance connections and datagrams (nginx's stream context); the port identifies "
            "the rule, and the http-only fields (O(server_name), O(keepalive), O(retry_non_idempotent), O(tls), "
            "O(redirect_http)) do not apply (giving them is an error). Weights, backup, down and the failover "
            "settings work the same way; a hung TCP upstream that accepts connections cannot be detected (there is "
            "no request to time out), a crashed or unreachable one is skipped. nginx's stream module must be loaded "
            "and C(include <rules_dir>/*.stream;) be in its C(stream) context (the "
            "P(antsle.antman.load_balancer#role) role does both).",
        ],
    ),
    Field("server_name", "list", elements="str", protocols=HTTP, parse=parse_server_names, needed=True, description=[
        "The host name(s) users visit, as nginx C(server_name) values. Host names (V(my-balanced-page.local), "
        "V(example.com)), leading or trailing wildcards (V(*.example.com), V(www.example.*)) or IPv4 addresses.",
        "Case-insensitive; stored lowercase, in the order given. Required when an http rule is present.",
        "A server name may be used by one rule per O(server_port) only.",
    ]),
    Field("server_port", "int", default=80, parse=lambda v: parse_int(v, 1, 65535), description=[
        "The port nginx listens on for this rule (1-65535).",
    ]),
    Field("ipv6", "bool", default=True, parse=parse_bool, description=[
        "Listen on IPv6 too (C([::]:<server_port>), and C([::]:80) for O(redirect_http)) when the host has IPv6; "
        "a host without it gets the IPv4 listener only, from the same rule. V(false) listens on IPv4 only.",
        "Every rule listens on IPv4 (C(<server_port>), all addresses).",
    ]),
    Field(
        "method", "str", default="round_robin", choices=list(METHODS), parse=lambda v: parse_choice(v, METHODS),
        description=[
            "How requests are spread over the upstreams.",
            "V(round_robin) is weighted round robin (nginx's smooth variant, exact with any number of workers).",
            "V(least_conn) sends each request to the upstream with the fewest active connections, weighted.",
            "V(ip_hash) keeps each client IP on one upstream (sticky); it cannot be combined with backup "
            "upstreams. For tcp and udp rules it is rendered as C(hash $remote_addr).",
        ],
    ),
    Field("upstreams", "list", elements="dict", options=UPSTREAM_FIELDS, needed="a rule needs at least one upstream",
          expected="a list of upstreams", item_expected="a mapping with an address", max_items=MAX_UPSTREAMS,
          unique="address", description=[
              "The antlets (or any servers) traffic is spread over. At least one must be neither O(upstreams[].backup) "
              "nor O(upstreams[].down). Required when the rule is present. At most %d." % MAX_UPSTREAMS,
          ]),
    Field("connect_timeout", "str", default="1s", parse=lambda v: parse_time(v, 1, 75000), description=[
        "How long nginx waits to connect to an upstream before trying the next one (nginx time, at most "
        "V(75s); a bare number is seconds). An antlet whose link is cut, or that drops connections, costs "
        "a request this long.",
        "nginx's own default is 60s, which stalls requests for a minute when an antlet disappears.",
    ]),
    Field(
        "read_timeout", "str", protocol_defaults={"http": "5s", "tcp": "600s", "udp": "10s"},
        parse=lambda v: parse_time(v, 1, 3600000),
        description=[
            "http - how long nginx waits between two reads from (or writes to) an upstream before it counts the "
            "upstream as failed and, for requests that may be retried, tries the next one. This bounds how long a "
            "request can stall on a hung antlet.",
            "Trade-off, a short value cuts legitimately slow responses (a report that takes 20 s before its first "
            "byte). Raise it per rule for such applications; it is per rule for that reason. nginx's own default "
            "is 60s, with which a hung antlet stalls a third of the requests (with three upstreams) for a minute each.",
            "tcp - the idle time after which a proxied connection is closed (nginx C(proxy_timeout)); long, as in "
            "nginx, because TCP sessions such as SSH are often idle.",
            "udp - how long a client's session waits for upstream datagrams.",
        ],
    ),
    Field("max_fails", "int", default=5, parse=lambda v: parse_int(v, 0, 1000), description=[
        "Failed attempts within O(fail_timeout) after which an upstream is considered unavailable for "
        "O(fail_timeout). V(0) disables the accounting (the upstream is never marked unavailable).",
        "Why 5 and not nginx's 1 - nginx cannot tell a hung upstream from one page that is slower than "
        "O(read_timeout): each try of such a page counts as a failure of its upstream. With the default "
        "O(next_upstream_timeout) a slow page is tried on two upstreams, one failure each, so up to four slow "
        "pages at once take no upstream out of rotation, and with three upstreams it takes eight to make the rule answer 502 "
        "(with nginx's 1, a single one does; see docs/benchmarks.md). Under load a crashed or hung upstream "
        "still collects its 5 failures within milliseconds, and the requests that failed on it are retried "
        "elsewhere. The health agent (O(health_check)) takes such an upstream out before any request times out.",
    ]),
    Field(
        "fail_timeout", "str", default="10s", parse=lambda v: parse_time(v, 1000, 3600000, whole_seconds=True),
        description=[
            "The window for O(max_fails), and how long an upstream is then avoided before one request probes it "
            "again (whole seconds, nginx time such as V(10s)).",
        ],
    ),
    Field("next_upstream_tries", "int", default=None, parse=lambda v: parse_int(v, 0, 100), description=[
        "How many upstreams a request may be tried on in total, V(0) for no limit.",
        "Not given, it is computed from the upstreams: %d, or with backups, every upstream in rotation (primaries and "
        "backups that are not O(upstreams[].down)), so that a request reaches a backup even when all the primaries "
        "fail at the same moment. A given value too small for that is applied with a warning." % DEFAULT_TRIES,
    ]),
    Field(
        "next_upstream_timeout", "str", default=None, parse=lambda v: parse_time(v, 0, 3600000),
        description=[
            "How long a request may go on being passed to the next upstream (nginx C(proxy_next_upstream_timeout)); "
            "once it has spent this long, the failure it last met is the answer. V(0) for no limit.",
            "It bounds how long a request can take when several upstreams hang, whatever the number of tries: at most "
            "this plus one try (O(connect_timeout) + O(read_timeout)).",
            "Not given, http rules use the time of one try, O(connect_timeout) + O(read_timeout) (6s with the "
            "defaults): a request that timed out is passed to one more upstream, not to all of them, so a page "
            "slower than O(read_timeout) costs two upstreams a failure (see O(max_fails)) and gets its 504 after "
            "2 x O(read_timeout); errors that come at once (a refused connection) are still passed on up to "
            "O(next_upstream_tries). A rule with backups uses three tries' worth, 3 x (O(connect_timeout) + "
            "O(read_timeout)) (18s), so that a request gets past hung primaries to a backup. tcp and udp rules have "
            "no limit (their retries only happen while connecting, each bounded by O(connect_timeout)).",
        ],
    ),
    Field(
        "retry_non_idempotent", "bool", protocols=HTTP, protocol_defaults={"http": False}, parse=parse_bool,
        description=[
            "Also retry POST, LOCK and PATCH requests on the next upstream after an error or timeout.",
            "Off by default because the failed upstream may already have acted on the request, which would then "
            "run twice. Turn it on only for applications whose non-idempotent requests are safe to repeat.",
        ],
    ),
    Field(
        "keepalive", "int", protocols=HTTP, protocol_defaults={"http": 32}, parse=lambda v: parse_int(v, 0, 1024),
        description=[
            "Idle connections to the upstreams each nginx worker keeps open for reuse. About doubles proxied "
            "throughput. V(0) turns it off (a new connection per request).",
        ],
    ),
    Field("websocket", "bool", protocols=HTTP, protocol_defaults={"http": True}, parse=parse_bool, description=[
        "Forward WebSocket (and any other HTTP/1.1 C(Upgrade)) requests to the upstreams. Requests with an "
        "C(Upgrade) header are proxied from a location of their own (C(@antman_websocket)) that forwards C(Upgrade) "
        "and C(Connection: upgrade) and gives the upgraded connection O(websocket_timeout); ordinary requests keep "
        "upstream O(keepalive) and O(read_timeout). No nginx variable or C(map) is defined, so nothing clashes with "
        "the host's own (such as C($connection_upgrade)).",
        "V(false) - C(Upgrade) is not forwarded, a WebSocket handshake gets no C(101).",
    ]),
    Field(
        "websocket_timeout", "str", protocols=HTTP, protocol_defaults={"http": "3600s"},
        parse=lambda v: parse_time(v, 1, 86400000),
        description=[
            "How long an upgraded (WebSocket) connection may stay idle, no data either way, before nginx closes it "
            "(at most V(24h)). Independent of O(read_timeout), which keeps bounding ordinary requests; an application "
            "that pings every 30 s keeps its sockets for as long as it likes.",
            "Trade-off, nginx also waits this long for the answer to the handshake itself: a hung upstream holds "
            "a handshake up to this long (a crashed one is skipped at once, a cut link costs O(connect_timeout)). "
            "Ordinary requests to the same upstream mark it failed after O(read_timeout).",
        ],
    ),
    Field(
        "client_max_body_size", "str", protocols=HTTP, protocol_defaults={"http": "200m"},
        parse=lambda v: parse_size(v, MAX_BODY_SIZE),
        description=[
            "The largest request body (upload) accepted, an nginx size (V(512k), V(200m), V(1g)); larger ones get "
            "C(413). V(0) for no limit. The default is antMan's own; nginx's is 1m.",
        ],
    ),
    Field("buffering", "bool", protocols=HTTP, protocol_defaults={"http": True}, parse=parse_bool, description=[
        "V(true) - nginx's buffering: a request body is read completely before it is sent to an upstream (a "
        "failed upstream can then be retried with it), and responses are read ahead of slow clients, which frees "
        "the upstream sooner. Streamed responses still reach clients as they are sent (C(text/event-stream), "
        "long polling), and an application can turn response buffering off per response with "
        "C(X-Accel-Buffering: no).",
        "V(false) - request and response bodies are streamed through as they come (C(proxy_request_buffering off), "
        "C(proxy_buffering off)): uploads reach the application while they are sent, nothing is written to nginx's "
        "temporary files. A request whose body was already being sent is then never retried on another upstream.",
    ]),
    Field("tls", "dict", protocols=HTTP, protocol_defaults={"http": None}, options=TLS_FIELDS, forms=TLS_FORMS,
          description=[
        "Terminate HTTPS for this rule with a certificate; upstreams are still reached over plain HTTP.",
        "Give either O(tls.certificate) and O(tls.key) (files on the host), or O(tls.certificate_content) and "
        "O(tls.key_content), which are written beside the rule's file as C(<name>.crt) and C(<name>.key) "
        "(mode 0600) in the same atomic change, or O(tls.acme=true) (a certificate the role obtains and renews). "
        "The key is never shown in results, diffs or logs; rules read back "
        "carry O(tls.certificate_sha256) and O(tls.key_sha256) instead of the content.",
        "Usually with O(server_port=443). All http rules on one port must agree on using tls.",
    ]),
    Field("http2", "bool", protocols=HTTP, protocol_defaults={"http": True}, parse=parse_bool, description=[
        "With O(tls), offer HTTP/2 (ALPN C(h2)) besides HTTP/1.1, in the syntax of the host's nginx version "
        "(C(listen ... http2) before 1.25.1, C(http2 on) from 1.25.1; read from C(nginx -v)). Upstreams are still "
        "reached over HTTP/1.1. WebSocket clients use HTTP/1.1 connections, which keep working.",
        "All tls rules on one port must agree on it (before nginx 1.25.1 it is a setting of the listening socket). "
        "Without O(tls) it has no effect (browsers speak HTTP/2 over TLS only).",
    ]),
    Field("redirect_http", "bool", protocols=HTTP, protocol_defaults={"http": False}, parse=parse_bool, description=[
        "With O(tls) only. Also answer plain HTTP on port 80 for the same server names with a "
        "301 redirect to https (to O(server_port)).",
    ]),
    # Who may reach the rule (docs/access.md). All quiet at their defaults: see Field.quiet_default.
    Field("allow_from", "list", elements="str", default=None, parse=parse_cidr_list, quiet_default=True, description=[
        "Only clients from these IPv4 or IPv6 addresses or networks (V(10.1.1.0/24), V(127.0.0.2), V(2001:db8::/32)) "
        "reach the rule; others get C(403) (http) or have their connection closed (tcp, udp). Not given, everyone.",
        "Networks must be written with their host bits clear (V(10.1.1.0/24), not V(10.1.1.7/24), which is refused "
        "naming the network). Stored canonical - single hosts without a prefix, IPv6 compressed - in the order given.",
        "The address checked is the client's as O(real_ip_from) gives it when the rule is behind a trusted proxy.",
    ]),
    Field("rate_limit", "dict", options=RATE_LIMIT_FIELDS, protocols=HTTP_TCP, default=None, quiet_default=True,
          expected="a mapping such as {requests_per_second: 10, burst: 5}", description=[
              "Per client address. http - at most O(rate_limit.requests_per_second) on average with "
              "O(rate_limit.burst) more at once; requests beyond get C(429) with C(Retry-After: 1). tcp - at most "
              "O(rate_limit.connections) open connections; further ones are closed.",
              "Each rule has a shared memory zone of its own (C(antman_<name>_req) or C(antman_<name>_conn), 1m, room "
              "for about 8000 client addresses; the least recently seen are forgotten first), written in the rule's file.",
              "WebSocket handshakes count as requests; one refused gets C(429) without C(Retry-After).",
          ]),
    Field("real_ip_from", "list", elements="str", protocols=HTTP_TCP, default=None, parse=parse_cidr_list, quiet_default=True, description=[
        "Trusted proxies (addresses or networks, as in O(allow_from)) in front of this host. A connection from one "
        "of them gets its client address from the C(X-Forwarded-For) header (http), or from the PROXY protocol "
        "header when O(proxy_protocol=true) (required for tcp). That address is what O(allow_from), O(rate_limit), "
        "V(ip_hash), C(X-Real-IP) and the access log use. From any other source the header is ignored, so a client "
        "cannot choose its address.",
        "With several trusted proxies in a row, the last address in C(X-Forwarded-For) that is not one of them is "
        "the client's.",
    ]),
    Field(
        "proxy_protocol", "bool", protocols=HTTP_TCP, protocol_defaults={"http": False, "tcp": False}, parse=parse_bool,
        quiet_default=True,
        description=[
            "The listening side speaks PROXY protocol (v1 or v2): every connection to O(server_port) must start "
            "with a PROXY header (as a load balancer such as HAProxy or a cloud one sends it). Needs "
            "O(real_ip_from), the proxies whose header is trusted. All http rules on one port must agree on it "
            "(it is a setting of the listening socket).",
        ],
    ),
    Field(
        "proxy_protocol_upstream", "bool", protocols=TCP, protocol_defaults={"tcp": False}, parse=parse_bool,
        quiet_default=True,
        description=[
            "Send a PROXY protocol (v1) header to the upstreams at the start of each connection, so that they see "
            "the client's address. The upstreams must expect it (an application that does not reads it as data).",
        ],
    ),
    Field("health_check", "dict", options=HEALTH_CHECK_FIELDS, protocols=HTTP_TCP,
          kind_option="type", expected="a mapping such as {path: /health}",
          protocol_defaults=dict((p, defaults_of(HEALTH_CHECK_FIELDS, p)) for p in HTTP_TCP),
          quiet_default=True, description=[
              "Active health checks by the health agent (the P(antsle.antman.load_balancer#role) role's "
              "C(antman_lb_health)): it probes every upstream in rotation on its own, takes one out of this rule's rotation "
              "after O(health_check.fails) failed probes in a row and returns it after O(health_check.passes) passed ones, "
              "through the same validated reload as the modules. Held-out upstreams are rendered C(down) in the rule's "
              "file; the rule itself (what modules return and compare) is unchanged, so a playbook run keeps them out and "
              "reports no change. Upstreams declared O(upstreams[].down) are never probed.",
              "Fail open - a rule is never left with nothing to serve: when every primary fails, the backups serve; when "
              "nothing passes, every upstream stays in rotation.",
              "Checks are on by default for http and tcp rules (udp rules have none); options not given take their "
              "defaults, and rule files at the defaults do not mention it.",
          ]),
)

# Fields only the role's inventory rules have (antsle.antman.lb_expand_rules turns them into upstreams).
INVENTORY_FIELDS = (
    Field("upstream_group", "list", elements="str", description=[
        "Inventory group (or list of groups) whose hosts become upstreams, one per host, in inventory "
        "order, after the static ones.",
        "Address from the host's C(antman_lb_address) (default C(ansible_host), else the inventory "
        "host name); weight, backup and down from C(antman_lb_weight), C(antman_lb_backup), C(antman_lb_down).",
    ]),
    Field("upstream_port", "int", parse=lambda v: parse_int(v, 1, 65535), default=80, description=[
        "Port of the inventory-driven upstreams whose address has none.",
    ]),
)


def by_name(fields):
    return OrderedDict((field.name, field) for field in fields)


RULE = by_name(RULE_FIELDS)
UPSTREAM = by_name(UPSTREAM_FIELDS)
TLS = by_name(TLS_FIELDS)
FIELD_ORDER = tuple(RULE)
HTTP_ONLY = tuple(field.name for field in RULE_FIELDS if field.protocols == HTTP)
# {protocol: {field: default}} of the fields left out of a rule file's header at their default.
QUIET_DEFAULTS = dict((protocol, OrderedDict((field.name, field.default_for(protocol)) for field in RULE_FIELDS
                                             if field.quiet_default and field.applies_to(protocol)))
                      for protocol in PROTOCOLS)
# Fields a rule loses when its protocol changes: those of one protocol only, or whose default differs.
PROTOCOL_SPECIFIC = tuple(field.name for field in RULE_FIELDS if field.protocols != PROTOCOLS or field.protocol_defaults)
# Upstream options that override the rule's option of the same name (max_fails, fail_timeout).
UPSTREAM_OVERRIDES = tuple(name for name in UPSTREAM if name in RULE)


def defaults_for(protocol):
    """{field: default} of every field a rule of ``protocol`` has a default for, in canonical order."""
    return defaults_of(RULE_FIELDS, protocol)


# --- derived: argument specs -----------------------------------------------------------------------

def shown_default(field):
    """The default ``field`` shows in the documentation and Ansible's argument spec: its default, or
    the default of the protocols it applies to when they agree, else http's (the description names
    the others); None when it has none (a value computed from the rule, or nothing).

    The modules never take these from Ansible for rule fields: they read the fields a task gives
    (``modules/common.py``, ``given``), and the model applies the defaults of the rule's protocol
    when a rule is created, or keeps the current values when it is edited."""
    if field.has_default:
        return field.default
    if field.options:
        return None  # its options state their defaults
    values = [field.protocol_defaults[p] for p in PROTOCOLS if p in field.protocol_defaults]
    if values and all(value == values[0] for value in values):
        return values[0]
    return field.protocol_defaults.get(RULE_DEFAULT_PROTOCOL)


def _spec(field):
    spec = {"type": field.type}
    for key in ("elements", "choices", "no_log"):
        value = getattr(field, key)
        if value is not None:
            spec[key] = copy.copy(value)
    if field.required:
        spec["required"] = True
    if shown_default(field) is not None:
        spec["default"] = copy.copy(shown_default(field))
    if field.options:
        spec["options"] = argument_spec(field.options)
    return spec


def argument_spec(fields):
    """An Ansible argument spec for ``fields``, with the defaults the documentation shows."""
    return dict((field.name, _spec(field)) for field in fields)


def rule_argument_spec():
    """lb_rule: the rule fields as top-level options."""
    return argument_spec(RULE_FIELDS)


def config_argument_spec():
    """lb_rules: ``config``, a list of rules (with ``merged``, a field an item does not give keeps
    the rule's current value: the module reads what each item gives)."""
    return {"config": {"type": "list", "elements": "dict", "options": argument_spec(RULE_FIELDS)}}


# --- derived: documentation --------------------------------------------------------------------------

def _shown(value):
    if isinstance(value, bool):
        return str(value).lower()
    return value


def _default_note(field):
    """A sentence naming the defaults of the protocols whose default differs from the one shown; the
    defaults of a field with options are stated by its options."""
    shown = shown_default(field)
    others = [(p, field.protocol_defaults[p]) for p in PROTOCOLS
              if p in field.protocol_defaults and field.protocol_defaults[p] != shown]
    if field.options or shown is None or not others:
        return None
    return "The default shown is for %s rules; not given, %s." % (
        RULE_DEFAULT_PROTOCOL, " and ".join("a %s rule has V(%s)" % (protocol, _shown(value)) for protocol, value in others))


def _doc(field, refs, suboptions_key, kind=None):
    description = [text.replace("O(", "O(%s" % refs) if refs else text for text in field.description]
    if field.protocols != PROTOCOLS and kind:
        description[0] = "With O(%s%s=%s) only. " % (refs, kind, "|".join(field.protocols)) + description[0]
    elif field.protocols != PROTOCOLS and field.name != "server_name":
        description[0] = "%s only. " % " and ".join(field.protocols) + description[0]
    note = _default_note(field)
    if note:
        description.append(note)
    doc = OrderedDict([("description", description), ("type", field.type)])
    if field.elements:
        doc["elements"] = field.elements
    if field.choices:
        doc["choices"] = list(field.choices)
    if field.required:
        doc["required"] = True
    if shown_default(field) is not None:
        doc["default"] = copy.copy(shown_default(field))
    if field.no_log is not None and suboptions_key == "options":
        doc["no_log"] = field.no_log  # role argument specs validate with it; module docs do not carry it
    if field.options:
        kind = "%s.%s" % (field.name, field.kind_option) if field.kind_option else None
        doc[suboptions_key] = option_docs(field.options, refs, suboptions_key, kind)
    return doc


def option_docs(fields, refs="", suboptions_key="suboptions", kind=None):
    """Documentation of ``fields`` (plain data, as in a DOCUMENTATION block's ``options``).

    ``refs`` prefixes every option reference (``config[].`` in lb_rules), ``suboptions_key`` is
    ``options`` for role argument specs; ``kind`` names the option that decides which of ``fields``
    apply (``health_check.type``)."""
    return OrderedDict((field.name, _doc(field, refs, suboptions_key, kind)) for field in fields)


def role_rule_options():
    """The options of the role's ``antman_lb_rules`` items: the rule fields plus the inventory ones."""
    return option_docs(RULE_FIELDS + INVENTORY_FIELDS, refs="antman_lb_rules[].", suboptions_key="options")
