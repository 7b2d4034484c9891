"""Hand-written hostile inputs, each with the error it must produce: rule fields (``CASES``) and
the options of lb_upstream (``UPSTREAM_CASES``).

Used twice: against the model (``normalize_rule``, ``model.upstream.parse_request``) and through
the module entry (lb_rule, lb_upstream), where Ansible's argument spec converts types first
(``type: str`` turns a dict into its repr, ``type: list`` splits a string on commas, ``type: int``
converts "80", ``type: float`` converts "nan" and True). ``module_error`` is what the module must
say when that conversion changes the message; it still names the field.
"""
import json
import re

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import show

BASE = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1"}]}


class Case:
    def __init__(self, case_id, fields, error, module_error=None, upstream=None, secret=None):
        self.id = case_id
        self.fields = fields
        self.upstream = upstream  # fields merged into upstreams[0]
        self.error = error
        self.module_error = module_error or error
        self.secret = secret  # text of a private key that must show nowhere (message, module result)

    def raw(self):
        raw = dict(BASE, **self.fields)
        if self.upstream is not None:
            raw["upstreams"] = [dict(BASE["upstreams"][0], **self.upstream)] + list(raw["upstreams"][1:])
        return raw


ANSIBLE_DICT_ERROR = "dictionary requested, could not parse JSON or key=value"
ANSIBLE_KEY_VALUE_ERROR = 'unable to evaluate string in the "key=value" format as dictionary'
# Ansible's own errors that do not name the option (its argument spec fails before the module runs).
ANSIBLE_UNNAMED_ERRORS = (ANSIBLE_DICT_ERROR, ANSIBLE_KEY_VALUE_ERROR)
# PEM texts of the shape the model accepts (it checks the form; nginx -t checks the content).
CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydA==\n-----END CERTIFICATE-----\n"
SECRET = "TOPSECRETKEYMATERIAL"
KEY = "-----BEGIN PRIVATE KEY-----\n%sabc123==\n-----END PRIVATE KEY-----\n" % SECRET
PATHS = {"certificate": "/etc/ssl/web.pem", "key": "/etc/ssl/private/web.key"}
CONTENT = {"certificate_content": CERT, "key_content": KEY}


def shown(value):
    return json.dumps(value, ensure_ascii=True)


# Payloads that would add nginx directives, blocks, variables or comments if they reached the file.
INJECTIONS = [
    "web.local; return 200 pwned",
    "web.local;",
    "web.local}\nserver { listen 81; root /; }",
    "web.local\ninclude /etc/shadow;",
    "web.local #comment",
    "web.local\\",
    "$host",
    "web.local$request_uri",
    "\"web.local\"",
    "'web.local'",
    "web.local{",
    "web.local\r",
    "web.local\x00",
    "web.local\u2028",
    "web.local\t",
    "`id`",
    "$(id)",
    "web.local|id",
]

# Where a text value goes, and the start of the error each field gives for text it refuses: from
# the model, and through the module (whose argument spec makes a server_name string a list).
TEXT_FIELDS = [
    ("name", lambda v: {"name": v.replace(".", "")}, "name: %s is not a valid rule name", None),
    ("server_name", lambda v: {"server_name": v}, "server_name: %s is not a host name",
     "server_name[0]: %s is not a host name"),
    ("server_name-list", lambda v: {"server_name": ["ok.local", v]}, "server_name[1]: %s is not a host name", None),
    ("address", lambda v: {"upstreams": [{"address": v.replace("web.local", "10.0.0.1")}]},
     "upstreams[0].address: %s is not an address", None),
    ("connect_timeout", lambda v: {"connect_timeout": v.replace("web.local", "5s")},
     "connect_timeout: %s is not a time", None),
    ("read_timeout", lambda v: {"read_timeout": v.replace("web.local", "5s")}, "read_timeout: %s is not a time",
     None),
    ("fail_timeout", lambda v: {"fail_timeout": v.replace("web.local", "5s")}, "fail_timeout: %s is not a time",
     None),
    ("next_upstream_timeout", lambda v: {"next_upstream_timeout": v.replace("web.local", "5s")},
     "next_upstream_timeout: %s is not a time", None),
    ("websocket_timeout", lambda v: {"websocket_timeout": v.replace("web.local", "1h")},
     "websocket_timeout: %s is not a time", None),
    ("client_max_body_size", lambda v: {"client_max_body_size": v.replace("web.local", "200m")},
     "client_max_body_size: %s is not a size", None),
    ("upstream-fail_timeout", lambda v: {"upstreams": [{"address": "10.0.0.1", "fail_timeout": v.replace(
        "web.local", "5s")}]}, "upstreams[0].fail_timeout: %s is not a time", None),
    ("method", lambda v: {"method": v.replace("web.local", "round_robin")}, "method: %s is not one of",
     "value of method must be one of: round_robin, least_conn, ip_hash, got: %s"),
    ("protocol", lambda v: {"protocol": v.replace("web.local", "tcp")}, "protocol: %s is not one of",
     "value of protocol must be one of: http, tcp, udp, got: %s"),
    # tls paths are written into nginx's ssl_certificate / ssl_certificate_key directives (the
    # injected value last: it is the one the expected message shows)
    ("tls-certificate", lambda v: {"tls": {"key": PATHS["key"], "certificate": v.replace("web.local", "/etc/ssl/web.pem")}},
     "tls.certificate: %s is not an absolute path", None),
    ("tls-key", lambda v: {"tls": dict(PATHS, key=v.replace("web.local", "/etc/ssl/web.key"))},
     "tls.key: %s is not an absolute path", None),
    # addresses and networks become allow / set_real_ip_from arguments (the injected one last)
    ("allow_from", lambda v: {"allow_from": ["10.0.0.0/8", v.replace("web.local", "192.0.2.0/24")]},
     "allow_from[1]: %s is not an IP address or CIDR", None),
    ("real_ip_from", lambda v: {"real_ip_from": [v.replace("web.local", "192.0.2.1")]},
     "real_ip_from[0]: %s is not an IP address or CIDR", None),
]


def leaf(value):
    while isinstance(value, (list, dict)):
        value = value[-1] if isinstance(value, list) else list(value.values())[-1]
    return value


def injection_cases():
    cases = []
    for field, make, template, module_template in TEXT_FIELDS:
        for index, payload in enumerate(INJECTIONS):
            if ("timeout" in field or field == "client_max_body_size") and payload.replace("web.local", "").strip() == "":
                # whitespace around a time or size is trimmed and the canonical value rebuilt from
                # number and unit: accepted, and nothing of the input reaches nginx (see the unit tests)
                continue
            fields = make(payload)
            value = leaf(fields)
            module_error = None
            if module_template:
                module_error = module_template % (value if field in ("method", "protocol") else shown(value))
            cases.append(Case("inject-%s-%d" % (field, index), fields, template % shown(value), module_error))
    return cases


STREAM = {"protocol": "tcp", "server_name": None, "server_port": 2222}


def _deep(depth):
    value = []
    for _unused in range(depth):
        value = [value]
    return value


HAND_WRITTEN = [
    # names become file names and nginx identifiers
    Case("name-traversal", {"name": "../../etc/nginx/nginx"}, 'name: "../../etc/nginx/nginx" is not a valid rule name'),
    Case("name-dotdot", {"name": ".."}, 'name: ".." is not a valid rule name'),
    Case("name-hidden", {"name": ".antman.d.lock"}, 'name: ".antman.d.lock" is not a valid rule name'),
    Case("name-slash", {"name": "a/b"}, 'name: "a/b" is not a valid rule name'),
    Case("name-absolute", {"name": "/etc/passwd"}, 'name: "/etc/passwd" is not a valid rule name'),
    Case("name-suffix", {"name": "web.conf"}, 'name: "web.conf" is not a valid rule name'),
    Case("name-too-long", {"name": "a" * 65}, 'name: "%s" is not a valid rule name' % ("a" * 65)),
    Case("name-empty", {"name": ""}, 'name: "" is not a valid rule name'),
    Case("name-leading-dash", {"name": "-rf"}, 'name: "-rf" is not a valid rule name'),
    Case("name-unicode", {"name": "w\u00e9b"}, 'name: "w\\u00e9b" is not a valid rule name'),
    # server names: nginx reads ~ as a regex, a bare * or _ as catch-alls
    Case("server-name-regex", {"server_name": ["~^(?<x>.+)$"]}, 'server_name[0]: "~^(?<x>.+)$" is not a host name'),
    Case("server-name-catch-all", {"server_name": ["_"]}, 'server_name[0]: "_" is not a host name'),
    Case("server-name-star", {"server_name": ["*"]}, 'server_name[0]: "*" is not a host name'),
    Case("server-name-empty-list", {"server_name": []}, "server_name: the list is empty"),
    Case("server-name-kelvin-homograph", {"server_name": ["\u212aibana.local"]},
         'server_name[0]: "\\u212aibana.local" is not a host name'),
    Case("server-name-cyrillic-homograph", {"server_name": ["\u0430pple.com"]},
         'server_name[0]: "\\u0430pple.com" is not a host name'),
    Case("server-name-too-long", {"server_name": [("a" * 63 + ".") * 4 + "com"]},
         'server_name[0]: "%s...(261 characters) is not a host name' % ("a" * 63 + "." + "a" * 15)),
    Case("server-name-duplicate", {"server_name": ["web.local", "WEB.local"]},
         'server_name[1]: "WEB.local" is listed twice'),
    Case("server-name-trailing-dot", {"server_name": ["web.local."]},
         'server_name[0]: "web.local." is not a host name'),
    Case("server-name-port", {"server_name": ["web.local:8080"]},
         'server_name[0]: "web.local:8080" is not a host name'),
    # addresses: URL schemes, UNIX sockets, ports
    Case("address-http-url", {}, 'upstreams[0].address: "http://10.0.0.1" is a URL',
         upstream={"address": "http://10.0.0.1"}),
    Case("address-https-url", {}, 'upstreams[0].address: "https://app.local:443/" is a URL',
         upstream={"address": "https://app.local:443/"}),
    Case("address-unix-socket", {}, 'upstreams[0].address: "unix:/var/run/docker.sock": nginx would read',
         upstream={"address": "unix:/var/run/docker.sock"}),
    Case("address-host-named-unix", {}, 'upstreams[0].address: "unix": nginx would read',
         upstream={"address": "unix"}),
    Case("address-host-named-unix-port", {}, 'upstreams[0].address: "UNIX:8080": nginx would read',
         upstream={"address": "UNIX:8080"}),
    Case("address-path", {}, 'upstreams[0].address: "10.0.0.1/admin" is not an address',
         upstream={"address": "10.0.0.1/admin"}),
    Case("address-port-0", {}, 'upstreams[0].address: "10.0.0.1:0" has an invalid port (1-65535)',
         upstream={"address": "10.0.0.1:0"}),
    Case("address-port-65536", {}, 'upstreams[0].address: "10.0.0.1:65536" has an invalid port (1-65535)',
         upstream={"address": "10.0.0.1:65536"}),
    Case("address-port-negative", {}, 'upstreams[0].address: "10.0.0.1:-1" has an invalid port (1-65535)',
         upstream={"address": "10.0.0.1:-1"}),
    Case("address-port-name", {}, 'upstreams[0].address: "10.0.0.1:http" has an invalid port (1-65535)',
         upstream={"address": "10.0.0.1:http"}),
    Case("address-ipv6-port-0", {}, 'upstreams[0].address: "[::1]:0" has an invalid port (1-65535)',
         upstream={"address": "[::1]:0"}),
    Case("address-scoped-ipv6", {}, 'upstreams[0].address: "[fe80::1%eth0]:80": scoped IPv6',
         upstream={"address": "[fe80::1%eth0]:80"}),
    Case("address-flags-smuggled", {}, 'upstreams[0].address: "10.0.0.1:80 backup" has an invalid port',
         upstream={"address": "10.0.0.1:80 backup"}),
    Case("address-bad-ipv4", {}, 'upstreams[0].address: "999.0.0.1" is not an address',
         upstream={"address": "999.0.0.1"}),
    # server ports
    Case("server-port-0", {"server_port": 0}, "server_port: 0 is out of range (1-65535)"),
    Case("server-port-65536", {"server_port": 65536}, "server_port: 65536 is out of range (1-65535)"),
    Case("server-port-negative", {"server_port": -80}, "server_port: -80 is out of range (1-65535)"),
    Case("server-port-string", {"server_port": "http"}, 'server_port: "http" is not an integer',
         "argument 'server_port' is of type str and we were unable to convert to int"),
    Case("server-port-injection", {"server_port": "80; root /"}, 'server_port: "80; root /" is not an integer',
         "argument 'server_port' is of type str and we were unable to convert to int"),
    Case("server-port-ssl", {"server_port": "443 ssl"}, 'server_port: "443 ssl" is not an integer',
         "argument 'server_port' is of type str and we were unable to convert to int"),
    Case("server-port-double-minus", {"server_port": "--80"}, 'server_port: "--80" is not an integer',
         "argument 'server_port' is of type str and we were unable to convert to int"),
    Case("server-port-bool", {"server_port": True}, "server_port: true is a boolean, expected an integer"),
    Case("server-port-fraction", {"server_port": 80.5}, "server_port: 80.5 is not an integer",
         "argument 'server_port' is of type float and we were unable to convert to int"),
    Case("server-port-huge", {"server_port": 10 ** 30},
         "server_port: 1000000000000000000000000000000 is out of range (1-65535)"),
    Case("server-port-beyond-int-digits", {"server_port": 10 ** 5000},
         "server_port: <int too large or too deeply nested to show> is out of range (1-65535)"),
    # weights
    Case("weight-0", {}, "upstreams[0].weight: 0 is out of range (1-1000)", upstream={"weight": 0}),
    Case("weight-negative", {}, "upstreams[0].weight: -3 is out of range (1-1000)", upstream={"weight": -3}),
    Case("weight-huge", {}, "upstreams[0].weight: 1000000 is out of range (1-1000)", upstream={"weight": 10 ** 6}),
    Case("weight-true", {}, "upstreams[0].weight: true is a boolean, expected an integer", upstream={"weight": True}),
    Case("weight-false", {}, "upstreams[0].weight: false is a boolean, expected an integer",
         upstream={"weight": False}),
    Case("weight-injection", {}, 'upstreams[0].weight: "3 backup" is not an integer',
         "argument 'weight' is of type str found in 'upstreams'", upstream={"weight": "3 backup"}),
    Case("weight-list", {}, "upstreams[0].weight: [3] is a list, expected an integer",
         "argument 'weight' is of type list found in 'upstreams'", upstream={"weight": [3]}),
    # other numbers and switches
    Case("keepalive-negative", {"keepalive": -1}, "keepalive: -1 is out of range (0-1024)"),
    Case("max-fails-huge", {"max_fails": 10 ** 9}, "max_fails: 1000000000 is out of range (0-1000)"),
    Case("tries-string", {"next_upstream_tries": "3; x"}, 'next_upstream_tries: "3; x" is not an integer',
         "argument 'next_upstream_tries' is of type str and we were unable to convert to int"),
    Case("retry-maybe", {"retry_non_idempotent": "maybe"}, 'retry_non_idempotent: "maybe" is not a boolean',
         "argument 'retry_non_idempotent' is of type str and we were unable to convert to bool"),
    Case("backup-maybe", {}, 'upstreams[0].backup: "maybe" is not a boolean',
         "argument 'backup' is of type str found in 'upstreams'", upstream={"backup": "maybe"}),
    # times
    Case("time-out-of-range", {"connect_timeout": "90s"}, 'connect_timeout: "90s" is out of range (1ms-75s)'),
    Case("time-zero", {"read_timeout": "0"}, 'read_timeout: "0" is out of range (1ms-3600s)'),
    Case("time-negative", {"read_timeout": -5}, "read_timeout: \"-5\" is not a time",
         'read_timeout: "-5" is not a time'),
    Case("time-huge-number", {"read_timeout": 10 ** 40},
         "read_timeout: 10000000000000000000000000000000000000000 is out of range",
         'read_timeout: "10000000000000000000000000000000000000000" is not a time'),
    Case("time-days", {"read_timeout": "2d"}, 'read_timeout: "2d" is not a time'),
    Case("time-compound", {"read_timeout": "1h30m"}, 'read_timeout: "1h30m" is not a time'),
    Case("time-not-whole-seconds", {"fail_timeout": "1500ms"}, 'fail_timeout: "1500ms" must be a whole number'),
    # methods
    Case("method-hash-variable", {"method": "hash $remote_addr"}, 'method: "hash $remote_addr" is not one of',
         "value of method must be one of"),
    Case("method-case", {"method": "IP_HASH"}, 'method: "IP_HASH" is not one of', "value of method must be one of"),
    # the upstream set as a whole
    Case("upstreams-duplicate", {"upstreams": [{"address": "app.local"}, {"address": "APP.local:80"}]},
         'upstreams[1].address: "APP.local:80" duplicates upstreams[0] (app.local:80)'),
    Case("upstreams-duplicate-ipv6", {"upstreams": [{"address": "::1"}, {"address": "[0:0::1]:80"}]},
         'upstreams[1].address: "[0:0::1]:80" duplicates upstreams[0] ([::1]:80)'),
    Case("upstreams-all-backup", {"upstreams": [{"address": "10.0.0.1", "backup": True},
                                                {"address": "10.0.0.2", "backup": True}]},
         "upstreams: every upstream is backup or down"),
    Case("upstreams-all-down", {"upstreams": [{"address": "10.0.0.1", "down": True},
                                              {"address": "10.0.0.2", "down": True}]},
         "upstreams: every upstream is backup or down"),
    Case("upstreams-backup-and-down", {"upstreams": [{"address": "10.0.0.1", "down": True},
                                                     {"address": "10.0.0.2", "backup": True}]},
         "upstreams: every upstream is backup or down"),
    Case("upstreams-backup-with-ip-hash", {"method": "ip_hash", "upstreams": [
        {"address": "10.0.0.1"}, {"address": "10.0.0.2", "backup": True}]},
        "upstreams: backup upstreams (10.0.0.2:80) cannot be used with method 'ip_hash'"),
    Case("upstreams-empty", {"upstreams": []}, "upstreams: the list is empty"),
    Case("upstreams-too-many", {"upstreams": [{"address": "10.0.%d.%d" % divmod(i, 256)} for i in range(129)]},
         "upstreams: 129 upstreams, at most 128 are supported"),
    # type confusion
    Case("type-name-dict", {"name": {"a": 1}}, 'name: {"a": 1} is not a valid rule name',
         "name: \"{'a': 1}\" is not a valid rule name"),
    Case("type-name-list", {"name": ["web"]}, 'name: ["web"] is not a valid rule name',
         "name: \"['web']\" is not a valid rule name"),
    Case("type-server-name-dict", {"server_name": {"host": "web.local"}},
         'server_name: {"host": "web.local"} is a dict, expected a host name or a list of them',
         "argument 'server_name' is of type dict and we were unable to convert to list"),
    Case("type-server-name-number", {"server_name": 80}, "server_name: 80 is a int, expected a host name",
         'server_name[0]: "80" is not a host name'),
    Case("type-server-name-item-dict", {"server_name": [{"a": 1}]},
         'server_name[0]: {"a": 1} is a dict, expected a host name',
         "server_name[0]: \"{'a': 1}\" is not a host name"),
    Case("type-address-dict", {}, 'upstreams[0].address: {"host": "10.0.0.1"} is a dict, expected an address',
         "upstreams[0].address: \"{'host': '10.0.0.1'}\" is not an address", upstream={"address": {"host": "10.0.0.1"}}),
    Case("type-address-list", {}, 'upstreams[0].address: ["10.0.0.1"] is a list, expected an address',
         "upstreams[0].address: \"['10.0.0.1']\" is not a valid IPv6 address", upstream={"address": ["10.0.0.1"]}),
    Case("type-address-number", {}, "upstreams[0].address: 10 is a int, expected an address",
         'upstreams[0].address: "10" is not an address', upstream={"address": 10}),
    # Through the module, Ansible refuses these two itself, before the module code runs, with a
    # message that does not name the option (argument spec "type: list, elements: dict").
    Case("type-upstreams-string", {"upstreams": "10.0.0.1"},
         'upstreams: "10.0.0.1" is a str, expected a list of upstreams', ANSIBLE_DICT_ERROR),
    Case("type-upstreams-dict", {"upstreams": {"address": "10.0.0.1"}},
         'upstreams: {"address": "10.0.0.1"} is a dict, expected a list of upstreams',
         "argument 'upstreams' is of type dict and we were unable to convert to list"),
    Case("type-upstream-string", {"upstreams": ["10.0.0.1"]},
         'upstreams[0]: "10.0.0.1" is a str, expected a mapping with an address', ANSIBLE_DICT_ERROR),
    Case("type-upstreams-key-value-string", {"upstreams": "address=10.0.0.1;x weight=2"},
         'upstreams: "address=10.0.0.1;x weight=2" is a str, expected a list of upstreams',
         'upstreams[0].address: "10.0.0.1;x" is not an address'),
    Case("type-read-timeout-dict", {"read_timeout": {"s": 5}}, 'read_timeout: {"s": 5} is a dict, expected a time',
         "read_timeout: \"{'s': 5}\" is not a time"),
    Case("type-method-list", {"method": ["ip_hash"]}, 'method: ["ip_hash"] is not one of',
         "value of method must be one of"),
    Case("type-server-port-list", {"server_port": [80]}, "server_port: [80] is a list, expected an integer",
         "argument 'server_port' is of type list and we were unable to convert to int"),
    Case("type-deeply-nested", {"server_name": [_deep(50000)]},
         "server_name[0]: <list too large or too deeply nested to show> is a list, expected a host name", None),
    # fields that do not exist
    Case("unknown-field", {"root": "/"}, 'unsupported field "root"', "Unsupported parameters for"),
    Case("unknown-upstream-field", {}, 'upstreams[0]: unsupported field "proxy_pass"', upstream={"proxy_pass": "http://evil"}),
]

BOOL_FIELD_ERROR = "argument '%s' is of type str and we were unable to convert to bool"

# The options of real applications: WebSockets, uploads, buffering, IPv6, HTTP/2, retries in time.
APPLICATION_OPTIONS = [
    Case("websocket-maybe", {"websocket": "maybe"}, 'websocket: "maybe" is not a boolean', BOOL_FIELD_ERROR % "websocket"),
    Case("websocket-injection", {"websocket": "on; proxy_pass http://evil"},
         'websocket: "on; proxy_pass http://evil" is not a boolean', BOOL_FIELD_ERROR % "websocket"),
    Case("websocket-number", {"websocket": 2}, "websocket: 2 is not a boolean",
         "argument 'websocket' is of type int and we were unable to convert to bool"),
    Case("websocket-timeout-zero", {"websocket_timeout": "0"}, 'websocket_timeout: "0" is out of range (1ms-86400s)'),
    Case("websocket-timeout-beyond-a-day", {"websocket_timeout": "25h"},
         'websocket_timeout: "25h" is out of range (1ms-86400s)'),
    Case("websocket-timeout-days", {"websocket_timeout": "2d"}, 'websocket_timeout: "2d" is not a time'),
    Case("websocket-timeout-variable", {"websocket_timeout": "$http_timeout"},
         'websocket_timeout: "$http_timeout" is not a time'),
    Case("websocket-timeout-bool", {"websocket_timeout": True}, "websocket_timeout: true is a boolean, expected a time",
         'websocket_timeout: "True" is not a time'),
    Case("websocket-timeout-list", {"websocket_timeout": ["1h"]}, 'websocket_timeout: ["1h"] is a list, expected a time',
         "websocket_timeout: \"['1h']\" is not a time"),
    Case("body-size-unit-mb", {"client_max_body_size": "200mb"}, 'client_max_body_size: "200mb" is not a size'),
    Case("body-size-terabyte", {"client_max_body_size": "2t"}, 'client_max_body_size: "2t" is not a size'),
    Case("body-size-negative", {"client_max_body_size": -1}, "client_max_body_size: -1 is out of range (0-1024g)",
         'client_max_body_size: "-1" is not a size'),
    Case("body-size-too-large", {"client_max_body_size": "2000g"}, 'client_max_body_size: "2000g" is out of range (0-1024g)'),
    Case("body-size-too-many-bytes", {"client_max_body_size": 10 ** 13},
         "client_max_body_size: 10000000000000 is out of range (0-1024g)",
         'client_max_body_size: "10000000000000" is not a size'),
    Case("body-size-fraction", {"client_max_body_size": "1.5m"}, 'client_max_body_size: "1.5m" is not a size'),
    Case("body-size-space", {"client_max_body_size": "200 m"}, 'client_max_body_size: "200 m" is not a size'),
    Case("body-size-injection", {"client_max_body_size": "0; root /"}, 'client_max_body_size: "0; root /" is not a size'),
    Case("body-size-off", {"client_max_body_size": "off"}, 'client_max_body_size: "off" is not a size'),
    Case("body-size-float", {"client_max_body_size": 1.5}, "client_max_body_size: 1.5 is a float, expected a size",
         'client_max_body_size: "1.5" is not a size'),
    Case("body-size-bool", {"client_max_body_size": False}, "client_max_body_size: false is a boolean, expected a size",
         'client_max_body_size: "False" is not a size'),
    Case("body-size-dict", {"client_max_body_size": {"m": 200}},
         'client_max_body_size: {"m": 200} is a dict, expected a size', "client_max_body_size: \"{'m': 200}\" is not a size"),
    Case("buffering-maybe", {"buffering": "maybe"}, 'buffering: "maybe" is not a boolean', BOOL_FIELD_ERROR % "buffering"),
    Case("buffering-injection", {"buffering": "off;"}, 'buffering: "off;" is not a boolean', BOOL_FIELD_ERROR % "buffering"),
    Case("ipv6-maybe", {"ipv6": "maybe"}, 'ipv6: "maybe" is not a boolean', BOOL_FIELD_ERROR % "ipv6"),
    Case("ipv6-address", {"ipv6": "[::1]"}, 'ipv6: "[::1]" is not a boolean', BOOL_FIELD_ERROR % "ipv6"),
    Case("ipv6-only", {"ipv6": "only"}, 'ipv6: "only" is not a boolean', BOOL_FIELD_ERROR % "ipv6"),
    Case("http2-maybe", {"http2": "maybe"}, 'http2: "maybe" is not a boolean', BOOL_FIELD_ERROR % "http2"),
    Case("http2-injection", {"http2": "on; ssl_protocols SSLv3"}, 'http2: "on; ssl_protocols SSLv3" is not a boolean',
         BOOL_FIELD_ERROR % "http2"),
    Case("next-upstream-timeout-negative", {"next_upstream_timeout": "-1s"}, 'next_upstream_timeout: "-1s" is not a time'),
    Case("next-upstream-timeout-beyond-an-hour", {"next_upstream_timeout": "2h"},
         'next_upstream_timeout: "2h" is out of range (0s-3600s)'),
    Case("next-upstream-timeout-off", {"next_upstream_timeout": "off"}, 'next_upstream_timeout: "off" is not a time'),
    Case("tries-beyond-range", {"next_upstream_tries": 101}, "next_upstream_tries: 101 is out of range (0-100)"),
    # the same options are http-only: a tcp or udp rule refuses them by name
    Case("tcp-websocket", dict(STREAM, websocket=True), "websocket: does not apply to protocol tcp"),
    Case("tcp-websocket-timeout", dict(STREAM, websocket_timeout="1h"), "websocket_timeout: does not apply to protocol tcp"),
    Case("udp-body-size", dict(STREAM, protocol="udp", client_max_body_size="1m"),
         "client_max_body_size: does not apply to protocol udp"),
    Case("tcp-buffering", dict(STREAM, buffering=False), "buffering: does not apply to protocol tcp"),
    Case("udp-http2", dict(STREAM, protocol="udp", http2=False), "http2: does not apply to protocol udp"),
    Case("tcp-ipv6-maybe", dict(STREAM, ipv6="maybe"), 'ipv6: "maybe" is not a boolean', BOOL_FIELD_ERROR % "ipv6"),
]
PROTOCOLS_ERROR = "value of protocols must be one or more of: TLSv1.2, TLSv1.3. Got no match for: %s found in tls"

# protocol, tls, redirect_http (http rules only; tcp and udp rules go to nginx's stream context)
PROTOCOL_TLS_REDIRECT = [
    Case("protocol-uppercase", {"protocol": "TCP"}, 'protocol: "TCP" is not one of http, tcp, udp',
         "value of protocol must be one of: http, tcp, udp, got: TCP"),
    Case("protocol-stream", {"protocol": "stream"}, 'protocol: "stream" is not one of',
         "value of protocol must be one of: http, tcp, udp, got: stream"),
    Case("protocol-https", {"protocol": "https"}, 'protocol: "https" is not one of',
         "value of protocol must be one of: http, tcp, udp, got: https"),
    Case("protocol-list", {"protocol": ["tcp"]}, 'protocol: ["tcp"] is not one of',
         "value of protocol must be one of: http, tcp, udp, got: ['tcp']"),
    Case("protocol-dict", {"protocol": {"tcp": True}}, 'protocol: {"tcp": true} is not one of',
         "value of protocol must be one of: http, tcp, udp, got: {'tcp': True}"),
    Case("protocol-bool", {"protocol": True}, "protocol: true is not one of",
         "value of protocol must be one of: http, tcp, udp, got: True"),
    # http-only fields given to a tcp or udp rule: refused, never silently dropped
    Case("tcp-server-name", {"protocol": "tcp"}, "server_name: does not apply to protocol tcp"),
    Case("udp-server-name-list", {"protocol": "udp", "server_name": ["a.local", "b.local"]},
         "server_name: does not apply to protocol udp"),
    Case("tcp-tls", dict(STREAM, tls=PATHS), "tls: does not apply to protocol tcp"),
    Case("tcp-tls-content", dict(STREAM, tls=CONTENT), "tls: does not apply to protocol tcp", secret=SECRET),
    Case("udp-tls-empty", dict(STREAM, protocol="udp", tls={}), "tls: does not apply to protocol udp"),
    Case("tcp-keepalive-0", dict(STREAM, keepalive=0), "keepalive: does not apply to protocol tcp"),
    Case("tcp-keepalive-injection", dict(STREAM, keepalive="8; root /"), "keepalive: does not apply to protocol tcp",
         "argument 'keepalive' is of type str and we were unable to convert to int"),
    Case("tcp-redirect-false", dict(STREAM, redirect_http=False), "redirect_http: does not apply to protocol tcp"),
    Case("udp-retry-non-idempotent", dict(STREAM, protocol="udp", retry_non_idempotent=True),
         "retry_non_idempotent: does not apply to protocol udp"),
    Case("udp-every-http-field", dict(STREAM, protocol="udp", server_name="a.local", keepalive=1, redirect_http=True,
                                      retry_non_idempotent=False, tls=PATHS),
         "server_name: does not apply to protocol udp; retry_non_idempotent: does not apply to protocol udp; "
         "keepalive: does not apply to protocol udp; tls: does not apply to protocol udp; "
         "redirect_http: does not apply to protocol udp"),
    Case("tcp-port-0", dict(STREAM, server_port=0), "server_port: 0 is out of range (1-65535)"),
    Case("udp-hash-with-backup", dict(STREAM, protocol="udp", method="ip_hash", upstreams=[
        {"address": "10.0.0.1:53"}, {"address": "10.0.0.2:53", "backup": True}]),
        "upstreams: backup upstreams (10.0.0.2:53) cannot be used with method 'ip_hash'"),
    # tls paths: only absolute paths of plain characters reach nginx
    Case("tls-path-traversal", {"tls": dict(PATHS, certificate="/etc/nginx/../../etc/shadow")},
         'tls.certificate: "/etc/nginx/../../etc/shadow" is not an absolute path'),
    Case("tls-path-dot", {"tls": dict(PATHS, key="/etc/ssl/./web.key")}, 'tls.key: "/etc/ssl/./web.key" is not an'),
    Case("tls-path-relative", {"tls": dict(PATHS, certificate="certs/web.pem")},
         'tls.certificate: "certs/web.pem" is not an absolute path'),
    Case("tls-path-home", {"tls": dict(PATHS, key="~/web.key")}, 'tls.key: "~/web.key" is not an absolute path'),
    Case("tls-path-variable", {"tls": dict(PATHS, certificate="/etc/ssl/$ssl_server_name.pem")},
         'tls.certificate: "/etc/ssl/$ssl_server_name.pem" is not an absolute path'),
    Case("tls-path-data-uri", {"tls": dict(PATHS, certificate="data:" + CERT)},
         'tls.certificate: "data:-----BEGIN CERTIFICATE-----\\nMIIB'),
    Case("tls-path-engine", {"tls": dict(PATHS, key="engine:pkcs11:id_45")},
         'tls.key: "engine:pkcs11:id_45" is not an absolute path'),
    Case("tls-path-space", {"tls": dict(PATHS, certificate="/etc/ssl/my cert.pem")},
         'tls.certificate: "/etc/ssl/my cert.pem" is not an absolute path'),
    Case("tls-path-unicode", {"tls": dict(PATHS, certificate="/etc/ssl/caf\u00e9.pem")},
         'tls.certificate: "/etc/ssl/caf\\u00e9.pem" is not an absolute path'),
    Case("tls-path-trailing-slash", {"tls": dict(PATHS, key="/etc/ssl/private/")},
         'tls.key: "/etc/ssl/private/" is not an absolute path'),
    Case("tls-path-root", {"tls": dict(PATHS, key="/")}, 'tls.key: "/" is not an absolute path'),
    Case("tls-path-too-long", {"tls": dict(PATHS, certificate="/" + "a" * 4096)},
         'tls.certificate: "/%s...(4099 characters) is not an absolute path' % ("a" * 78)),
    Case("tls-path-dict", {"tls": dict(PATHS, certificate={"path": "/a.pem"})},
         'tls.certificate: {"path": "/a.pem"} is a dict, expected an absolute path',
         "tls.certificate: \"{'path': '/a.pem'}\" is not an absolute path"),
    # tls as a whole
    Case("tls-string", {"tls": "/etc/ssl/web.pem"}, 'tls: "/etc/ssl/web.pem" is a str, expected a mapping',
         ANSIBLE_DICT_ERROR),
    Case("tls-list", {"tls": ["/etc/ssl/web.pem", "/etc/ssl/web.key"]}, "tls: [", ANSIBLE_DICT_ERROR),
    Case("tls-empty", {"tls": {}}, "tls: give certificate and key (paths on the host), or certificate_content and "
         "key_content, or acme: true (given: nothing)"),
    Case("tls-certificate-only", {"tls": {"certificate": "/etc/ssl/web.pem"}}, "(given: certificate)"),
    # protocols and hsts go with a form: given alone, the message names them (not "nothing")
    Case("tls-protocols-only", {"tls": {"protocols": ["TLSv1.3"], "hsts": 60}}, "acme: true (given: hsts, protocols)"),
    Case("tls-paths-and-content", {"tls": dict(PATHS, **CONTENT)},
         "(given: certificate, certificate_content, key, key_content)", secret=SECRET),
    Case("tls-path-and-key-content", {"tls": {"certificate": "/etc/ssl/web.pem", "key_content": KEY}},
         "(given: certificate, key_content)", secret=SECRET),
    Case("tls-unknown-field", {"tls": dict(PATHS, ciphers="NULL")}, 'tls: unsupported field "ciphers"'),
    # acme: the role's certificate; its directory goes into nginx's ssl_certificate and root
    Case("tls-acme-and-paths", {"tls": dict(PATHS, acme=True)}, "(given: acme, certificate, key)"),
    Case("tls-acme-and-content", {"tls": dict(CONTENT, acme=True)}, "(given: acme, certificate_content, key_content)",
         secret=SECRET),
    Case("tls-acme-maybe", {"tls": {"acme": "maybe"}}, 'tls.acme: "maybe" is not a boolean',
         "argument 'acme' is of type str found in 'tls'"),
    Case("tls-acme-false-alone", {"tls": {"acme": False}}, "(given: nothing)"),
    Case("tls-acme-dir-without-acme", {"tls": dict(PATHS, acme_dir="/var/lib/acme")},
         'tls.acme_dir: "/var/lib/acme" is given without acme: true'),
    Case("tls-acme-dir-traversal", {"tls": {"acme": True, "acme_dir": "/var/lib/../../etc"}},
         'tls.acme_dir: "/var/lib/../../etc" is not an absolute path'),
    Case("tls-acme-dir-injection", {"tls": {"acme": True, "acme_dir": "/var/acme; root /"}},
         'tls.acme_dir: "/var/acme; root /" is not an absolute path'),
    Case("tls-acme-port-80", {"tls": {"acme": True}, "server_port": 80},
         "tls.acme: true needs a server_port other than 80 (HTTP-01 challenges are answered on port 80)"),
    Case("tls-acme-wildcard", {"tls": {"acme": True}, "server_port": 443, "server_name": ["web.local", "*.web.local"]},
         'tls.acme: true needs exact host names (HTTP-01 certificates cannot be had for "*.web.local")'),
    Case("tls-acme-ip", {"tls": {"acme": True}, "server_port": 443, "server_name": "10.0.0.5"},
         'tls.acme: true needs exact host names (HTTP-01 certificates cannot be had for "10.0.0.5")'),
    # hsts: a number of seconds, written into add_header
    Case("tls-hsts-injection", {"tls": dict(PATHS, hsts="31536000; includeSubDomains")},
         'tls.hsts: "31536000; includeSubDomains" is not an integer',
         "argument 'hsts' is of type str found in 'tls'"),
    Case("tls-hsts-negative", {"tls": dict(PATHS, hsts=-1)}, "tls.hsts: -1 is out of range (0-126144000)"),
    Case("tls-hsts-too-long", {"tls": dict(PATHS, hsts=126144001)}, "tls.hsts: 126144001 is out of range (0-126144000)"),
    Case("tls-hsts-bool", {"tls": dict(PATHS, hsts=True)}, "tls.hsts: true is a boolean, expected an integer"),
    Case("tls-protocols-sslv3", {"tls": dict(PATHS, protocols=["SSLv3"])},
         'tls.protocols: "SSLv3" is not one of TLSv1.2, TLSv1.3', PROTOCOLS_ERROR % "SSLv3"),
    Case("tls-protocols-injection", {"tls": dict(PATHS, protocols=["TLSv1.2; ssl_ciphers NULL"])},
         'tls.protocols: "TLSv1.2; ssl_ciphers NULL" is not one of', PROTOCOLS_ERROR % "TLSv1.2; ssl_ciphers NULL"),
    Case("tls-protocols-lowercase", {"tls": dict(PATHS, protocols="tlsv1.3")},
         'tls.protocols: "tlsv1.3" is not one of', PROTOCOLS_ERROR % "tlsv1.3"),
    Case("tls-protocols-empty", {"tls": dict(PATHS, protocols=[])}, "tls.protocols: [] is not a non-empty list"),
    Case("tls-sha256-uppercase", {"tls": {"certificate_sha256": "A" * 64, "key_sha256": "b" * 64}},
         'tls.certificate_sha256: "%s" is not a sha256 hex digest' % ("A" * 64)),
    Case("tls-sha256-short", {"tls": {"certificate_sha256": "a" * 64, "key_sha256": "b" * 63}},
         'tls.key_sha256: "%s" is not a sha256 hex digest' % ("b" * 63)),
    # content: PEM texts written to files of their own; messages never show them
    Case("tls-content-not-pem", {"tls": dict(CONTENT, certificate_content="hello; include /etc/shadow;")},
         "tls.certificate_content: is not a PEM certificate (content not shown)", secret=SECRET),
    Case("tls-content-path-given", {"tls": dict(CONTENT, certificate_content="/etc/ssl/web.pem")},
         "tls.certificate_content: is not a PEM certificate", secret=SECRET),
    Case("tls-content-key-as-certificate", {"tls": dict(CONTENT, certificate_content=KEY)},
         "tls.certificate_content: is not a PEM certificate (content not shown)", secret=SECRET),
    Case("tls-content-certificate-as-key", {"tls": dict(CONTENT, key_content=CERT)},
         "tls.key_content: is not an unencrypted PEM private key (content not shown)"),
    Case("tls-content-key-in-certificate", {"tls": dict(CONTENT, certificate_content=CERT + KEY)},
         "tls.certificate_content: holds a private key (content not shown); give the key as key_content only",
         secret=SECRET),
    Case("tls-content-encrypted-key", {"tls": dict(CONTENT, key_content=KEY.replace(" PRIVATE", " ENCRYPTED PRIVATE"))},
         "tls.key_content: is not an unencrypted PEM private key (content not shown)", secret=SECRET),
    Case("tls-content-unicode-certificate", {"tls": dict(CONTENT, certificate_content=CERT.replace("MIIB", "MII\u0392"))},
         "tls.certificate_content: is not a PEM certificate", secret=SECRET),
    Case("tls-content-unicode-key", {"tls": dict(CONTENT, key_content=KEY.replace("abc", "\u0430bc"))},
         "tls.key_content: is not an unencrypted PEM private key (content not shown)", secret=SECRET),
    Case("tls-content-broken-body", {"tls": dict(CONTENT, key_content=KEY.replace("abc", "a;c"))},
         "tls.key_content: is not an unencrypted PEM private key (content not shown)", secret=SECRET),
    Case("tls-content-number", {"tls": dict(CONTENT, key_content=12345)},
         "tls.key_content: is not an unencrypted PEM private key (content not shown)"),
    # a private key pasted where it does not belong is refused without being shown
    Case("tls-key-pasted-as-key-path", {"tls": dict(PATHS, key=KEY)},
         "tls.key: <str holding a private key, not shown> is not an absolute path", secret=SECRET),
    Case("tls-key-pasted-as-certificate-path", {"tls": dict(PATHS, certificate=KEY)},
         "tls.certificate: <str holding a private key, not shown> is not an absolute path", secret=SECRET),
    Case("tls-key-pasted-as-digest", {"tls": {"certificate_sha256": "a" * 64, "key_sha256": KEY}},
         "tls.key_sha256: <str holding a private key, not shown> is not a sha256 hex digest", secret=SECRET),
    Case("tls-key-pasted-as-tls", {"tls": KEY}, "tls: <str holding a private key, not shown> is a str",
         ANSIBLE_KEY_VALUE_ERROR, secret=SECRET),
    Case("key-pasted-as-server-name", {"server_name": KEY},
         "server_name: <str holding a private key, not shown> is not a host name",
         "server_name[0]: <str holding a private key, not shown> is not a host name", secret=SECRET),
    Case("key-pasted-as-address", {}, "upstreams[0].address: <str holding a private key, not shown> is not an",
         upstream={"address": KEY}, secret=SECRET),
    Case("key-pasted-under-unknown-tls-field", {"tls": {"certificate_content": CERT, "key_contents": KEY}},
         'tls: unsupported field "key_contents"', secret=SECRET),
    # redirect_http: a plain port-80 server that redirects to the rule's https
    Case("redirect-without-tls", {"server_port": 443, "redirect_http": True},
         "redirect_http: true needs tls (it redirects port 80 to this rule's https)"),
    Case("redirect-on-port-80", {"tls": PATHS, "redirect_http": True},
         "redirect_http: true needs a server_port other than 80 (the redirect listens on 80)"),
    Case("redirect-maybe", {"tls": PATHS, "server_port": 443, "redirect_http": "maybe"},
         'redirect_http: "maybe" is not a boolean',
         "argument 'redirect_http' is of type str and we were unable to convert to bool"),
    Case("redirect-injection", {"tls": PATHS, "server_port": 443, "redirect_http": "yes; return 200 pwned"},
         'redirect_http: "yes; return 200 pwned" is not a boolean',
         "argument 'redirect_http' is of type str and we were unable to convert to bool"),
    Case("redirect-number", {"tls": PATHS, "server_port": 443, "redirect_http": 2}, "redirect_http: 2 is not a boolean",
         "argument 'redirect_http' is of type int and we were unable to convert to bool"),
]

TCP = {"protocol": "tcp", "server_name": None, "server_port": 2222}
UDP = {"protocol": "udp", "server_name": None, "server_port": 5353}
RATE_ERROR = "argument 'requests_per_second' is of type str found in 'rate_limit'"

# Who may reach a rule: CIDR grammar, forged headers, settings that contradict each other.
ACCESS = [
    Case("cidr-host-bits-set", {"allow_from": ["10.1.1.7/24"]},
         'allow_from[0]: "10.1.1.7/24" has host bits set; the network is 10.1.1.0/24 (or give the single address 10.1.1.7)'),
    Case("cidr-ipv6-host-bits-set", {"real_ip_from": ["2001:db8::1/32"]},
         'real_ip_from[0]: "2001:db8::1/32" has host bits set; the network is 2001:db8::/32'),
    Case("cidr-prefix-too-long", {"allow_from": ["10.0.0.0/33"]}, 'allow_from[0]: "10.0.0.0/33" is not an IP address or CIDR'),
    Case("cidr-ipv6-prefix-too-long", {"allow_from": ["::/129"]}, 'allow_from[0]: "::/129" is not an IP address or CIDR'),
    Case("cidr-negative-prefix", {"allow_from": ["10.0.0.0/-8"]}, 'allow_from[0]: "10.0.0.0/-8" is not an IP address'),
    Case("cidr-empty-prefix", {"allow_from": ["10.0.0.0/"]}, 'allow_from[0]: "10.0.0.0/" is not an IP address'),
    Case("cidr-leading-zeros", {"allow_from": ["010.0.0.0/8"]}, 'allow_from[0]: "010.0.0.0/8" is not an IP address'),
    Case("cidr-hex", {"allow_from": ["0x0a000000/8"]}, 'allow_from[0]: "0x0a000000/8" is not an IP address'),
    Case("cidr-netmask-form", {"allow_from": ["10.0.0.0/255.0.0.0"]},
         'allow_from[0]: "10.0.0.0/255.0.0.0" is not an IP address'),
    Case("cidr-scoped-ipv6", {"allow_from": ["fe80::1%eth0"]}, 'allow_from[0]: "fe80::1%eth0" is not an IP address'),
    Case("cidr-bracketed-ipv6", {"allow_from": ["[::1]"]}, 'allow_from[0]: "[::1]" is not an IP address'),
    Case("cidr-nginx-all", {"allow_from": ["all"]}, 'allow_from[0]: "all" is not an IP address'),
    Case("cidr-unix", {"real_ip_from": ["unix:"]}, 'real_ip_from[0]: "unix:" is not an IP address'),
    Case("cidr-host-name", {"allow_from": ["office.example.com"]}, 'allow_from[0]: "office.example.com" is not an IP'),
    Case("cidr-trailing-space", {"allow_from": ["10.0.0.0/8 "]}, 'allow_from[0]: "10.0.0.0/8 " is not an IP address'),
    Case("cidr-two-in-one", {"allow_from": ["10.0.0.0/8 192.0.2.0/24"]},
         'allow_from[0]: "10.0.0.0/8 192.0.2.0/24" is not an IP address'),
    Case("cidr-duplicate-spelling", {"allow_from": ["127.0.0.2", "127.0.0.2/32"]},
         'allow_from[1]: "127.0.0.2/32" is listed twice (as 127.0.0.2)'),
    Case("cidr-duplicate-ipv6-spelling", {"allow_from": ["2001:db8::/32", "2001:DB8:0:0::/32"]},
         'allow_from[1]: "2001:DB8:0:0::/32" is listed twice (as 2001:db8::/32)'),
    Case("cidr-empty-list", {"allow_from": []}, "allow_from: the list is empty"),
    Case("cidr-number", {"allow_from": [167772160]}, "allow_from[0]: 167772160 is a int",
         'allow_from[0]: "167772160" is not an IP address'),
    Case("cidr-too-many", {"allow_from": ["10.%d.%d.0/24" % divmod(i, 256) for i in range(1025)]},
         "allow_from: 1025 entries, at most 1024 are supported"),
    # header injection: a CR LF in a trusted proxy would end the directive and start a header or a line
    Case("cidr-header-injection", {"real_ip_from": ["10.0.0.0/8\r\nX-Forwarded-For: 1.2.3.4"]},
         'real_ip_from[0]: "10.0.0.0/8\\r\\nX-Forwarded-For: 1.2.3.4" is not an IP address'),
    Case("cidr-directive-injection", {"allow_from": ["10.0.0.0/8; allow all"]},
         'allow_from[0]: "10.0.0.0/8; allow all" is not an IP address'),
    Case("cidr-variable", {"real_ip_from": ["$http_x_forwarded_for"]},
         'real_ip_from[0]: "$http_x_forwarded_for" is not an IP address'),
    # conflicts, refused by name
    Case("proxy-protocol-without-trusted-proxies", {"proxy_protocol": True},
         "proxy_protocol: true needs real_ip_from, the proxies whose PROXY protocol header gives the client address"),
    Case("tcp-real-ip-without-proxy-protocol", dict(TCP, real_ip_from=["10.0.0.0/8"]),
         "real_ip_from: a tcp rule can learn the client address only from a PROXY protocol header; it needs "
         "proxy_protocol: true"),
    Case("udp-real-ip", dict(UDP, real_ip_from=["10.0.0.0/8"]), "real_ip_from: does not apply to protocol udp"),
    Case("udp-proxy-protocol", dict(UDP, proxy_protocol=True), "proxy_protocol: does not apply to protocol udp"),
    Case("udp-rate-limit", dict(UDP, rate_limit={"connections": 5}), "rate_limit: does not apply to protocol udp"),
    Case("http-proxy-protocol-upstream", {"proxy_protocol_upstream": True},
         "proxy_protocol_upstream: does not apply to protocol http"),
    Case("proxy-protocol-maybe", {"proxy_protocol": "maybe"}, 'proxy_protocol: "maybe" is not a boolean',
         BOOL_FIELD_ERROR % "proxy_protocol"),
    # rate_limit: its options per protocol, numbers only (they become nginx arguments)
    Case("rate-limit-http-connections", {"rate_limit": {"requests_per_second": 10, "connections": 2}},
         "rate_limit.connections: does not apply to protocol http"),
    Case("rate-limit-tcp-requests", dict(TCP, rate_limit={"requests_per_second": 10}),
         "rate_limit.requests_per_second: does not apply to protocol tcp"),
    Case("rate-limit-missing-rate", {"rate_limit": {"burst": 5}}, "rate_limit.requests_per_second: missing"),
    Case("rate-limit-tcp-missing-connections", dict(TCP, rate_limit={}), "rate_limit.connections: missing"),
    Case("rate-limit-zero", {"rate_limit": {"requests_per_second": 0}},
         "rate_limit.requests_per_second: 0 is out of range (1-100000)"),
    Case("rate-limit-nginx-syntax", {"rate_limit": {"requests_per_second": "10r/s"}},
         'rate_limit.requests_per_second: "10r/s" is not an integer', RATE_ERROR),
    Case("rate-limit-injection", {"rate_limit": {"requests_per_second": "10 burst=1000"}},
         'rate_limit.requests_per_second: "10 burst=1000" is not an integer', RATE_ERROR),
    Case("rate-limit-negative-burst", {"rate_limit": {"requests_per_second": 10, "burst": -1}},
         "rate_limit.burst: -1 is out of range (0-100000)"),
    Case("rate-limit-unknown-option", {"rate_limit": {"requests_per_second": 10, "zone": "x"}},
         'rate_limit: unsupported field "zone"'),
    Case("rate-limit-text", {"rate_limit": "10"}, 'rate_limit: "10" is a str, expected a mapping', ANSIBLE_DICT_ERROR),
]

# health_check: the path goes into the probe's request line, the host into its Host header, the
# statuses are compared with the answer's; none of them reaches nginx, a shell or a metric label.
HEALTH_INT_ERROR = "argument '%s' is of type str found in 'health_check'"
HEALTH = [
    Case("health-path-crlf", {"health_check": {"path": "/h\r\nX-Injected: 1"}},
         'health_check.path: "/h\\r\\nX-Injected: 1" is not a path'),
    Case("health-path-space", {"health_check": {"path": "/a b"}}, 'health_check.path: "/a b" is not a path'),
    Case("health-path-relative", {"health_check": {"path": "health"}}, 'health_check.path: "health" is not a path'),
    Case("health-path-url", {"health_check": {"path": "http://evil/"}}, 'health_check.path: "http://evil/" is not a path'),
    Case("health-path-fragment", {"health_check": {"path": "/a#b"}}, 'health_check.path: "/a#b" is not a path'),
    Case("health-path-bad-escape", {"health_check": {"path": "/%zz"}}, 'health_check.path: "/%zz" is not a path'),
    Case("health-path-unicode", {"health_check": {"path": "/\u00e9t\u00e9"}},
         'health_check.path: "/\\u00e9t\\u00e9" is not a path'),
    Case("health-path-too-long", {"health_check": {"path": "/" + "a" * 1024}}, "health_check.path: \"/aaa"),
    Case("health-host-crlf", {"health_check": {"host": "a.com\r\nX-Injected: 1"}},
         'health_check.host: "a.com\\r\\nX-Injected: 1" is not a host name'),
    Case("health-host-directive", {"health_check": {"host": "a.com; return 200"}},
         'health_check.host: "a.com; return 200" is not a host name'),
    Case("health-host-wildcard", {"health_check": {"host": "*.a.com"}}, 'health_check.host: "*.a.com" is not a host name'),
    Case("health-host-userinfo", {"health_check": {"host": "user@a.com"}},
         'health_check.host: "user@a.com" is not a host name'),
    Case("health-host-path", {"health_check": {"host": "a.com/x"}}, 'health_check.host: "a.com/x" is not a host name'),
    Case("health-host-port-0", {"health_check": {"host": "a.com:0"}}, 'health_check.host: "a.com:0" has an invalid port'),
    Case("health-host-label-quote", {"health_check": {"host": 'a"}'}}, 'health_check.host: "a\\"}" is not a host name'),
    Case("health-host-variable", {"health_check": {"host": "$host"}}, 'health_check.host: "$host" is not a host name'),
    Case("health-status-text", {"health_check": {"status": "2xx"}}, 'health_check.status: "2xx" is not a status',
         'health_check.status[0]: "2xx" is not a status'),
    Case("health-status-reason", {"health_check": {"status": "200 OK"}}, 'health_check.status: "200 OK" is not a status',
         'health_check.status[0]: "200 OK" is not a status'),
    Case("health-status-newline", {"health_check": {"status": ["200", "301\n302"]}},
         'health_check.status[1]: "301\\n302" is not a status'),
    Case("health-status-reversed", {"health_check": {"status": "399-200"}},
         'health_check.status: "399-200" is not a status range within 100-599, lowest first',
         'health_check.status[0]: "399-200" is not a status range within 100-599, lowest first'),
    Case("health-status-600", {"health_check": {"status": [600]}},
         'health_check.status[0]: 600 is not a status range within 100-599', 'health_check.status[0]: "600" is not a status range'),
    Case("health-status-twice", {"health_check": {"status": ["200", "200"]}}, 'health_check.status[1]: "200" is listed twice'),
    Case("health-status-empty", {"health_check": {"status": []}}, "health_check.status: [] is not a status"),
    Case("health-fails-0", {"health_check": {"fails": 0}}, "health_check.fails: 0 is out of range (1-100)"),
    Case("health-passes-text", {"health_check": {"passes": "2; rm -rf /"}}, 'health_check.passes: "2; rm -rf /" is not an integer',
         HEALTH_INT_ERROR % "passes"),
    Case("health-interval-days", {"health_check": {"interval": "2d"}}, 'health_check.interval: "2d" is not a time'),
    Case("health-interval-too-short", {"health_check": {"interval": "10ms"}},
         'health_check.interval: "10ms" is out of range (100ms-3600s)'),
    Case("health-timeout-too-long", {"health_check": {"timeout": "2m"}}, 'health_check.timeout: "2m" is out of range (100ms-60s)'),
    Case("health-type-udp", {"health_check": {"type": "udp"}}, 'health_check.type: "udp" is not one of http, tcp',
         "value of type must be one of: http, tcp, got: udp found in health_check"),
    Case("health-enabled-maybe", {"health_check": {"enabled": "maybe"}}, 'health_check.enabled: "maybe" is not a boolean',
         "argument 'enabled' is of type str found in 'health_check'"),
    Case("health-type-http-on-tcp", dict(TCP, health_check={"type": "http"}),
         'health_check.type: "http" is not possible for a tcp rule'),
    Case("health-tcp-path", dict(TCP, health_check={"path": "/x"}), "health_check.path: does not apply to type tcp"),
    Case("health-tcp-status", {"health_check": {"type": "tcp", "status": ["200"]}},
         "health_check.status: does not apply to type tcp"),
    Case("health-udp", dict(UDP, health_check={"enabled": True}), "health_check: does not apply to protocol udp"),
    Case("health-unknown-option", {"health_check": {"command": "curl http://evil | sh"}},
         'health_check: unsupported field "command"'),
    Case("health-text", {"health_check": "off"}, 'health_check: "off" is a str, expected a mapping', ANSIBLE_DICT_ERROR),
]

CASES = injection_cases() + HAND_WRITTEN + PROTOCOL_TLS_REDIRECT + APPLICATION_OPTIONS + ACCESS + HEALTH
# Not passed through the module: a structure Ansible's argument parsing cannot carry (it would
# fail in the JSON encoder of the controller long before the module runs).
MODEL_ONLY = {"type-deeply-nested", "server-port-beyond-int-digits"}


# --- lb_upstream's options --------------------------------------------------------------------------

UPSTREAM_BASE = {"address": "10.0.0.1", "state": "disabled"}
# Options only the module sees (the model reads the options it knows); values Ansible's argument
# spec turns into valid ones before the module runs (float(True) is 1.0), or refuses itself
# (a missing required option; an integer too large for its float(), which raises OverflowError
# there: the module process fails before it reads the host).
UPSTREAM_MODULE_ONLY = {"unknown-option"}
UPSTREAM_MODEL_ONLY = {"timeout-bool", "address-missing", "timeout-beyond-float"}


class OptionCase:
    """lb_upstream's options (over UPSTREAM_BASE) that must be refused with ``error`` (the model)
    and ``module_error`` (through the module); ``secret`` must show nowhere."""

    def __init__(self, case_id, options, error, module_error=None, secret=None):
        self.id = case_id
        self.options = options
        self.error = error
        self.module_error = module_error or error
        self.secret = secret

    def raw(self):
        return dict(UPSTREAM_BASE, **self.options)


def upstream_injection_cases():
    """The nginx/shell payloads in the address (which goes into rule files) and in the health
    path (which goes into an HTTP request line), where they must be refused."""
    cases = []
    for index, payload in enumerate(INJECTIONS):
        address = payload.replace("web.local", "10.0.0.1")
        cases.append(OptionCase("address-inject-%d" % index, {"address": address},
                                "address: %s is not an address" % shown(address)))
        path = payload.replace("web.local", "/health")
        if re.match(r"\A/[A-Za-z0-9._~!$&'()*+,;=:@/?-]*\Z", path):
            continue  # only characters a request target may hold (";", "$"): accepted, harmless there
        cases.append(OptionCase("health-path-inject-%d" % index, {"health_path": path},
                                "health_path: %s is not a path such as /health" % shown(path)))
    return cases


RANGE_ERROR = "%s: %s is out of range (%s)"
SEVERAL = ('address: "10.0.0.1;" is not an address of the form host, host:port or [ipv6]:port; rules: [0]: "a b" is '
           "not a valid rule name (1-64 letters, digits, '-' or '_', starting with a letter or digit); timeout: %s is out "
           "of range (0.1-86400 seconds)")
UPSTREAM_CASES = upstream_injection_cases() + [
    # the address: the grammar of upstreams[].address
    OptionCase("address-url", {"address": "http://10.0.0.1/"}, 'address: "http://10.0.0.1/" is a URL'),
    OptionCase("address-unix-socket", {"address": "unix:/run/app.sock"},
               'address: "unix:/run/app.sock": nginx would read the host name \'unix\' as a UNIX socket path'),
    OptionCase("address-port-0", {"address": "10.0.0.1:0"}, 'address: "10.0.0.1:0" has an invalid port (1-65535)'),
    OptionCase("address-port-huge", {"address": "10.0.0.1:65536"}, 'address: "10.0.0.1:65536" has an invalid port'),
    OptionCase("address-path", {"address": "10.0.0.1/admin"}, 'address: "10.0.0.1/admin" is not an address'),
    OptionCase("address-scoped-ipv6", {"address": "[fe80::1%eth0]:80"},
               'address: "[fe80::1%eth0]:80": scoped IPv6 addresses are not supported'),
    OptionCase("address-dict", {"address": {"host": "10.0.0.1"}},
               'address: {"host": "10.0.0.1"} is a dict, expected an address',
               "address: \"{'host': '10.0.0.1'}\" is not an address"),
    OptionCase("address-list", {"address": ["10.0.0.1", "10.0.0.2"]},
               'address: ["10.0.0.1", "10.0.0.2"] is a list, expected an address',
               "address: \"['10.0.0.1', '10.0.0.2']\" is not a valid IPv6 address"),
    OptionCase("address-missing", {"address": None}, "address: null is a NoneType, expected an address"),
    OptionCase("address-key", {"address": KEY}, "address: <str holding a private key, not shown> is not an address",
               secret=SECRET),
    # state
    OptionCase("state-up", {"state": "up"}, 'state: "up" is not one of enabled, disabled',
               "value of state must be one of: enabled, disabled, got: up"),
    OptionCase("state-case", {"state": "Disabled"}, 'state: "Disabled" is not one of',
               "value of state must be one of: enabled, disabled, got: Disabled"),
    OptionCase("state-inject", {"state": "disabled; rm -rf /"}, 'state: "disabled; rm -rf /" is not one of',
               "value of state must be one of: enabled, disabled, got: disabled; rm -rf /"),
    OptionCase("state-bool", {"state": False}, "state: false is not one of", "value of state must be one of"),
    # rules: names of rule files
    OptionCase("rules-traversal", {"rules": ["../../etc/passwd"]},
               'rules: [0]: "../../etc/passwd" is not a valid rule name'),
    OptionCase("rules-empty", {"rules": []}, "rules: the list is empty; leave rules out to mean every rule"),
    OptionCase("rules-twice", {"rules": ["web", "web"]}, 'rules: [1]: "web" is listed twice'),
    OptionCase("rules-inject", {"rules": ["web; include /etc/shadow"]},
               'rules: [0]: "web; include /etc/shadow" is not a valid rule name'),
    OptionCase("rules-file-name", {"rules": ["web.conf"]}, 'rules: [0]: "web.conf" is not a valid rule name'),
    OptionCase("rules-dict", {"rules": {"web": 1}}, 'rules: {"web": 1} is a dict, expected a list of rule names',
               "argument 'rules' is of type dict and we were unable to convert to list"),
    OptionCase("rules-comma-string", {"rules": "web,../x"}, 'rules: [0]: "web,../x" is not a valid rule name',
               'rules: [1]: "../x" is not a valid rule name'),
    OptionCase("rules-number-item", {"rules": [7, {"a": 1}]}, "rules: [0]: 7 is not a valid rule name",
               "rules: [1]: \"{'a': 1}\" is not a valid rule name"),
    # numbers of seconds
    OptionCase("timeout-zero", {"timeout": 0}, RANGE_ERROR % ("timeout", "0", "0.1-86400 seconds"),
               RANGE_ERROR % ("timeout", "0.0", "0.1-86400 seconds")),
    OptionCase("timeout-negative", {"timeout": -5}, RANGE_ERROR % ("timeout", "-5", "0.1-86400 seconds"),
               RANGE_ERROR % ("timeout", "-5.0", "0.1-86400 seconds")),
    OptionCase("timeout-huge", {"timeout": 10 ** 6}, RANGE_ERROR % ("timeout", "1000000", "0.1-86400 seconds"),
               RANGE_ERROR % ("timeout", "1000000.0", "0.1-86400 seconds")),
    OptionCase("timeout-beyond-float", {"timeout": 10 ** 400}, "timeout: %s is out of range" % show(10 ** 400)),
    OptionCase("timeout-nan", {"timeout": "nan"}, 'timeout: "nan" is not a number of seconds',
               RANGE_ERROR % ("timeout", "NaN", "0.1-86400 seconds")),
    OptionCase("timeout-inf", {"timeout": "inf"}, 'timeout: "inf" is not a number of seconds',
               RANGE_ERROR % ("timeout", "Infinity", "0.1-86400 seconds")),
    OptionCase("timeout-unit", {"timeout": "5s"}, 'timeout: "5s" is not a number of seconds',
               "argument 'timeout' is of type str and we were unable to convert to float"),
    OptionCase("timeout-inject", {"timeout": "5; x"}, 'timeout: "5; x" is not a number of seconds',
               "argument 'timeout' is of type str and we were unable to convert to float"),
    OptionCase("timeout-list", {"timeout": [5]}, "timeout: [5] is a list, expected a number of seconds",
               "argument 'timeout' is of type list and we were unable to convert to float"),
    OptionCase("timeout-bool", {"timeout": True}, "timeout: true is a boolean, expected a number of seconds"),
    OptionCase("interval-tiny", {"health_interval": 0.01}, RANGE_ERROR % ("health_interval", "0.01", "0.1-3600 seconds")),
    OptionCase("interval-day", {"health_interval": 86400}, RANGE_ERROR % ("health_interval", "86400", "0.1-3600 seconds"),
               RANGE_ERROR % ("health_interval", "86400.0", "0.1-3600 seconds")),
    # how many passes in a row
    OptionCase("healthy-after-0", {"healthy_after": 0}, RANGE_ERROR % ("healthy_after", "0", "1-100")),
    OptionCase("healthy-after-huge", {"healthy_after": 10 ** 9}, RANGE_ERROR % ("healthy_after", "1000000000", "1-100")),
    OptionCase("healthy-after-inject", {"healthy_after": "3; x"}, 'healthy_after: "3; x" is not an integer',
               "argument 'healthy_after' is of type str and we were unable to convert to int"),
    OptionCase("healthy-after-bool", {"healthy_after": True}, "healthy_after: true is a boolean, expected an integer"),
    OptionCase("healthy-after-fraction", {"healthy_after": 2.5}, "healthy_after: 2.5 is not an integer",
               "argument 'healthy_after' is of type float and we were unable to convert to int"),
    # the health check's request: the path goes into the request line
    OptionCase("health-path-crlf", {"health_path": "/health\r\nHost: evil"},
               'health_path: "/health\\r\\nHost: evil" is not a path such as /health'),
    OptionCase("health-path-request-line", {"health_path": "/ HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET /"},
               'health_path: "/ HTTP/1.1\\r\\nX-Evil: 1\\r\\n\\r\\nGET /" is not a path'),
    OptionCase("health-path-relative", {"health_path": "health"}, 'health_path: "health" is not a path'),
    OptionCase("health-path-url", {"health_path": "http://10.0.0.9/health"}, 'health_path: "http://10.0.0.9/health" is not'),
    OptionCase("health-path-unicode", {"health_path": "/sant\u00e9"}, 'health_path: "/sant\\u00e9" is not a path'),
    OptionCase("health-path-nul", {"health_path": "/a\x00"}, 'health_path: "/a\\u0000" is not a path'),
    OptionCase("health-path-bad-percent", {"health_path": "/a%zz"}, 'health_path: "/a%zz" is not a path'),
    OptionCase("health-path-fragment", {"health_path": "/a#b"}, 'health_path: "/a#b" is not a path'),
    OptionCase("health-path-too-long", {"health_path": "/" + "a" * 1024},
               'health_path: "/%s...(1027 characters) is not a path' % ("a" * 78)),
    OptionCase("health-path-dict", {"health_path": {"p": 1}}, 'health_path: {"p": 1} is a dict, expected a path',
               "health_path: \"{'p': 1}\" is not a path"),
    OptionCase("health-path-key", {"health_path": KEY},
               "health_path: <str holding a private key, not shown> is not a path", secret=SECRET),
    # statuses that pass
    OptionCase("status-word", {"health_status": ["ok"]}, 'health_status: [0]: "ok" is not a status'),
    OptionCase("status-reversed", {"health_status": ["399-200"]},
               'health_status: [0]: "399-200" is not a status range within 100-599, lowest first'),
    OptionCase("status-beyond", {"health_status": ["200-600"]}, 'health_status: [0]: "200-600" is not a status range'),
    OptionCase("status-inject", {"health_status": ["200; x"]}, 'health_status: [0]: "200; x" is not a status'),
    OptionCase("status-empty", {"health_status": []}, "health_status: [] is not a status (200), a range (200-399) or"),
    OptionCase("status-comma-string", {"health_status": "200,abc"}, 'health_status: "200,abc" is not a status',
               'health_status: [1]: "abc" is not a status'),
    OptionCase("status-bool", {"health_status": [True]}, "health_status: [0]: true is not a status",
               'health_status: [0]: "True" is not a status'),
    # switches
    OptionCase("wait-maybe", {"wait_drained": "maybe"}, 'wait_drained: "maybe" is not a boolean',
               "argument 'wait_drained' is of type str and we were unable to convert to bool"),
    OptionCase("allow-missing-2", {"allow_missing": 2}, "allow_missing: 2 is not a boolean",
               "argument 'allow_missing' is of type int and we were unable to convert to bool"),
    OptionCase("health-check-inject", {"health_check": "yes; x"}, 'health_check: "yes; x" is not a boolean',
               "argument 'health_check' is of type str and we were unable to convert to bool"),
    # several at once: every one named
    OptionCase("several", {"address": "10.0.0.1;", "timeout": -1, "rules": ["a b"]}, SEVERAL % "-1",
               SEVERAL % "-1.0"),
    OptionCase("unknown-option", {"port": 80}, "", "Unsupported parameters for"),
]
