# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the lb_host_info module: what the host's own nginx is, for anyone fitting rules into
a host whose nginx the collection did not write: where http-level files are read and where the
role's drop-in goes, the host's servers and the default server of each port they listen on, the
names and settings the host defines at http level, how nginx runs (version, user, pid, systemd),
whether it has IPv6. Reads only; changes nothing.

``read`` is also the reading of the role's own host module (``lb_host_facts``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.antsle.antman.plugins.module_utils.host.features import has_ipv6
from ansible_collections.antsle.antman.plugins.module_utils.host.layout import AUTO, LayoutError
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_path
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import host_options
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import Nginx

MODULE_KWARGS = {}
VERSION_RE = re.compile(r"nginx version: \S+?/(\S+)")


def argument_spec():
    spec = host_options()
    spec.update(dropin_path=dict(type="str", default=AUTO))
    return spec


def shown(text):
    """A path or name as it can travel in a result: bytes that are not UTF-8 as escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class Reading:
    """The host's nginx as read once: its configuration (``host``), nginx itself, the host's own
    part of the configuration (``layout``, without the servers of ``removed`` links), the drop-in's
    place and the include directives of the rules directory besides the drop-in."""

    def __init__(self, params, run_command, removed=()):
        if params["dropin_path"] != AUTO:
            try:
                parse_path(params["dropin_path"])
            except FieldError as error:
                raise RuleError(["dropin_path: %s, nor auto" % error])
        self.host = Host.read(params["nginx_conf"], params["rules_dir"], rules_included=False)
        self.scan = self.host.scan
        self.nginx = Nginx(params["nginx_binary"], params["nginx_conf"], run_command, self.scan)
        self.layout = self.host.layout(removed=removed)
        try:
            self.dropin = self.layout.dropin(params["dropin_path"])
        except LayoutError as error:
            raise RuleError(["dropin_path: %s" % error])
        # An include of the rules directory the host has besides the drop-in (one a user added as lb_rule
        # asked): the drop-in must not include it again, or nginx reads every rule twice.
        self.rules_sites = [site for site in self.scan.sites_including_dir(self.host.rules_dir.path)
                            if os.path.normpath(site.path) != os.path.normpath(self.dropin.path)]

    def nginx_facts(self):
        pid = self.nginx.master_pid()
        rc, out, err = self.nginx.run([self.nginx.binary, "-V"])
        version = VERSION_RE.search(out + err)
        user = self.scan.main.get("user") or []
        return {
            "binary": self.nginx.binary, "conf": shown(self.scan.conf_path),
            "version": version.group(1) if version else None,
            "user": user[0] if user else None, "group": user[1] if len(user) > 1 else None,
            "pid_file": self.nginx.pid_file(), "master_pid": pid, "running": pid is not None,
            "systemd": bool(pid) and self.nginx.systemd_manages(pid),
        }

    def dropin_facts(self):
        dropin = self.dropin
        return {"path": shown(dropin.path), "auto": dropin.auto, "included": dropin.included,
                "include": dropin.site.where if dropin.site else None, "includes_rules": not self.rules_sites}

    def rules_included(self):
        return self.scan.includes_dir(self.host.rules_dir.path, context=("http",), suffix=".conf")

    def rules_included_by(self):
        return [{"file": shown(site.path), "line": site.line} for site in self.rules_sites]

    def default_servers(self, defaults):
        return [dict(default.as_dict(), file=shown(default.server.path)) for default in defaults]

    def notes(self, ports, defaults, catch_all=True):
        """What an operator should know about fitting rules on ``ports`` into the host, one sentence each."""
        dropin = self.dropin
        if dropin.included:
            notes = ["drop-in %s: nginx reads it through the host's own include in %s" % (shown(dropin.path), dropin.site.where)]
        else:
            notes = ["drop-in %s: the host's configuration does not include it; one include line for it is added at the end "
                     "of the http block of %s" % (shown(dropin.path), shown(self.scan.conf_path))]
        if self.rules_sites:
            notes.append("the host's configuration includes the rules directory itself (%s); the drop-in %s does not include "
                         "it again" % (", ".join(site.where for site in self.rules_sites), shown(dropin.path)))
        return notes + self.layout.notes(ports, defaults, catch_all=catch_all)


def server_dict(server):
    return {"file": shown(server.path), "line": server.line, "server_name": [shown(n) for n in server.names],
            "listen": ["%s:%d%s%s" % (listen.address, listen.port, " default_server" if listen.default else "",
                                      " ssl" if listen.ssl else "") for listen in server.listens]}


def run(module):
    reading = Reading(module.params, module.run_command)
    layout, scan = reading.layout, reading.scan
    ports = layout.host_ports()
    defaults = layout.port_defaults(ports, reading.dropin.position)
    return dict(
        changed=False,
        nginx=reading.nginx_facts(),
        dropin=reading.dropin_facts(),
        rules_included_by=reading.rules_included_by(),
        rules_included=reading.rules_included(),
        stream_included=scan.includes_dir(reading.host.rules_dir.path, context=("stream",), suffix=".stream"),
        http_includes=[{"pattern": shown(site.pattern), "file": shown(site.path), "line": site.line}
                       for site in layout.http_sites()],
        servers=[server_dict(server) for server in layout.servers],
        host_ports=ports,
        default_servers=reading.default_servers(defaults),
        http_settings=dict((name, {"args": [shown(a) for a in args], "file": shown(path), "line": line})
                           for name, (args, path, line) in sorted(layout.settings.items())),
        names=[{"kind": item.kind, "name": shown(item.name), "file": shown(item.path), "line": item.line}
               for item in layout.definitions],
        ipv6=has_ipv6(),
        notes=reading.notes(ports, defaults),
    )
