# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load_balancer role's run, planned on the controller before anything is touched: its own
variables parsed with the collection's grammars (paths, the status endpoint, the ACME settings),
its inventory rules validated (``model/inventory.py``), and every fact its tasks use that does not
depend on the host, so that the role's YAML only orders tasks (filter ``lb_role_plan``). What
depends on the host (where the drop-in goes, which ports get a catch-all, IPv6, how nginx runs) is
the role's host module's answer (``modules/lb_host_facts.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError, parse_bool, parse_cidr_list, parse_int, parse_listen, parse_loopback_listen, parse_path, show)
from ansible_collections.antsle.antman.plugins.module_utils.model.inventory import rule_set_facts
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import acme_account_key, acme_directories

# The role's entry points (tasks_from); main and rules apply antman_lb_rules, the others never touch a rule.
ENTRY_POINTS = ("main", "install", "configure", "rules", "ha")
APPLYING_RULES = ("main", "rules")
# The parts of the role's apply module (lb_host_apply) each entry point gives: configure the base
# configuration only, rules the rules only (and only when it has some to apply), main all three.
APPLIED_PARTS = {"main": ("base", "rules", "agent"), "configure": ("base",), "rules": ("rules",)}
# nginx's log_format name: written unquoted beside access_log.
LOG_FORMAT_NAME_RE = re.compile(r"\A[a-z_][a-z0-9_]{0,63}\Z")
# The status page's location (an exact location, unquoted in nginx).
STATUS_PATH_RE = re.compile(r"\A/[A-Za-z0-9._/-]{0,255}\Z")
EMAIL_RE = re.compile(r"\A[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}\Z")


def _problem(problems, variable, parse, value):
    """``parse(value)``, or None with the problem named after the role's variable."""
    try:
        return parse(value)
    except FieldError as error:
        problems.append("antman_lb_%s: %s" % (variable, error))
        return None


def _optional(parse):
    """A setting whose empty value turns the feature off ("" for no access log, no status page)."""
    return lambda value: None if value in ("", None) else parse(value)


def _conf_path(value):
    path = parse_path(value)
    if not path.endswith(".conf"):
        raise FieldError("%s does not end in .conf (nginx's include globs read *.conf)" % show(value))
    return path


def _dropin_path(value):
    return value if value == "auto" else _conf_path(value)


def _matching(pattern, what):
    def parse(value):
        if not isinstance(value, str) or not pattern.match(value):
            raise FieldError("%s is not %s" % (show(value), what))
        return value
    return parse


def _acme_directory(value):
    if not isinstance(value, str) or not value.startswith("https://") or any(c.isspace() for c in value):
        raise FieldError("%s is not an https URL (the ACME directory of the CA)" % show(value))
    return value


def role_plan(rules, groups, hostvars, entry="main", rules_dir=None, dropin_path="auto", stream_conf_path=None,
              stream=False, access_log="", log_format_name="antman_upstream", status_listen="", status_path="/",
              extra_ports=(), exclusive=True, allow_empty=False, disable_default_site=False, default_site_path=None,
              acme_dir=None, acme_email="", acme_directory="", acme_ca_path="", acme_renew_days=30,
              metrics_listen="", metrics_allow=()):
    """The role's plan for one host, from its inventory rules and variables. Raises RuleError listing
    every problem, each naming the role variable (``antman_lb_*``) and the value.

    ``entry``: the entry point running (``tasks_from``). Only main and rules apply antman_lb_rules:
    they refuse an empty list that would remove every managed rule unless ``allow_empty``; the others
    keep the managed rules on the host, so those rules' ports and stream context stay
    (``keep_unlisted``), as they do without ``exclusive``.

    Returns ``rules`` (canonical, TLS content as digests: safe in a fact), ``http_ports`` (the
    ports that may get a catch-all server), ``tls_ports``, ``stream`` (the stream module and context:
    a tcp/udp rule, or ``stream``), ``rules_state`` (how lb_rules applies them), ``parts`` (the
    parts of the role's apply module this entry point gives, ``APPLIED_PARTS``), ``keep_unlisted``,
    ``remove_links`` (the default site's link when it is disabled), ``status_listen`` (canonical,
    "" for no status page) and ``status_port``, ``metrics`` ({listen, allow, stub_status_url}: the
    health agent's endpoint, listen "" for none), ``acme`` ({rules: each acme rule's name, names and files,
    directories: [{path, mode}] every ACME file needs, account_key}), and the role's paths and names
    as parsed."""
    problems = []
    if entry not in ENTRY_POINTS:
        raise RuleError(["entry %s is not one of the role's entry points (%s)" % (show(entry), ", ".join(ENTRY_POINTS))])
    settings = {
        "rules_dir": _problem(problems, "rules_dir", parse_path, rules_dir),
        "dropin_path": _problem(problems, "dropin_path", _dropin_path, dropin_path),
        "stream_conf_path": _problem(problems, "stream_conf_path", _conf_path, stream_conf_path),
        "access_log": _problem(problems, "access_log", _optional(parse_path), access_log),
        "log_format_name": _problem(problems, "log_format_name", _matching(
            LOG_FORMAT_NAME_RE, "a lowercase identifier of up to 64 characters (letters, digits, _)"), log_format_name),
        "status_path": _problem(problems, "status_path", _matching(
            STATUS_PATH_RE, "a path of letters, digits and . _ - / starting with /"), status_path),
    }
    status = _problem(problems, "status_listen", _optional(parse_loopback_listen), status_listen)
    metrics = _metrics_settings(problems, metrics_listen, metrics_allow)
    flags = dict((name, _problem(problems, name, parse_bool, value)) for name, value in
                 (("stream", stream), ("exclusive", exclusive), ("allow_empty", allow_empty),
                  ("disable_default_site", disable_default_site)))
    removed = []
    if flags["disable_default_site"]:
        removed = [_problem(problems, "default_site_path", parse_path, default_site_path)]
    try:
        facts = rule_set_facts(rules, groups, hostvars, extra_ports, acme_dir)
    except RuleError as error:
        raise RuleError(problems + error.problems)
    applies_rules = entry in APPLYING_RULES
    if applies_rules and not facts["rules"] and flags["exclusive"] and not flags["allow_empty"]:
        problems.append("antman_lb_rules is empty and antman_lb_exclusive is true: this would remove every managed rule. "
                        "Set antman_lb_allow_empty: true if that is what you want (or check that the group_vars "
                        "defining antman_lb_rules are loaded)")
    if status is not None and status[1] in facts["http_ports"]:
        problems.append("antman_lb_status_listen: %s uses a port that rules or antman_lb_extra_ports use (%s); choose "
                        "another one" % (show(status_listen), ", ".join(str(port) for port in facts["http_ports"])))
    if metrics is not None and (metrics[1] in facts["http_ports"] or (status is not None and metrics[1] == status[1])):
        problems.append("antman_lb_metrics_listen: %s uses a port that rules, antman_lb_extra_ports or "
                        "antman_lb_status_listen use; choose another one" % show(metrics_listen))
    acme = facts.pop("acme")
    account_key, directories = None, []
    if acme:
        acme_settings = _acme_settings(problems, acme, acme_dir, acme_email, acme_directory, acme_ca_path, acme_renew_days)
        if acme_settings is not None:
            rule_dirs = [rule["acme_dir"] for rule in acme]
            account_key = acme_account_key(acme_settings)
            directories = [{"path": path, "mode": mode} for path, mode in acme_directories(rule_dirs, acme_settings)]
    if problems:
        raise RuleError(problems)
    facts.update(settings)
    state = rules_state(facts["rules"], flags["exclusive"]) if applies_rules else None
    facts.update({
        "stream": flags["stream"] or facts["stream"],
        "rules_state": state,
        "parts": [part for part in APPLIED_PARTS.get(entry, ()) if part != "rules" or state is not None],
        "keep_unlisted": not applies_rules or not flags["exclusive"],
        "remove_links": removed,
        "status_listen": "" if status is None else listen_text(status),
        "status_port": None if status is None else status[1],
        "metrics": {"listen": "" if metrics is None else listen_text((str(metrics[0]), metrics[1])),
                    "allow": metrics[2] if metrics else [],
                    "stub_status_url": "http://%s%s" % (listen_text(status), settings["status_path"])
                    if metrics and status is not None else ""},
        "acme": {"rules": acme, "directories": directories, "account_key": account_key},
    })
    return facts


def _metrics_settings(problems, listen, allow):
    """(address, port, allow list) of the health agent's metrics endpoint, None when off or wrong.
    Anywhere but loopback it needs an allow-list: the metrics name every rule and antlet."""
    parsed = _problem(problems, "metrics_listen", _optional(parse_listen), listen)
    networks = _problem(problems, "metrics_allow", lambda value: parse_cidr_list(value) if value else [], allow)
    if parsed is None or networks is None:
        return None
    if parsed[1] < 1024:
        problems.append("antman_lb_metrics_listen: %s has a port below 1024, which the agent's service may not bind "
                        "(it runs without CAP_NET_BIND_SERVICE); choose 1024 or above" % show(listen))
        return None
    if not parsed[0].is_loopback and not networks:
        problems.append("antman_lb_metrics_listen: %s is not a loopback address; give antman_lb_metrics_allow (the "
                        "addresses or networks of your Prometheus servers) to serve metrics there" % show(listen))
        return None
    return parsed[0], parsed[1], networks


def _acme_settings(problems, acme, acme_dir, email, directory, ca_path, renew_days):
    """Check the role's ACME variables (only asked when a rule uses tls.acme); returns the account's
    directory (antman_lb_acme_dir), or None when a variable is wrong."""
    before = len(problems)
    names = ", ".join(rule["name"] for rule in acme)
    where = " (rules %s use tls.acme)" % names
    account_dir = _problem(problems, "acme_dir", parse_path, acme_dir)
    _problem(problems, "acme_email", _matching(EMAIL_RE, "an email address, the ACME account's contact"), email)
    _problem(problems, "acme_directory", _acme_directory, directory)
    _problem(problems, "acme_ca_path", _optional(parse_path), ca_path)
    _problem(problems, "acme_renew_days", lambda value: parse_int(value, 0, 3650), renew_days)
    for index in range(before, len(problems)):
        problems[index] += where
    return account_dir if len(problems) == before else None


def rules_state(rules, exclusive):
    """The lb_rules state that applies the inventory's rules: with ``exclusive`` the managed rules
    become exactly these (overridden; none listed: deleted, every managed rule), else the listed
    rules become what inventory says and others stay (replaced; none listed: nothing to do, None)."""
    if rules:
        return "overridden" if exclusive else "replaced"
    return "deleted" if exclusive else None


def listen_text(status):
    """``listen`` text of a parsed loopback (address, port): IPv6 in brackets."""
    address, port = status
    return "%s:%d" % ("[%s]" % address if ":" in address else address, port)
