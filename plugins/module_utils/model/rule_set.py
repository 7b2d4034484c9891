# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule sets: checks that span several rules (what nginx would accept silently but serve wrongly),
the sockets and names a set makes nginx serve, and warnings about valid rules that will not fail
over as an operator would expect."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import health_check_warning
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, in_rotation
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import is_acme

# The plain port-80 server a rule may have besides its own, as errors name it.
SERVER_80 = {"redirect_http": "redirect_http (port 80)", "acme": "the ACME challenge server (port 80)"}
OWNER_80 = {"redirect_http": "redirect_http", "acme": "ACME challenge server"}


def check_rule_set(rules, changing=()):
    """Raise RuleError if canonical rules clash with each other.

    Rules named in ``changing`` are the ones blamed when they clash with a rule already in place.

    - two rules whose names differ only in case: nginx compares upstream names case-insensitively;
    - one server name on one port in two http rules (the redirect of ``redirect_http``, and the
      challenge server of ``tls.acme``, count as one on port 80): nginx only warns ("conflicting server name") and serves the first it read;
    - http rules on one port that disagree on TLS (the redirect of ``redirect_http`` is plain HTTP on
      port 80): nginx makes the port TLS for all of them; likewise tls rules on one port that
      disagree on http2 (before nginx 1.25.1 a setting of the listening socket), and http rules on one
      port that disagree on proxy_protocol (a listening socket's setting; the redirect has none);
    - a port used by an http rule and a tcp rule, or by two tcp rules (two udp rules likewise), on
      IPv4 or on IPv6: nginx cannot listen twice.
    """
    problems = []
    by_folded_name, names_on_port, tls_on_port, http2_on_port, sockets = {}, {}, {}, {}, {}
    proxy_protocol_on_port = {}
    for rule in sorted(rules, key=lambda r: (r["name"] in changing, r["name"])):
        name = rule["name"]
        folded = name.lower()
        if folded in by_folded_name:
            problems.append("rule '%s': name clashes with rule '%s' (rule names are case-insensitive)"
                            % (name, by_folded_name[folded]))
        by_folded_name.setdefault(folded, name)
        clashes = []
        for family, port, transport in listening_sockets(rule):
            owner = sockets.setdefault((family, port, transport), (name, rule["protocol"]))
            if owner[0] != name and "stream" in (kind(owner[1]), kind(rule["protocol"])):
                clashes.append((port, transport, owner, family))
        for port, transport, owner in sorted(set(c[:3] for c in clashes)):
            families = " and ".join(f for f in FAMILIES if (port, transport, owner, f) in clashes)
            problems.append("rule '%s': %s port %d is already used by rule '%s' (%s) on %s"
                            % (name, transport, port, owner[0], owner[1], families))
        if rule["protocol"] != "http":
            continue
        for port, tls, what in http_servers(rule):
            proxy_protocol = what == "server_port" and rule["proxy_protocol"]
            owner, owner_proxy_protocol = proxy_protocol_on_port.setdefault(port, (name, proxy_protocol))
            if owner_proxy_protocol != proxy_protocol:
                problems.append("rule '%s': proxy_protocol is %s on port %d but %s in rule '%s'; all http rules on a "
                                "port must agree on proxy_protocol (a setting of the listening socket)"
                                % (name, _on(proxy_protocol), port, _on(owner_proxy_protocol), owner))
            owner, owner_tls, owner_what = tls_on_port.setdefault(port, (name, tls, what))
            if owner_tls != tls:
                problems.append("rule '%s': %s is %s in rule '%s'%s; all http rules on a port must agree on tls"
                                % (name, "server_port %d" % port if what == "server_port" else SERVER_80[what],
                                   "TLS" if owner_tls else "plain HTTP", owner,
                                   " (its %s)" % OWNER_80[owner_what] if owner_what in OWNER_80 else ""))
            if tls:
                owner, owner_http2 = http2_on_port.setdefault(port, (name, rule["http2"]))
                if owner_http2 != rule["http2"]:
                    problems.append("rule '%s': http2 is %s on server_port %d but %s in rule '%s'; all tls rules on a "
                                    "port must agree on http2 (nginx before 1.25.1 sets it per listening socket)"
                                    % (name, _on(rule["http2"]), port, _on(owner_http2), owner))
        for port, server_name in server_names(rule):
            owner = names_on_port.setdefault((server_name, port), name)
            if owner != name:
                problems.append("rule '%s': server_name '%s' on server_port %d is already used by rule '%s'"
                                % (name, server_name, port, owner))
    if problems:
        raise RuleError(problems)


FAMILIES = ("IPv4", "IPv6")


def _on(flag):
    return "on" if flag else "off"


def kind(protocol):
    return "http" if protocol == "http" else "stream"


def listening_sockets(rule):
    """(family, port, 'tcp'|'udp') sockets the rule makes nginx listen on: IPv4 always, IPv6 too
    with ``ipv6`` (on a host with IPv6; checked as if every host had it, so that a rule set valid
    on one host is valid on all)."""
    if rule["protocol"] != "http":
        ports = [(rule["server_port"], "udp" if rule["protocol"] == "udp" else "tcp")]
    else:
        ports = [(port, "tcp") for port, _tls, _what in http_servers(rule)]
    families = FAMILIES if rule["ipv6"] else FAMILIES[:1]
    return [(family, port, transport) for family in families for port, transport in ports]


def http_servers(rule):
    """(port, tls, what) of each http server block of a rule: its own, and the plain port-80 server
    of ``redirect_http`` or of ``tls.acme`` (one server when both: it answers challenges and
    redirects the rest); nginx makes a port TLS for every server on it if one says ``ssl``."""
    servers = [(rule["server_port"], bool(rule.get("tls")), "server_port")]
    if rule.get("redirect_http"):
        servers.append((80, False, "redirect_http"))
    elif is_acme(rule):
        servers.append((80, False, "acme"))
    return servers


def server_names(rule):
    """(port, server name) of every name each of the rule's http server blocks answers for."""
    return [(port, name) for port, _tls, _what in http_servers(rule) for name in rule["server_name"]]


def http_ports(rules):
    """Sorted ports of the http server blocks of ``rules`` (with the port-80 server of redirect_http)."""
    return sorted(set(port for rule in rules if rule["protocol"] == "http" for port, _tls, _what in http_servers(rule)))


def tls_ports(rules):
    """Sorted ports on which the http rules of ``rules`` terminate TLS."""
    return sorted(set(port for rule in rules if rule["protocol"] == "http"
                      for port, tls, _what in http_servers(rule) if tls))


def needs_stream(rules):
    """Whether a rule of ``rules`` lives in nginx's stream context (tcp or udp)."""
    return any(rule["protocol"] != "http" for rule in rules)


# --- warnings -------------------------------------------------------------------------------------

def backup_reach_warning(rule):
    """A warning when a rule's backups can be out of reach of a request.

    nginx asks a backup only after the request has tried the primaries, and ``next_upstream_tries``
    counts every try. With N primaries that fail at the same moment, a request needs N + 1 tries to
    reach a backup; with fewer it fails (502) until nginx has marked every primary failed, and again
    each time ``fail_timeout`` ends and nginx tries them all once more. Only a value the rule gives
    can be too small (the default reaches every backup, see ``rule.effective_tries``). Returns None
    when the rule has no backup in rotation or its tries reach one (0 means no limit)."""
    primaries, backups = in_rotation(rule)
    tries = rule.get("next_upstream_tries")
    if not backups or not tries or tries > len(primaries):
        return None
    return ("rule '%s': next_upstream_tries %d cannot reach its backup upstreams when its %d primary "
            "upstreams fail together (a request tries the primaries first): such requests fail until "
            "nginx has marked them all failed. Leave next_upstream_tries out (the default tries every "
            "upstream in rotation), or set it to at least %d (or 0, no limit)."
            % (rule["name"], tries, len(primaries), len(primaries) + 1))


def rule_warnings(rules):
    """Warnings for each canonical rule in ``rules`` (None entries, deletions, are skipped)."""
    notes = []
    for rule in rules:
        for note in (backup_reach_warning(rule), health_check_warning(rule)) if rule is not None else ():
            if note:
                notes.append(note)
    return notes
