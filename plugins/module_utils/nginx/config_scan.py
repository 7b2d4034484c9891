# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small scanner of nginx configuration files, for the facts the modules need on the host:
where ``include`` directives point (per context) and how many servers nginx has read at each,
the ``pid``, ``error_log`` and ``user`` of the main context, and the host's own http level: its
server blocks (listens, default servers, names, in nginx's reading order), the names it defines
(log formats, upstreams, zones, variables) and its settings.

It runs on the managed host, where no nginx parser library can be assumed, so it is kept to the
lexical rules of nginx's own ``ngx_conf_file.c``: words, single and double quoted strings with
backslash escapes, ``#`` comments, and ``;`` ``{`` ``}``. It does not interpret anything else.
(Importing existing configuration, where real parsing matters, uses crossplane: see config_import.py.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import fnmatch
import glob
import os
import re

NEWLINE_RE = re.compile("\n")
SPECIALS = ";{}"
MAX_INCLUDE_DEPTH = 16


def tokens(text):
    """Yield nginx tokens as (kind, value, start, end): words and strings as kind 'word', and ';',
    '{', '}' as themselves; ``start``/``end`` are offsets in ``text``."""
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
        elif char == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif char in SPECIALS:
            yield char, char, index, index + 1
            index += 1
        elif char in "\"'":
            start = index
            value, index = _quoted(text, index)
            yield "word", value, start, index
        else:
            start = index
            while index < length and not text[index].isspace() and text[index] not in ";{}":
                # "${name}" is a variable inside a word, not a block.
                if text[index] == "$" and index + 1 < length and text[index + 1] == "{":
                    close = text.find("}", index)
                    index = length if close < 0 else close + 1
                    continue
                index += 1
            yield "word", text[start:index], start, index


def tokenize(text):
    """Yield nginx tokens: words/strings as ('word', value), and ';', '{', '}' as themselves."""
    for kind, value, _start, _end in tokens(text):
        yield kind, value


def block_span(text, name):
    """(offset just after the ``{``, offset of the matching ``}``) of the first top-level block
    ``name`` (``http``) in ``text``, or None if there is none (or it is not closed)."""
    depth, words, opening = 0, [], None
    for kind, value, start, end in tokens(text):
        if kind == "word":
            words.append(value)
            continue
        if kind == "{":
            if depth == 0 and opening is None and words == [name]:
                opening = end
            depth += 1
        elif kind == "}":
            depth = max(depth - 1, 0)
            if depth == 0 and opening is not None:
                return opening, start
        words = []
    return None


def block_opening(text, name):
    """The offset just after the ``{`` of the first top-level block ``name`` (``http``) in ``text``,
    or None if there is none."""
    span = block_span(text, name)
    return span[0] if span else None


ESCAPES = {"\"": "\"", "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


def _quoted(text, index):
    """A quoted string as nginx reads it: \\" \\' \\\\ \\t \\r \\n are escapes, any other backslash
    stays (``"~^a\\.example$"`` is the regular expression ``~^a\\.example$``)."""
    quote, chars = text[index], []
    index += 1
    while index < len(text) and text[index] != quote:
        if text[index] == "\\" and index + 1 < len(text):
            escaped = ESCAPES.get(text[index + 1])
            chars.append(escaped if escaped is not None else "\\" + text[index + 1])
            index += 2
            continue
        chars.append(text[index])
        index += 1
    return "".join(chars), index + 1


class Listen:
    """One ``listen`` of a server block: its address (``*`` for every address), port and flags."""

    def __init__(self, address, port, default=False, ssl=False):
        self.address = address
        self.port = port
        self.default = default
        self.ssl = ssl


class ServerBlock:
    """An http-level ``server { }``: where it is, its place in nginx's reading order, its listens
    and names (``listen *:80`` when it has none, as nginx does for a master run by root)."""

    def __init__(self, path, line, order):
        self.path = path
        self.line = line
        self.order = order
        self.listens = []
        self.names = []

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)

    def ports(self):
        return sorted(set(listen.port for listen in self.listens))


class IncludeSite:
    """One ``include`` directive: its context, absolute pattern, where it is, and how many http
    servers nginx has read before it (``before``), before each file it matches, and after them."""

    def __init__(self, context, pattern, path, line, before):
        self.context = context
        self.pattern = pattern
        self.path = path
        self.line = line
        self.before = before
        self.matches = []  # (file, servers read before it)
        self.after = before

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)


class Definition:
    """A name the configuration defines at http level: a ``log_format``, an ``upstream``, a shared
    memory ``zone`` (upstream zones, limit_req/limit_conn zones, cache keys zones) or a ``variable``
    (map, geo, split_clients)."""

    def __init__(self, kind, name, path, line):
        self.kind = kind
        self.name = name
        self.path = path
        self.line = line

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)


ZONE_PARAMETERS = {"limit_req_zone": "zone=", "limit_conn_zone": "zone=", "proxy_cache_path": "keys_zone=",
                   "fastcgi_cache_path": "keys_zone=", "uwsgi_cache_path": "keys_zone=", "scgi_cache_path": "keys_zone="}
VARIABLE_BLOCKS = ("map", "geo", "split_clients")
DEFAULT_FLAGS = ("default_server", "default")


def parse_listen(args):
    """A Listen from the arguments of ``listen``, or None for a UNIX socket."""
    address = args[0] if args else "80"
    if address.startswith("unix:"):
        return None
    host, port = "*", address
    if address.startswith("["):
        host, _sep, rest = address.partition("]")
        host, port = host + "]", rest[1:] if rest.startswith(":") else "80"
    elif ":" in address:
        host, _sep, port = address.rpartition(":")
    elif not address.isdigit():
        host, port = address, "80"
    if not port.isdigit():
        return None
    if host in ("0.0.0.0", "[::]", "*"):
        host = "*" if host != "[::]" else "[::]"
    return Listen(host, int(port), any(flag in args[1:] for flag in DEFAULT_FLAGS), "ssl" in args[1:])


class ConfScan:
    """Facts from a main nginx configuration file and everything it includes, in nginx's reading
    order: include directives (per context), the main-context directives, the http-level server
    blocks with their listens and names, the names defined at http level and the http-level
    settings (first occurrence)."""

    def __init__(self, conf_path, skip_dirs=()):
        self.conf_path = os.path.abspath(conf_path)
        self.skip_dirs = set()
        for directory in skip_dirs:
            self.skip_dirs.update([os.path.normpath(os.path.abspath(directory)), os.path.realpath(directory)])
        self.prefix = os.path.dirname(self.conf_path)
        self.includes = []  # (context tuple such as ('http',), absolute pattern)
        self.include_sites = []  # IncludeSite, in reading order
        self.main = {}  # main-context directive name -> first argument list
        self.servers = []  # ServerBlock at http level, in reading order
        self.definitions = []  # Definition at http level
        self.http_settings = {}  # http-level directive name -> (arguments, file, line) of its first occurrence
        self.http_end = None  # servers read when the main file's http block closes (where an include line goes)
        self._server = None
        self._scan_file(self.conf_path, (), 0)

    def _resolve(self, path):
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(self.prefix, path))

    def _scan_file(self, path, context, depth):
        if depth > MAX_INCLUDE_DEPTH:
            return
        with open(path, "rb") as handle:
            # nginx reads bytes: any byte may stand in a comment or a string (a Latin-1 comment on an
            # older host). Undecodable bytes become surrogates, which os.* functions turn back into
            # the same bytes, so paths with such bytes still name the right files.
            text = handle.read().decode("utf-8", "surrogateescape")
        newlines = [match.start() for match in NEWLINE_RE.finditer(text)]
        stack, words, first = list(context), [], None
        for kind, value, start, _end in tokens(text):
            if first is None:
                first = bisect.bisect_left(newlines, start) + 1
            if kind == "word":
                words.append(value)
                continue
            where = (path, first)
            if kind == "{":
                self._block(words, tuple(stack), where)
                stack.append(words[0] if words else "")
            elif kind == "}":
                if len(stack) > len(context):
                    closed = stack.pop()
                    if closed == "server" and tuple(stack) == ("http",):
                        self._close_server()
                    elif closed == "http" and not stack and depth == 0 and self.http_end is None:
                        self.http_end = len(self.servers)
            else:
                self._directive(words, tuple(stack), depth, where)
            words, first = [], None

    def _block(self, words, context, where):
        if context != ("http",) or not words:
            return
        if words[0] == "server":
            self._server = ServerBlock(where[0], where[1], len(self.servers))
            self.servers.append(self._server)
        elif words[0] == "upstream" and len(words) > 1:
            self.definitions.append(Definition("upstream", words[1], *where))
        elif words[0] in VARIABLE_BLOCKS and len(words) > 1 and words[-1].startswith("$"):
            self.definitions.append(Definition("variable", words[-1][1:], *where))

    def _close_server(self):
        if self._server is not None and not self._server.listens:
            self._server.listens.append(Listen("*", 80))
        self._server = None

    def _directive(self, words, context, depth, where):
        if not words:
            return
        name, args = words[0], words[1:]
        if not context:
            self.main.setdefault(name, args)
        if context == ("http", "server") and self._server is not None:
            if name == "listen":
                listen = parse_listen(args)
                if listen is not None:
                    self._server.listens.append(listen)
            elif name == "server_name":
                self._server.names.extend(n.lower() for n in args)
        elif context == ("http",):
            self._http_directive(name, args, where)
        elif context == ("http", "upstream") and name == "zone" and args:
            self.definitions.append(Definition("zone", args[0], *where))
        if name == "include" and args:
            self._include(context, self._resolve(args[0]), depth, where)

    def _http_directive(self, name, args, where):
        if name == "log_format" and args:
            self.definitions.append(Definition("log_format", args[0], *where))
        elif name in ZONE_PARAMETERS:
            for arg in args:
                if arg.startswith(ZONE_PARAMETERS[name]):
                    self.definitions.append(Definition("zone", arg[len(ZONE_PARAMETERS[name]):].partition(":")[0],
                                                       *where))
        elif name != "include":
            self.http_settings.setdefault(name, (args, where[0], where[1]))

    def _include(self, context, pattern, depth, where):
        self.includes.append((context, pattern))
        site = IncludeSite(context, pattern, where[0], where[1], len(self.servers))
        self.include_sites.append(site)
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for match in matches:
            if os.path.isfile(match) and os.path.dirname(match) not in self.skip_dirs:
                site.matches.append((match, len(self.servers)))
                self._scan_file(match, context, depth + 1)
        site.after = len(self.servers)

    def includes_dir(self, directory, context=("http",), suffix=".conf"):
        """Whether a ``<directory>/<name><suffix>`` file would be included in ``context``."""
        return bool(self.sites_including_dir(directory, context, suffix))

    def sites_including_dir(self, directory, context=("http",), suffix=".conf"):
        """The IncludeSites that include ``<directory>/<name><suffix>`` files in ``context``."""
        bases = set([os.path.normpath(os.path.abspath(directory)), os.path.realpath(directory)])
        return [site for site in self.include_sites if site.context == context and any(
            path_matches(os.path.join(base, "antman-probe" + suffix), site.pattern) for base in bases)]

    def main_path(self, directive):
        """The file argument of a main-context directive (``pid``, ``error_log``), resolved, or None."""
        args = self.main.get(directive)
        if not args or args[0] in ("stderr", "off") or args[0].startswith(("syslog:", "memory:")):
            return None
        return self._resolve_runtime(args[0])

    def _resolve_runtime(self, path):
        # pid and log paths are relative to nginx's prefix (compiled in), not the conf directory.
        return path if os.path.isabs(path) else None


def path_matches(path, pattern):
    """glob(3) semantics: wildcards match within one path component, never across '/'."""
    parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts, pattern_parts))
