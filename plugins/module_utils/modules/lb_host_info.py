# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the lb_host_info module: what the host's own nginx is, for the role (and anyone
fitting rules into a host whose nginx the collection did not write): where http-level files are
read and where the role's drop-in goes, the host's servers and default servers on the rules'
ports, which of those ports get a catch-all server, the names and settings the host defines at
http level, how nginx runs (version, user, pid, systemd), and what would keep given rules from
fitting (a server name a host server answers, TLS on a port, a name the host defines). Reads only;
changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.antsle.antman.plugins.module_utils.host.features import host_features
from ansible_collections.antsle.antman.plugins.module_utils.host.layout import AUTO, LayoutError
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_int, show
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import http_ports, needs_stream, tls_ports
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import host_options
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import Nginx

MODULE_KWARGS = {}
VERSION_RE = re.compile(r"nginx version: \S+?/(\S+)")


def argument_spec():
    spec = host_options()
    spec.update(
        dropin_path=dict(type="str", default=AUTO),
        ports=dict(type="list", elements="int", default=[]),
        catch_all=dict(type="bool", default=True),
        remove_links=dict(type="list", elements="path", default=[]),
        rules=dict(type="list", elements="dict", default=[]),
        keep_unlisted=dict(type="bool", default=False),
    )
    return spec


def shown(text):
    """A path or name as it can travel in a result: bytes that are not UTF-8 as escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_request(params):
    problems = []
    path = params["dropin_path"]
    if path != AUTO and (not path.startswith("/") or os.path.normpath(path) != path):
        problems.append("dropin_path: %s is neither auto nor a normalised absolute path" % show(path))
    for index, port in enumerate(params["ports"]):
        try:
            parse_int(port, 1, 65535)
        except FieldError as error:
            problems.append("ports[%d]: %s" % (index, error))
    rules = []
    for index, raw in enumerate(params["rules"]):
        try:
            rules.append(normalize_rule(raw))
        except RuleError as error:
            problems.extend("rules[%d]: %s" % (index, problem) for problem in error.problems)
    if problems:
        raise RuleError(problems)
    return rules


def nginx_facts(nginx, scan):
    pid = nginx.master_pid()
    rc, out, err = nginx.run([nginx.binary, "-V"])
    version = VERSION_RE.search(out + err)
    user = scan.main.get("user") or []
    return {
        "binary": nginx.binary, "conf": shown(scan.conf_path), "version": version.group(1) if version else None,
        "user": user[0] if user else None, "group": user[1] if len(user) > 1 else None,
        "pid_file": nginx.pid_file(), "master_pid": pid, "running": pid is not None,
        "systemd": bool(pid) and nginx.systemd_manages(pid),
    }


def server_dict(server):
    return {"file": shown(server.path), "line": server.line, "server_name": [shown(n) for n in server.names],
            "listen": ["%s:%d%s%s" % (listen.address, listen.port, " default_server" if listen.default else "",
                                      " ssl" if listen.ssl else "") for listen in server.listens]}


def dropin_note(dropin, conf):
    if dropin.included:
        return "drop-in %s: nginx reads it through the host's own include in %s" % (shown(dropin.path), dropin.site.where)
    return ("drop-in %s: the host's configuration does not include it; one include line for it is added at the end of "
            "the http block of %s" % (shown(dropin.path), shown(conf)))


def rules_include_notes(sites, dropin):
    if not sites:
        return []
    return ["the host's configuration includes the rules directory itself (%s); the drop-in %s does not include it "
            "again" % (", ".join(site.where for site in sites), shown(dropin.path))]


def staying_rules(host, nginx, rules):
    """The managed rules on the host that are not among ``rules`` (by name): with ``keep_unlisted``
    (lb_rules state=replaced, the role's antman_lb_exclusive=false) they stay and keep serving, so
    their ports keep their catch-all server and their stream context."""
    listed = set(rule["name"] for rule in rules)
    snapshot = host.snapshot(host_features(nginx.version), recovered=True)
    return [rule for name, rule in snapshot.rules().items() if name not in listed]


def run(module):
    params = module.params
    rules = check_request(params)
    host = Host.read(params["nginx_conf"], params["rules_dir"], rules_included=False)
    nginx = Nginx(params["nginx_binary"], params["nginx_conf"], module.run_command, host.scan)
    layout = host.layout(removed=params["remove_links"])
    try:
        dropin = layout.dropin(params["dropin_path"])
    except LayoutError as error:
        raise RuleError(["dropin_path: %s" % error])
    kept = staying_rules(host, nginx, rules) if params["keep_unlisted"] else []
    # An include of the rules directory the host has besides the drop-in (one a user added as lb_rule
    # asked): the drop-in must not include it again, or nginx reads every rule twice.
    rules_sites = [site for site in host.scan.sites_including_dir(host.rules_dir.path)
                   if os.path.normpath(site.path) != os.path.normpath(dropin.path)]
    ports = sorted(set(int(port) for port in params["ports"]) | set(http_ports(kept)))
    defaults = layout.port_defaults(ports, dropin.position)
    staying = set(default.port for default in defaults if default.stays)
    scan = host.scan
    return dict(
        changed=False,
        nginx=nginx_facts(nginx, scan),
        dropin={"path": shown(dropin.path), "auto": dropin.auto, "included": dropin.included,
                "include": dropin.site.where if dropin.site else None, "includes_rules": not rules_sites},
        rules_included_by=[{"file": shown(site.path), "line": site.line} for site in rules_sites],
        rules_included=scan.includes_dir(host.rules_dir.path, context=("http",), suffix=".conf"),
        stream_included=scan.includes_dir(host.rules_dir.path, context=("stream",), suffix=".stream"),
        http_includes=[{"pattern": shown(site.pattern), "file": shown(site.path), "line": site.line}
                       for site in layout.http_sites()],
        servers=[server_dict(server) for server in layout.servers],
        host_ports=layout.host_ports(),
        default_servers=[dict(default.as_dict(), file=shown(default.server.path)) for default in defaults],
        ports=ports,
        tls_ports=sorted(set(tls_ports(rules)) | set(tls_ports(kept))),
        stream=needs_stream(rules + kept),
        kept_rules=[rule["name"] for rule in kept],
        catch_all_ports=[port for port in ports if port not in staying],
        http_settings=dict((name, {"args": [shown(a) for a in args], "file": shown(path), "line": line})
                           for name, (args, path, line) in sorted(layout.settings.items())),
        names=[{"kind": item.kind, "name": shown(item.name), "file": shown(item.path), "line": item.line}
               for item in layout.definitions],
        rule_problems=layout.rule_problems(rules),
        notes=[dropin_note(dropin, scan.conf_path)] + rules_include_notes(rules_sites, dropin)
        + layout.notes(ports, defaults, catch_all=params["catch_all"]),
    )
