# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the load_balancer role's host module (``antsle.antman.__load_balancer.lb_host_facts``):
the role's one question to the host, read as ``lb_host_info`` reads it (``Reading``), answered with
every host fact the role's tasks use, decided here rather than in YAML:

- where the drop-in goes and whether the host's configuration includes it and the rules directory;
- which of the rules' ports get a catch-all server (where no host server stays the default), which
  of them are TLS, whether the stream context is needed; with ``keep_unlisted`` the managed rules
  on the host that stay count too (their ports keep their catch-all, their stream context stays);
- whether the catch-all servers listen on IPv6: the same decision as the rules' ``[::]`` listeners
  (``host/features.py`` ``has_ipv6``), so both always listen on the same address families;
- the host's OS family and service manager (``host/system.py``, read as Ansible's facts decide them),
  so that the role needs no ``setup`` run of its own; a host of a family not in ``os_families`` (the
  families the role knows) is refused here, before anything is read or touched, rather than by a task
  of the role (a task costs every host a worker on every run, skipped or not: docs/benchmarks.md, fleet);
- how nginx is run (systemd or directly), and the drop-in's ``server_names_hash_bucket_size``
  (none when the host sets it: nginx refuses it twice);
- where the role's server-level settings of every rule go (the file each rule's server includes);
- the state of the systemd units the role keeps running (``host/units.py``), so that it asks systemd
  to enable or start one only when it is not enabled and running already;
- what keeps the role from fitting, all at once, before anything is touched: a rule that would take
  something from the host's servers, a log format name or a status port the host has already;
- the install question: whether the nginx binary is there (``installed``; without it, as on a system
  of another family, only the answers below and the OS family and service manager are returned, and
  the role installs nginx and asks again), the host's Python (``python``: the health agent's
  interpreter, for its unit's ExecStart), and which of the health agent's files are on the host
  (``agent_found``: the role removes the agent only where something of it is).
Reads only; changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

from ansible_collections.antsle.antman.plugins.module_utils.health.status import status_path
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE
from ansible_collections.antsle.antman.plugins.module_utils.host.features import has_ipv6, host_features
from ansible_collections.antsle.antman.plugins.module_utils.host.layout import AUTO
from ansible_collections.antsle.antman.plugins.module_utils.host.system import KNOWN_FAMILIES, OS_FAMILY_IDS, system_facts
from ansible_collections.antsle.antman.plugins.module_utils.host.units import unit_states
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_int, show
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import http_ports, needs_stream, tls_ports
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import host_options
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import locate
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import server_snippet_path
from ansible_collections.antsle.antman.plugins.module_utils.modules.lb_host_info import Reading, shown

MODULE_KWARGS = {}
SERVICE_MANAGERS = ("auto", "systemd", "direct")
HASH_BUCKET = "server_names_hash_bucket_size"


def argument_spec():
    spec = host_options()
    spec.update(
        dropin_path=dict(type="str", default=AUTO),
        ports=dict(type="list", elements="int", default=[]),
        rules=dict(type="list", elements="dict", default=[]),
        keep_unlisted=dict(type="bool", default=False),
        remove_links=dict(type="list", elements="path", default=[]),
        catch_all=dict(type="bool", default=True),
        stream=dict(type="bool", default=False),
        ipv6=dict(type="bool", default=True),
        service_manager=dict(type="str", default="auto", choices=list(SERVICE_MANAGERS)),
        server_names_hash_bucket_size=dict(type="int", default=0),
        log_format_name=dict(type="str"),
        status_port=dict(type="int"),
        units=dict(type="list", elements="str", default=[]),
        os_families=dict(type="list", elements="str", default=[]),
        agent=dict(type="dict", options=dict(lib_dir=dict(type="path", required=True),
                                             pid_file=dict(type="path", required=True),
                                             unit=dict(type="path", required=True))),
    )
    return spec


def agent_found(params):
    """The health agent's files that are on the host, any of which means the agent was installed
    and its removal has work to do: its code directory, its systemd unit, its pid file (an agent
    the role ran without systemd; a stale one counts too), its status file beside the rules
    directory, and its verdicts file in the rules directory (upstreams it holds out). Its log file
    does not count: the removal keeps it (logs are not removed with a program)."""
    if params["agent"] is None:
        return []
    paths = [params["agent"]["lib_dir"], params["agent"]["unit"], params["agent"]["pid_file"],
             status_path(params["rules_dir"]), os.path.join(params["rules_dir"], VERDICTS_FILE)]
    return [path for path in paths if os.path.lexists(path)]


def install_facts(params):
    """What the role's install step needs, which every host can answer, with or without nginx: with
    the host's OS family (the package manager; other systems are refused), service manager and
    cryptography (imports_cryptography)."""
    system = system_facts()
    return dict(installed=locate(params["nginx_binary"]) is not None, python=sys.executable,
                cryptography=imports_cryptography(),
                agent_found=agent_found(params), os_family=system["os_family"],
                host_service_manager=system["service_manager"])


def imports_cryptography():
    """Whether this Python (the one community.crypto's modules run on) can import cryptography."""
    return importlib.util.find_spec("cryptography") is not None


def refuse_other_systems(params, os_family):
    """RuleError when ``os_families`` is given and the host's OS family is not among them."""
    known = params["os_families"]
    if not known or os_family in known:
        return
    families = [family + (" (%s, ...)" % ", ".join(OS_FAMILY_IDS[family][:2]) if family in OS_FAMILY_IDS else "")
                for family in known]
    raise RuleError(["antsle.antman.load_balancer knows hosts of the OS families %s only; this host is %s (its "
                     "/etc/os-release); nothing was changed" % (" and ".join(families), show(os_family))])


def check_request(params):
    """The canonical rules of ``rules``; RuleError naming every bad option."""
    problems = []
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


def staying_rules(reading, rules):
    """The managed rules on the host that are not among ``rules`` (by name): with ``keep_unlisted``
    (lb_rules state=replaced, the role's antman_lb_exclusive=false, an entry point that applies no
    rules) they stay and keep serving, so their ports keep their catch-all server and their stream
    context."""
    listed = set(rule["name"] for rule in rules)
    snapshot = reading.host.snapshot(host_features(reading.nginx.version), recovered=True)
    return [rule for name, rule in snapshot.rules().items() if name not in listed]


def service(params, nginx, host_service_manager):
    """How the role runs nginx. A host with systemd may still run an nginx that systemd did not
    start (antMan's own hosts can): then it is signalled directly, never started a second time
    through the unit."""
    if params["service_manager"] != "auto":
        return params["service_manager"]
    if nginx["systemd"] or (not nginx["running"] and host_service_manager == "systemd"):
        return "systemd"
    return "direct"


def taken_by_host(params, layout):
    """What the role would add that the host's own nginx already has (nothing was changed)."""
    problems = []
    formats = [item.name for item in layout.definitions if item.kind == "log_format"]
    if params["log_format_name"] in formats:
        problems.append("the host's own nginx already has log format %s (its log formats: %s); set "
                        "antman_lb_log_format_name to another name" % (show(params["log_format_name"]),
                                                                       ", ".join(shown(f) for f in formats)))
    if params["status_port"] is not None and params["status_port"] in layout.host_ports():
        problems.append("the host's own nginx already has a server on port %d of antman_lb_status_listen (the host "
                        "listens on %s); choose another port, or '' for no status endpoint"
                        % (params["status_port"], ", ".join(str(port) for port in layout.host_ports())))
    return problems


def run(module):
    params = module.params
    installed = install_facts(params)
    refuse_other_systems(params, installed["os_family"])
    rules = check_request(params)
    # No nginx to read, or a system whose layout the collection does not know (a caller that gave no
    # os_families gets the install answers; the role's os_families refused it above).
    if not installed["installed"] or installed["os_family"] not in KNOWN_FAMILIES:
        return dict(installed, changed=False)
    reading = Reading(params, module.run_command, removed=params["remove_links"])
    layout = reading.layout
    kept = staying_rules(reading, rules) if params["keep_unlisted"] else []
    problems = layout.rule_problems(rules) + taken_by_host(params, layout)
    if problems:
        raise RuleError(problems + ["nothing was changed"])
    ports = sorted(set(int(port) for port in params["ports"]) | set(http_ports(kept)))
    defaults = layout.port_defaults(ports, reading.dropin.position)
    staying = set(default.port for default in defaults if default.stays)
    nginx = reading.nginx_facts()
    notes = reading.notes(ports, defaults, catch_all=params["catch_all"])
    hash_bucket_size = params["server_names_hash_bucket_size"]
    if HASH_BUCKET in layout.settings:
        _args, path, line = layout.settings[HASH_BUCKET]
        if hash_bucket_size:
            notes.append("the host sets %s itself (%s:%d); the drop-in leaves it out" % (HASH_BUCKET, shown(path), line))
        hash_bucket_size = 0
    return dict(
        changed=False,
        nginx=nginx,
        service=service(params, nginx, installed["host_service_manager"]),
        dropin=reading.dropin_facts(),
        rules_included=reading.rules_included(),
        rules_included_by=reading.rules_included_by(),
        ports=ports,
        default_servers=reading.default_servers(defaults),
        catch_all_ports=[port for port in ports if port not in staying] if params["catch_all"] else [],
        tls_ports=sorted(set(tls_ports(rules)) | set(tls_ports(kept))),
        stream=params["stream"] or needs_stream(rules + kept),
        kept_rules=[rule["name"] for rule in kept],
        ipv6=params["ipv6"] and has_ipv6(),
        hash_bucket_size=hash_bucket_size,
        server_snippet=server_snippet_path(params["rules_dir"]),
        notes=notes,
        units=unit_states(module.run_command, params["units"]),
        **installed
    )
