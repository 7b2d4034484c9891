# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Field-level parsing of rule values.

Every function takes a raw value as it may come from a playbook, inventory or extra-vars
(strings, numbers, booleans, or something of the wrong type) and returns the canonical value,
or raises FieldError naming what is wrong with it. Nothing here knows about rules as a whole.

Whatever passes these functions is safe to place in nginx configuration text: host names,
addresses and times are checked against strict grammars that contain none of nginx's
syntax characters (whitespace, quotes, ``;``, ``{``, ``}``, ``$``, ``#``, ``\\``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re

try:
    from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE
except ImportError:
    # The health agent runs this code on the antsle host, where Ansible need not be installed
    # (health/install.py): the same spellings (a unit test keeps them equal to Ansible's).
    BOOLEANS_TRUE = frozenset(("y", "yes", "on", "1", "true", "t", 1, 1.0, True))
    BOOLEANS_FALSE = frozenset(("n", "no", "off", "0", "false", "f", 0, 0.0, False))

NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
LABEL_RE = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
DIGITS_RE = re.compile(r"\A[0-9]+\Z")
TIME_RE = re.compile(r"\A([0-9]{1,9})(ms|s|m|h)?\Z")
DECIMAL_SECONDS_RE = re.compile(r"\A([0-9]{1,9})\.([0-9]{1,3})\Z")
TIME_MAX_NUMBER = 10 ** 9  # TIME_RE takes at most 9 digits; larger numbers are refused before str()
TIME_UNITS_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, None: 1000}
MAX_SHOWN = 80
# In the header line of every PEM private key ("-----BEGIN [RSA |EC |ENCRYPTED ]PRIVATE KEY-----").
PRIVATE_KEY_MARK = "PRIVATE KEY-----"
# nginx reads an upstream address that starts with "unix:" as a UNIX socket path, whatever follows.
UNIX_SOCKET_HOST = "unix"


class FieldError(ValueError):
    """A value that is not acceptable for its field. The message describes the value."""


class OutOfRange(FieldError):
    """A value of the right kind beyond the field's bounds; ``nearest`` is the bound it passed, in
    canonical form (importing existing configuration clamps to it, with a note)."""

    def __init__(self, message, nearest):
        super(OutOfRange, self).__init__(message)
        self.nearest = nearest


def rule_label(name):
    """How every message names a rule: ``rule 'web'`` (names are validated: they hold no quote)."""
    return "rule '%s'" % name


def show(value):
    """A printable, single-line, bounded rendering of a bad value for error messages. A value that
    holds a PEM private key (given in the wrong field, say) is described, never shown."""
    try:
        text = json.dumps(value, ensure_ascii=True, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        try:
            text = repr(value)
        except (ValueError, RecursionError):
            # an integer beyond Python's digit limit, or a structure nested deeper than the stack
            text = "<%s too large or too deeply nested to show>" % type(value).__name__
    if PRIVATE_KEY_MARK in text:
        return "<%s holding a private key, not shown>" % type(value).__name__
    if len(text) > MAX_SHOWN:
        text = text[:MAX_SHOWN] + "...(%d characters)" % len(text)
    return text


def parse_int(value, minimum, maximum):
    """An integer in [minimum, maximum]; numeric strings and integral floats are accepted as
    Ansible's own ``type: int`` accepts them, booleans are not."""
    if isinstance(value, bool):
        raise FieldError("%s is a boolean, expected an integer" % show(value))
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldError("%s is not an integer" % show(value))
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not DIGITS_RE.match(text[1:] if text.startswith("-") else text) or len(text) > 20:
            raise FieldError("%s is not an integer" % show(value))
        value = int(text)
    elif not isinstance(value, int):
        raise FieldError("%s is a %s, expected an integer" % (show(value), type(value).__name__))
    if value < minimum or value > maximum:
        raise OutOfRange("%s is out of range (%d-%d)" % (show(value), minimum, maximum), min(max(value, minimum), maximum))
    return value


def parse_bool(value):
    """A boolean, accepting the spellings Ansible accepts (yes/no, true/false, on/off, 1/0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int)) and not isinstance(value, float):
        key = value.lower() if isinstance(value, str) else value
        if key in BOOLEANS_TRUE:
            return True
        if key in BOOLEANS_FALSE:
            return False
    raise FieldError("%s is not a boolean" % show(value))


def parse_choice(value, choices):
    if not isinstance(value, str) or value not in choices:
        raise FieldError("%s is not one of %s" % (show(value), ", ".join(choices)))
    return value


def parse_name(value):
    """A rule name: it becomes a file name and part of nginx identifiers."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise FieldError(
            "%s is not a valid rule name (1-64 letters, digits, '-' or '_', starting with a letter or digit)"
            % show(value))
    return value


def is_hostname(text):
    """RFC 1123 host name, lowercase, at most 253 characters; the last label is not all digits
    (so a malformed IPv4 address is never taken for a host name)."""
    if not text or len(text) > 253:
        return False
    labels = text.split(".")
    if not all(LABEL_RE.match(label) for label in labels):
        return False
    return not DIGITS_RE.match(labels[-1])


def is_ipv4(text):
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def parse_server_name(value):
    """One server name: a host name, ``*.domain``, ``name.*`` or an IPv4 address. Lowercased."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected a host name" % (show(value), type(value).__name__))
    problem = "%s is not a host name, a wildcard (*.example.com, www.example.*) or an IPv4 address" % show(value)
    # ASCII is checked before lowercasing: "\u212a".lower() is "k", a homograph must not pass.
    if not value.isascii():
        raise FieldError(problem)
    text = value.lower()
    if is_hostname(text) or is_ipv4(text):
        return text
    if text.startswith("*.") and is_hostname(text[2:]):
        return text
    if text.endswith(".*") and is_hostname(text[:-2]) and not is_ipv4(text[:-2]):
        return text
    raise FieldError(problem)


def parse_distinct(items, parse_item, key=None, show_canonical=False):
    """Each of ``items`` through ``parse_item`` (a FieldError is prefixed with the item's index);
    an item whose ``key`` (default: its parsed value) an earlier item had is refused as listed
    twice (``show_canonical``: naming the parsed value too). The parsed values, in order."""
    parsed, seen = [], []
    for index, item in enumerate(items):
        try:
            value = parse_item(item)
        except FieldError as error:
            raise FieldError("[%d]: %s" % (index, error))
        identity = key(value) if key else value
        if identity in seen:
            raise FieldError("[%d]: %s is listed twice%s" % (index, show(item), " (as %s)" % value if show_canonical else ""))
        seen.append(identity)
        parsed.append(value)
    return parsed


def parse_server_names(value):
    """A server name or a list of them, canonical: a list, lowercase, order kept, no duplicates."""
    if isinstance(value, str):
        return [parse_server_name(value)]
    items = value
    if not isinstance(items, (list, tuple)):
        raise FieldError("%s is a %s, expected a host name or a list of them" % (show(value), type(value).__name__))
    if not items:
        raise FieldError("the list is empty, give at least one host name")
    return parse_distinct(items, parse_server_name)


def parse_port(text, original):
    if not DIGITS_RE.match(text) or len(text) > 5 or not 1 <= int(text) <= 65535:
        raise FieldError("%s has an invalid port (1-65535)" % show(original))
    return int(text)


def parse_address(value, default_port=80):
    """An upstream address: ``host``, ``host:port``, ``a.b.c.d[:port]``, ``[v6][:port]`` or a bare
    IPv6 address. Canonical form always carries the port: ``host:port`` / ``[v6]:port``."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected an address such as 10.1.1.102:80" % (show(value), type(value).__name__))
    problem = "%s is not an address of the form host, host:port or [ipv6]:port" % show(value)
    if not value.isascii():
        raise FieldError(problem)
    text = value.lower()
    if "://" in text:
        raise FieldError("%s is a URL; give host:port without a scheme, such as 10.1.1.102:80" % show(value))
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise FieldError(problem)
        port = parse_port(rest[1:], value) if rest else default_port
        return "[%s]:%d" % (parse_ipv6(host, value), port)
    if text.count(":") >= 2:
        return "[%s]:%d" % (parse_ipv6(text, value), default_port)
    host, sep, port_text = text.partition(":")
    if host == UNIX_SOCKET_HOST:
        raise FieldError("%s: nginx would read the host name 'unix' as a UNIX socket path; UNIX sockets are not "
                         "supported, use an IP address or another host name" % show(value))
    if not (is_ipv4(host) or is_hostname(host)):
        raise FieldError(problem)
    port = parse_port(port_text, value) if sep else default_port
    return "%s:%d" % (host, port)


def parse_ipv6(text, original):
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise FieldError("%s is not a valid IPv6 address" % show(original))
    if address.scope_id:
        raise FieldError("%s: scoped IPv6 addresses are not supported" % show(original))
    return address.compressed


def parse_time_ms(value, minimum_ms, maximum_ms):
    """An nginx time: ``500ms``, ``5s``, ``1m``, ``1h``; a bare number means seconds (decimals allowed
    down to milliseconds). Returns milliseconds."""
    if isinstance(value, bool):
        raise FieldError("%s is a boolean, expected a time such as 5s" % show(value))
    if isinstance(value, int) and abs(value) > TIME_MAX_NUMBER:
        raise OutOfRange("%s is out of range (%s-%s)" % (show(value), format_time(minimum_ms), format_time(maximum_ms)),
                         maximum_ms if value > 0 else minimum_ms)
    if isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected a time such as 5s" % (show(value), type(value).__name__))
    text = value.strip()
    match = TIME_RE.match(text)
    decimal = DECIMAL_SECONDS_RE.match(text)
    if match:
        milliseconds = int(match.group(1)) * TIME_UNITS_MS[match.group(2)]
    elif decimal:
        milliseconds = int(decimal.group(1)) * 1000 + int(decimal.group(2).ljust(3, "0"))
    else:
        raise FieldError("%s is not a time (examples: 500ms, 5s, 1m)" % show(value))
    if not minimum_ms <= milliseconds <= maximum_ms:
        raise OutOfRange("%s is out of range (%s-%s)" % (show(value), format_time(minimum_ms), format_time(maximum_ms)),
                         min(max(milliseconds, minimum_ms), maximum_ms))
    return milliseconds


def format_time(milliseconds):
    """Canonical nginx time text for a number of milliseconds."""
    if milliseconds % 1000:
        return "%dms" % milliseconds
    return "%ds" % (milliseconds // 1000)


def parse_time(value, minimum_ms, maximum_ms, whole_seconds=False):
    try:
        milliseconds = parse_time_ms(value, minimum_ms, maximum_ms)
    except OutOfRange as error:
        error.nearest = format_time(error.nearest)
        raise
    if whole_seconds and milliseconds % 1000:
        raise FieldError("%s must be a whole number of seconds" % show(value))
    return format_time(milliseconds)


SIZE_RE = re.compile(r"\A([0-9]{1,12})([kKmMgG]?)\Z")
SIZE_UNITS = (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10))


def parse_size(value, maximum):
    """An nginx size: bytes, or a number with ``k``, ``m`` or ``g`` (any case), at most ``maximum``
    bytes. Canonical form: the largest unit that divides it exactly (``1024k`` -> ``1m``), ``0`` for 0."""
    if isinstance(value, bool):
        raise FieldError("%s is a boolean, expected a size such as 200m" % show(value))
    if isinstance(value, int) and not 0 <= value <= maximum:
        raise FieldError("%s is out of range (0-%s)" % (show(value), format_size(maximum)))
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected a size such as 200m" % (show(value), type(value).__name__))
    match = SIZE_RE.match(value.strip())
    if not match:
        raise FieldError("%s is not a size (examples: 0, 512k, 200m, 1g)" % show(value))
    size = int(match.group(1)) * dict(SIZE_UNITS).get(match.group(2).lower(), 1)
    if size > maximum:
        raise FieldError("%s is out of range (0-%s)" % (show(value), format_size(maximum)))
    return format_size(size)


def format_size(size):
    """Canonical nginx size text for a number of bytes."""
    for unit, factor in SIZE_UNITS:
        if size and size % factor == 0:
            return "%d%s" % (size // factor, unit)
    return "%d" % size


NGINX_VERSION_RE = re.compile(r"\A([0-9]{1,4})\.([0-9]{1,4})(?:\.([0-9]{1,4}))?\Z")


def parse_nginx_version(value):
    """An nginx version, ``1.22.1`` or ``1.25``, as a tuple (1, 22, 1) / (1, 25, 0)."""
    match = NGINX_VERSION_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise FieldError("%s is not an nginx version such as 1.22.1" % show(value))
    return tuple(int(part or 0) for part in match.groups())


# The one grammar of file paths the collection writes into nginx's configuration or gives to a module
# (rule files, certificates, the role's drop-in and directories, include lines): plain characters
# only, so a path never needs quoting in nginx; "*" only where nginx reads a glob (include).
PATH_RE = re.compile(r"\A(/[A-Za-z0-9._+@-]+)+\Z")
GLOB_PATH_RE = re.compile(r"\A(/[A-Za-z0-9._+@*-]+)+\Z")
CERTIFICATE_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")
KEY_RE = re.compile(r"-----BEGIN (RSA |EC )?PRIVATE KEY-----\s[A-Za-z0-9+/=\s]+-----END (RSA |EC )?PRIVATE KEY-----")
SHA256_RE = re.compile(r"\A[0-9a-f]{64}\Z")
TLS_PROTOCOLS = ("TLSv1.2", "TLSv1.3")


def parse_path(value, glob=False):
    """An absolute file path on the host, of plain characters (it is written into nginx config);
    ``glob``: a pattern nginx's ``include`` expands, which may hold ``*`` too."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected an absolute path" % (show(value), type(value).__name__))
    components = value.split("/")[1:]
    if len(value) > 4096 or not (GLOB_PATH_RE if glob else PATH_RE).match(value) or any(c in (".", "..") for c in components):
        raise FieldError("%s is not an absolute path of letters, digits and . _ - + @%s (without . or .. components)"
                         % (show(value), " *" if glob else ""))
    return value


def parse_listen(value, what="an ADDRESS:PORT (10.1.1.2:9146, 0.0.0.0:9146, [::]:9146)"):
    """An IP ``ADDRESS:PORT`` to listen on (an IPv6 address in brackets, as nginx's ``listen``
    wants it). Returns (ipaddress address, port)."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected %s" % (show(value), type(value).__name__, what))
    host, _sep, port = value.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    try:
        address = ipaddress.ip_address(host[1:-1] if bracketed else host)
        port = parse_int(port, 1, 65535)
    except (ValueError, FieldError):
        address = None
    if address is None or (address.version == 6) != bracketed or "%" in host:
        raise FieldError("%s is not %s" % (show(value), what))
    return address, port


def parse_loopback_listen(value):
    """A loopback ``ADDRESS:PORT`` nginx can listen on and a local client can ask: ``127.0.0.1:8081``,
    ``[::1]:8081`` (an IPv6 address in brackets, as nginx's ``listen`` wants it). Returns (address
    without brackets, port)."""
    address, port = parse_listen(value, "a loopback ADDRESS:PORT (127.0.0.1:8081, [::1]:8081)")
    if not address.is_loopback:
        raise FieldError("%s is not a loopback address (only local clients may ask it)" % show(value))
    return str(address), port


def parse_pem(value, kind):
    """PEM text of a certificate (``kind='certificate'``) or an unencrypted private key (``'key'``),
    returned as bytes. Messages never show the value: it may be a secret."""
    pattern = CERTIFICATE_RE if kind == "certificate" else KEY_RE
    if not isinstance(value, str) or not value.isascii() or not pattern.search(value):
        what = "a PEM certificate" if kind == "certificate" else "an unencrypted PEM private key"
        raise FieldError("is not %s (content not shown)" % what)
    if kind == "certificate" and PRIVATE_KEY_MARK in value:
        # the certificate file is world-readable (0644): a key in it would be too
        raise FieldError("holds a private key (content not shown); give the key as key_content only")
    return value.encode("ascii")


def parse_sha256(value):
    if not isinstance(value, str) or not SHA256_RE.match(value):
        raise FieldError("%s is not a sha256 hex digest" % show(value))
    return value


def parse_tls_protocols(value):
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise FieldError("%s is not a non-empty list of %s" % (show(value), ", ".join(TLS_PROTOCOLS)))
    for item in items:
        if item not in TLS_PROTOCOLS:
            raise FieldError("%s is not one of %s" % (show(item), ", ".join(TLS_PROTOCOLS)))
    return [p for p in TLS_PROTOCOLS if p in items]


# Longest list of addresses one rule may give (allow_from, real_ip_from): one nginx line each.
MAX_CIDRS = 1024


def parse_cidr(value):
    """An IPv4 or IPv6 address or network (``10.1.1.0/24``, ``2001:db8::/32``, ``127.0.0.2``).

    Canonical form: the address alone for a single host (``/32``, ``/128``), else ``network/prefix``
    with IPv6 compressed. A network with host bits set (``10.1.1.7/24``) is refused rather than
    silently widened or narrowed: the error names the network that was probably meant."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected an IP address or CIDR such as 10.1.1.0/24" % (show(value), type(value).__name__))
    # ipaddress accepts a few spellings nginx does not read the same way (leading zeros are
    # refused by it since Python 3.9.5; scope ids, whitespace): only these characters pass.
    if not value.isascii() or not CIDR_RE.match(value):
        raise FieldError("%s is not an IP address or CIDR (examples: 10.1.1.0/24, 127.0.0.2, 2001:db8::/32)" % show(value))
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise FieldError("%s is not an IP address or CIDR (examples: 10.1.1.0/24, 127.0.0.2, 2001:db8::/32)" % show(value))
    address = value.partition("/")[0]
    if ipaddress.ip_address(address) != network.network_address:
        raise FieldError("%s has host bits set; the network is %s (or give the single address %s)"
                         % (show(value), network.compressed, ipaddress.ip_address(address).compressed))
    if network.prefixlen == network.max_prefixlen:
        return network.network_address.compressed
    return network.compressed


CIDR_RE = re.compile(r"\A[0-9A-Fa-f.:]{2,39}(/[0-9]{1,3})?\Z")


def parse_cidr_list(value):
    """A list of addresses and networks (``parse_cidr``), canonical, order kept, no duplicates."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise FieldError("%s is a %s, expected a list of IP addresses or CIDRs" % (show(value), type(value).__name__))
    if not items:
        raise FieldError("the list is empty; give at least one address, or leave the field out")
    if len(items) > MAX_CIDRS:
        raise FieldError("%d entries, at most %d are supported" % (len(items), MAX_CIDRS))
    return parse_distinct(items, parse_cidr, show_canonical=True)


# --- what a health check sends (lb_upstream's check, a rule's health_check) -----------------------

MAX_HTTP_PATH = 1024
# An origin-form request target (RFC 9112 3.2.1): "/" then path and query characters (RFC 3986
# pchar, "/" and "?"); "%" only as a percent-encoding. Nothing that could end the request line
# (space, CR, LF) or start a fragment.
HTTP_PATH_RE = re.compile(r"\A/(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*\Z")
STATUS_RE = re.compile(r"\A([0-9]{3})(?:-([0-9]{3}))?\Z")
STATUS_RANGE = (100, 599)


def parse_http_path(value):
    """The path (and query) of a health check's GET: ``/health``, ``/status?full=1``. It goes
    into the request line, so it is ASCII without spaces or line breaks, percent-encoded."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected a path such as /health" % (show(value), type(value).__name__))
    if len(value) > MAX_HTTP_PATH or not HTTP_PATH_RE.match(value):
        raise FieldError("%s is not a path such as /health (it starts with /; letters, digits and - . _ ~ ! $ & ' ( ) "
                         "* + , ; = : @ / ?, other characters percent-encoded; at most %d characters)"
                         % (show(value), MAX_HTTP_PATH))
    return value


def _status_text(item):
    """The text of one status item, or None when it cannot be one (a boolean, a list, an integer
    too long for a status, which str() of a huge integer would not even survive)."""
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        return None
    if isinstance(item, int):
        return str(item) if 0 <= item < 1000 else None
    return item.strip()


def parse_status_ranges(value):
    """HTTP statuses that pass a health check: ``200``, ``"200-399"``, or a list of them.
    Returns the canonical list of (lowest, highest) ranges, in the order given."""
    items = [value] if isinstance(value, (str, int)) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise FieldError("%s is not a status (200), a range (200-399) or a non-empty list of them" % show(value))
    ranges = []
    for index, item in enumerate(items):
        where = "[%d]: " % index if len(items) > 1 or not isinstance(value, (str, int)) else ""
        text = _status_text(item)
        match = STATUS_RE.match(text) if text is not None else None
        if not match:
            raise FieldError("%s%s is not a status (200) or a range of them (200-399)" % (where, show(item)))
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        if not STATUS_RANGE[0] <= low <= high <= STATUS_RANGE[1]:
            raise FieldError("%s%s is not a status range within %d-%d, lowest first" % ((where, show(item)) + STATUS_RANGE))
        ranges.append((low, high))
    return ranges


def format_status_range(low, high):
    return "%d" % low if low == high else "%d-%d" % (low, high)


def format_status_ranges(ranges):
    return ", ".join(format_status_range(low, high) for low, high in ranges)


def parse_host_header(value):
    """A ``Host`` header a health check sends: a host name, an IPv4 address or a bracketed IPv6
    address, with an optional port. Canonical: lowercase, IPv6 compressed."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected a host name such as app.example.com" % (show(value), type(value).__name__))
    problem = "%s is not a host name, an IPv4 address or [IPv6] address, with an optional :port" % show(value)
    if not value.isascii() or len(value) > 261:
        raise FieldError(problem)
    text = value.lower()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise FieldError(problem)
        canonical = "[%s]" % parse_ipv6(host, value)
        return canonical + (":%d" % parse_port(rest[1:], value) if rest else "")
    host, sep, port = text.partition(":")
    if not (is_hostname(host) or is_ipv4(host)):
        raise FieldError(problem)
    return host + (":%d" % parse_port(port, value) if sep else "")
