# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's own nginx, and how the collection fits into it without changing what it serves.

From the scan of nginx's configuration (``nginx/config_scan.py``, read by ``host/snapshot.py``):

- which servers, names and settings are the host's own: those in files the collection did not
  write (a file the collection writes names it in its first lines), and not in links the caller is
  about to remove;
- where the role's http-level drop-in goes: into the first directory the ``http`` context
  includes with a glob (``conf.d/*.conf`` on Debian and RHEL, ``virtualhosts/*.conf`` on antMan's
  own layout), named to be read after the host's files there, else next to ``nginx.conf`` with one
  include line at the end of ``http`` (read after every host server too);
- for each port the rules use, the host's default server there, if any, and whether it stays the
  default: an explicit ``default_server`` always does; a server that is the default only because
  nginx reads it first does while nginx reads it before the collection's files. On such ports the
  role adds no catch-all server;
- checks of rules against the host's servers, before anything is touched: a rule never takes a
  server name a host server answers on its port (nginx would only warn, and one of them would stop
  answering), never disagrees with a host server on TLS for a port (nginx has one ``ssl`` flag per
  port), a tcp rule never takes a port the host's http servers listen on, and a rule's upstream
  name never clashes with one the host defines.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import http_ports, http_servers, server_names
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import path_matches
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import rule_file_name, upstream_name

# Every file the collection writes names it near its top (rule files, the role's drop-in and stream context).
COLLECTION_MARK = b"antsle.antman"
MARK_WINDOW = 512
# In a directory the host's http context includes with a glob, the drop-in is read in glob order
# among the host's files: "zz-" puts it after them, so that a host server that is the default for
# its port only because nginx reads it first stays the default. A drop-in an older release wrote
# as antman.conf is kept where it is. Beside nginx.conf (its own include line) the name is plain.
DROPIN_NAME = "zz-antman.conf"
LEGACY_DROPIN_NAME = "antman.conf"
OWN_LINE_DROPIN_NAME = "antman.conf"
AUTO = "auto"
# nginx writes named captures as (?<name>...); Python's re wants (?P<name>...).
NAMED_GROUP_RE = re.compile(r"\(\?<(?=[A-Za-z_])")


class LayoutError(ValueError):
    """The collection cannot fit into this host's configuration as asked (nothing was touched)."""


def written_by_collection(path):
    """Whether the file at ``path`` is one the collection wrote (its mark in the first lines)."""
    try:
        with open(path, "rb") as handle:
            return COLLECTION_MARK in handle.read(MARK_WINDOW)
    except (IOError, OSError):
        return False


def _same_dir(one, other):
    return os.path.normpath(os.path.abspath(one)) == os.path.normpath(os.path.abspath(other)) or (
        os.path.realpath(one) == os.path.realpath(other))


def shown_names(server):
    return " ".join(server.names) if server.names else '""'


class Dropin:
    """Where the drop-in is (``path``), whether the host's configuration already includes it
    (``site``, the include directive that does, else None: one include line is needed) and how many
    http servers nginx reads before it (``position``)."""

    def __init__(self, path, auto, site, position):
        self.path = path
        self.auto = auto
        self.site = site
        self.position = position

    @property
    def included(self):
        return self.site is not None


class PortDefault:
    """The host's default server on a port: the server, whether its listen says ``default_server``,
    and whether it stays the default once the collection's files are read."""

    def __init__(self, port, server, explicit, stays):
        self.port = port
        self.server = server
        self.explicit = explicit
        self.stays = stays

    def as_dict(self):
        return {"port": self.port, "file": self.server.path, "line": self.server.line,
                "server_name": list(self.server.names), "explicit": self.explicit, "stays": self.stays}


class HostLayout:
    """The host's own part of a scanned configuration. ``removed`` are files (links) the caller's
    change removes: their servers do not count."""

    def __init__(self, scan, rules_dir, removed=()):
        self.scan = scan
        self.rules_dir = rules_dir
        gone = set(os.path.normpath(os.path.abspath(path)) for path in removed)
        owned = {}

        def host_owns(path):
            if path not in owned:
                owned[path] = os.path.normpath(path) not in gone and not written_by_collection(path)
            return owned[path]

        self.servers = [server for server in scan.servers if host_owns(server.path)]
        self.definitions = [item for item in scan.definitions if host_owns(item.path)]
        self.settings = dict((name, value) for name, value in scan.http_settings.items() if host_owns(value[1]))

    # -- where the drop-in goes --------------------------------------------------------------

    def http_sites(self):
        return [site for site in self.scan.include_sites if site.context == ("http",)]

    def dropin(self, requested=AUTO):
        """The Dropin for ``requested`` (a path, or ``auto``: the first directory ``http`` includes
        with a glob, else next to nginx.conf). LayoutError when ``auto`` would take a file the
        collection did not write."""
        if requested != AUTO:
            path = os.path.normpath(requested)
            return Dropin(path, False, self._site_including(path), self._position(path))
        path = None
        for site in self.http_sites():
            directory = os.path.dirname(site.pattern)
            if (not glob.has_magic(site.pattern) or glob.has_magic(directory) or not os.path.isdir(directory)
                    or _same_dir(directory, self.rules_dir)):
                continue
            legacy = os.path.join(directory, LEGACY_DROPIN_NAME)
            if os.path.isfile(legacy) and written_by_collection(legacy) and path_matches(legacy, site.pattern):
                path = legacy
                break
            if path_matches(os.path.join(directory, DROPIN_NAME), site.pattern):
                path = os.path.join(directory, DROPIN_NAME)
                break
        if path is None:
            path = os.path.join(os.path.dirname(self.scan.conf_path), OWN_LINE_DROPIN_NAME)
        if os.path.lexists(path) and not (os.path.isfile(path) and written_by_collection(path)):
            raise LayoutError("%s is where the role's drop-in would go, but the collection did not write that file; "
                              "it is not overwritten (set antman_lb_dropin_path, or dropin_path, to another path)" % path)
        return Dropin(path, True, self._site_including(path), self._position(path))

    def _site_including(self, path):
        for site in self.http_sites():
            if site.pattern == path or path_matches(path, site.pattern):
                return site
        return None

    def _position(self, path):
        """How many http servers nginx reads before a file at ``path`` (included where the host's
        configuration includes it, else by a line at the end of http)."""
        site = self._site_including(path)
        if site is None:
            return self.scan.http_end if self.scan.http_end is not None else len(self.scan.servers)
        if not glob.has_magic(site.pattern):
            return site.before
        for match, before in site.matches:  # glob(3) order: sorted
            if match >= path:
                return before
        return site.after

    # -- default servers and the catch-all ------------------------------------------------------

    def servers_on(self, port):
        return [server for server in self.servers if port in server.ports()]

    def port_defaults(self, ports, position):
        """[PortDefault] for each of ``ports`` the host's servers listen on."""
        defaults = []
        for port in ports:
            on_port = self.servers_on(port)
            if not on_port:
                continue
            explicit = [s for s in on_port if any(listen.port == port and listen.default for listen in s.listens)]
            if explicit:
                defaults.append(PortDefault(port, explicit[0], True, True))
            else:
                first = min(on_port, key=lambda s: s.order)
                defaults.append(PortDefault(port, first, False, first.order < position))
        return defaults

    def notes(self, ports, defaults, catch_all=True):
        """What an operator should know, one sentence per port."""
        notes = []
        for default in defaults:
            where = "%s (server_name %s)" % (default.server.where, shown_names(default.server))
            if default.explicit:
                notes.append("port %d: the host's own default_server in %s stays nginx's default for names no rule "
                             "serves; rules on this port answer by server name, and no catch-all server is added"
                             % (default.port, where))
            elif default.stays:
                notes.append("port %d: the host's server in %s is read before the collection's files, so it stays "
                             "nginx's default for names no rule serves (it has no default_server); rules on this port "
                             "answer by server name, and no catch-all server is added" % (default.port, where))
            else:
                notes.append("port %d: the host's server in %s was nginx's default only because nginx read it first; "
                             "the collection's files are read before it, so %s now answers names no server has. Add "
                             "default_server to its listen to keep it the default"
                             % (default.port, where, "the catch-all server" if catch_all else "the first rule"))
        for port in ports:
            for server in self.servers_on(port):
                for listen in server.listens:
                    if listen.port == port and listen.address not in ("*", "[::]"):
                        notes.append("port %d: the host's server in %s listens on %s:%d only; requests to that address "
                                     "reach the host's servers there, never a rule"
                                     % (port, server.where, listen.address, port))
        return notes

    def ports_without_default(self, ports):
        """Of ``ports``, those where no server outside the rules directory is nginx's default: none
        says ``default_server`` there (the role's catch-all does) and none is read before the rules.
        On such a port a Host name no rule serves goes to the first rule nginx reads there."""
        position = self._position(os.path.join(self.rules_dir, "antman-probe.conf"))
        missing = []
        for port in ports:
            on_port = [server for server in self.scan.servers if port in server.ports()]
            explicit = any(listen.port == port and listen.default for server in on_port for listen in server.listens)
            if not explicit and not any(server.order < position for server in on_port):
                missing.append(port)
        return missing

    def catch_all_notes(self, rules, before):
        """Warnings for the ports that rules in ``rules`` (canonical, the rule set after a change) take
        anew, compared with ``before`` ({name: rule}, the rule set before it), where a Host name no
        rule serves is answered by whichever rule nginx reads first (a host whose nginx the role did
        not configure). A change that keeps its rules' ports (an edit, lb_upstream) says nothing again."""
        notes, new_ports = [], set()
        for rule in rules:
            old = before.get(rule["name"])
            new_ports.update(set(http_ports([rule])) - set(http_ports([old] if old is not None else [])))
        for port in self.ports_without_default(sorted(new_ports)):
            first = min((rule_file_name(rule), rule["name"]) for rule in rules if rule["protocol"] == "http"
                        and any(server_port == port for server_port, _tls, _what in http_servers(rule)))[1]
            notes.append("port %d has no default server: nginx answers a Host name that no rule serves with rule '%s' "
                         "(the first it reads on that port). Add a catch-all there: the antsle.antman.load_balancer role "
                         "does it (antman_lb_extra_ports, or its rules' ports), or a server of your own with "
                         "'listen %d default_server;' and 'return 421;'" % (port, first, port))
        return notes

    def host_ports(self):
        return sorted(set(port for server in self.servers for port in server.ports()))

    # -- rules against the host's servers ------------------------------------------------------

    def rule_problems(self, rules, changing=None):
        """Problems (sentences naming the rule and the host's file) of ``rules`` (canonical) against
        the host's servers and names; only rules in ``changing`` are checked when it is given."""
        problems = []
        # nginx compares upstream names case-insensitively, shared memory zone names exactly; each rule
        # has an upstream and a zone of the same name.
        taken = dict(((item.kind, item.name.lower() if item.kind == "upstream" else item.name), item)
                     for item in self.definitions if item.kind in ("upstream", "zone"))
        for rule in rules:
            if changing is not None and rule["name"] not in changing:
                continue
            name = rule["name"]
            for kind, key in (("upstream", upstream_name(rule).lower()), ("zone", upstream_name(rule))):
                if (kind, key) in taken:
                    problems.append("rule '%s': its nginx %s %s is already defined by the host in %s"
                                    % (name, kind, upstream_name(rule), taken[(kind, key)].where))
            if rule["protocol"] == "tcp":
                for server in self.servers_on(rule["server_port"]):
                    problems.append("rule '%s': tcp port %d is used by the host's http server in %s"
                                    % (name, rule["server_port"], server.where))
            if rule["protocol"] != "http":
                continue
            for port, tls, _what in http_servers(rule):
                for server in self.servers_on(port):
                    ssl = any(listen.ssl for listen in server.listens if listen.port == port)
                    if ssl != tls:
                        problems.append("rule '%s': port %d is %s in the rule but %s for the host's server in %s; nginx "
                                        "has one ssl setting per port" % (name, port, "TLS" if tls else "plain HTTP",
                                                                          "TLS" if ssl else "plain HTTP", server.where))
            for port, server_name in server_names(rule):
                for server, host_name in self._answering(port, server_name):
                    verb = "already has" if host_name == server_name else "answers it with"
                    problems.append("rule '%s': server_name '%s' on port %d is served by the host's server in %s (which "
                                    "%s server_name %s); a rule would take it over" % (name, server_name, port,
                                                                                       server.where, verb, host_name))
        return problems

    def _answering(self, port, name):
        """(server, its name) of the host's servers on ``port`` that answer the rule's ``name``."""
        found = []
        for server in self.servers_on(port):
            for host_name in server.names:
                if host_name == name or (not _is_wildcard(name) and _name_matches(host_name, name)):
                    found.append((server, host_name))
                    break
        return found


def _is_wildcard(name):
    return name.startswith("*.") or name.endswith(".*")


def _name_matches(pattern, name):
    """Whether nginx's server_name ``pattern`` (wildcard or regular expression) matches ``name``."""
    if pattern.startswith("~"):
        flags = re.IGNORECASE if pattern.startswith("~*") else 0
        try:
            return re.search(NAMED_GROUP_RE.sub("(?P<", pattern.lstrip("~*")), name, flags) is not None
        except re.error:
            return False  # a construct Python's re does not know: nginx decides, the collection does not guess
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    if pattern.startswith("."):
        return name == pattern[1:] or name.endswith(pattern)
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return False
