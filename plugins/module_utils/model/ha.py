# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A highly available pair of antsle hosts (the role's ``antman_lb_ha``): hosts that share virtual
IPv4 addresses with VRRP (keepalived), so that one of them always holds the addresses.

What one host's settings are (every value through a grammar: nothing given by the user reaches
keepalived's configuration unchecked), which hosts of the inventory form one virtual router with it
(the same ``router_id`` and the same ``virtual_ipv4``), their addresses (its unicast peers), and the
checks across them. The VRRP password (``auth_pass``) is checked and compared but never returned
with the settings and never shown in a message. Pure functions: the role's filter ``lb_ha_facts``
gives them the inventory and the hosts' network facts; ``lb_ha_status`` (the table playbook) asks
which of the virtual addresses a host holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.common.collections import is_sequence

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError, parse_bool, parse_distinct, parse_int, parse_loopback_listen, parse_path, show)

KEYS = ("virtual_ipv4", "interface", "router_id", "priority", "auth_pass", "peers", "preempt")
REQUIRED = ("virtual_ipv4", "interface", "router_id", "auth_pass")
DEFAULT_PRIORITY = 100
# A VRRPv2 advertisement lists at most 20 addresses (RFC 3768's count is a byte, keepalived warns
# beyond 20 and sends them in no advertisement).
MAX_VIRTUAL = 20
# VRRP priority 255 means "the owner of the addresses" (they are configured on it): not a pair member.
PRIORITY_RANGE = (1, 254)
# Linux interface names: at most 15 bytes (IFNAMSIZ - 1); no '/', ':' or white space.
INTERFACE_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,14}\Z")
ADDRESS_PREFIX_RE = re.compile(r"\A([0-9]{1,3}(?:\.[0-9]{1,3}){3})/([0-9]{1,2})\Z")
# keepalived uses the first 8 characters of a VRRP password (and reports longer ones as an error).
AUTH_PASS_MAX = 8
# Characters keepalived's configuration reader treats specially: comments (# !), quoting, blocks,
# its ${VARIABLES} and escapes.
AUTH_PASS_FORBIDDEN = frozenset("\"'#!{}$\\`")
AUTH_PASS_RULE = ("1-%d printable ASCII characters without spaces or any of %s"
                  % (AUTH_PASS_MAX, " ".join(sorted(AUTH_PASS_FORBIDDEN))))
HOSTVAR = "antman_lb_ha"


class HaError(ValueError):
    """Invalid HA settings; ``problems`` lists every one, each naming the key and the value (never
    the password)."""

    def __init__(self, problems):
        super(HaError, self).__init__("; ".join(problems))
        self.problems = list(problems)


# -- one value ----------------------------------------------------------------------------------

def parse_ipv4(value):
    """A host IPv4 address (a unicast peer): dotted quad, canonical."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected an IPv4 address" % (show(value), type(value).__name__))
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise FieldError("%s is not an IPv4 address" % show(value))
    check_usable(address, value)
    return str(address)


def check_usable(address, original):
    if address.is_loopback or address.is_multicast or address.is_unspecified or address.is_reserved or address.is_link_local:
        raise FieldError("%s is a loopback, multicast, link-local, reserved or unspecified address" % show(original))


def parse_virtual_address(value):
    """One virtual address with the prefix length of its segment: ``10.1.1.50/24``."""
    if not isinstance(value, str):
        raise FieldError("%s is a %s, expected ADDRESS/PREFIX such as 10.1.1.50/24" % (show(value), type(value).__name__))
    match = ADDRESS_PREFIX_RE.match(value)
    if not match:
        if "/" not in value and ADDRESS_PREFIX_RE.match(value + "/24"):
            raise FieldError("%s has no prefix length: give the one of its segment, such as %s/24" % (show(value), value))
        raise FieldError("%s is not ADDRESS/PREFIX such as 10.1.1.50/24" % show(value))
    try:
        address = ipaddress.IPv4Address(match.group(1))
    except ValueError:
        raise FieldError("%s is not an IPv4 address with a prefix length" % show(value))
    prefix = int(match.group(2))
    if not 1 <= prefix <= 32:
        raise FieldError("%s has a prefix length out of range (1-32)" % show(value))
    check_usable(address, value)
    network = ipaddress.IPv4Network("%s/%d" % (address, prefix), strict=False)
    if prefix <= 30 and address in (network.network_address, network.broadcast_address):
        raise FieldError("%s is the network or broadcast address of %s" % (show(value), network))
    return "%s/%d" % (address, prefix)


def parse_virtual_ipv4(value):
    if isinstance(value, str) or not is_sequence(value):
        raise FieldError("%s is a %s, expected a list of ADDRESS/PREFIX such as [10.1.1.50/24]"
                         % (show(value), type(value).__name__))
    if not value or len(value) > MAX_VIRTUAL:
        raise FieldError("give 1 to %d addresses (got %d)" % (MAX_VIRTUAL, len(value)))
    # the same address with two prefixes is the same address twice
    return parse_distinct(value, parse_virtual_address, key=lambda address: address.split("/")[0])


def parse_interface(value):
    if not isinstance(value, str) or not INTERFACE_RE.match(value):
        raise FieldError("%s is not an interface name (1-15 of letters, digits, _ . -, starting with a letter or digit)"
                         % show(value))
    return value


def parse_auth_pass(value):
    """The VRRP password: checked, returned as given. Messages never show it."""
    if not isinstance(value, str):
        raise FieldError("is a %s, expected a string (value not shown)" % type(value).__name__)
    if (not 1 <= len(value) <= AUTH_PASS_MAX or not value.isascii() or not value.isprintable()
            or any(c.isspace() or c in AUTH_PASS_FORBIDDEN for c in value)):
        raise FieldError("(value not shown) must be %s" % AUTH_PASS_RULE)
    return value


def parse_peers(value):
    """None (the other hosts of the virtual router), or a list of IPv4 addresses; [] is multicast."""
    if value is None:
        return None
    if isinstance(value, str) or not is_sequence(value):
        raise FieldError("%s is a %s, expected a list of IPv4 addresses" % (show(value), type(value).__name__))
    return parse_distinct(value, parse_ipv4)


PARSERS = {
    "virtual_ipv4": parse_virtual_ipv4,
    "interface": parse_interface,
    "router_id": lambda value: parse_int(value, 1, 255),
    "priority": lambda value: parse_int(value, *PRIORITY_RANGE),
    "auth_pass": parse_auth_pass,
    "peers": parse_peers,
    "preempt": parse_bool,
}
DEFAULTS = {"priority": DEFAULT_PRIORITY, "peers": None, "preempt": False}


def parse_settings(value):
    """One host's ``antman_lb_ha`` -> (settings, auth_pass). The settings are canonical, every key
    present, without the password. Raises HaError listing every problem."""
    if not isinstance(value, dict):
        # Not shown: a mapping-like value may hold the password.
        raise HaError(["%s: a %s, expected a mapping with %s" % (HOSTVAR, type(value).__name__, ", ".join(KEYS))])
    problems = []
    unknown = sorted(str(key) for key in value if key not in KEYS)
    if unknown:
        problems.append("%s: unknown key(s) %s (known: %s)" % (HOSTVAR, ", ".join(show(k) for k in unknown), ", ".join(KEYS)))
    settings = {}
    for key in KEYS:
        raw = value.get(key)
        if raw is None and key in REQUIRED:
            problems.append("%s.%s: missing (required)" % (HOSTVAR, key))
            continue
        if raw is None and key in DEFAULTS:
            settings[key] = DEFAULTS[key]
            continue
        try:
            settings[key] = PARSERS[key](raw)
        except FieldError as error:
            problems.append("%s.%s: %s" % (HOSTVAR, key, error))
    if problems:
        raise HaError(problems)
    auth_pass = settings.pop("auth_pass")
    return settings, auth_pass


def split_listen(value):
    """``127.0.0.1:8081`` / ``[::1]:8081`` -> (host, port) for the health check."""
    if not isinstance(value, str) or not value:
        raise FieldError("%s: the health check needs the local status page (antman_lb_status_listen)" % show(value))
    return parse_loopback_listen(value)


# -- the pair -----------------------------------------------------------------------------------

def virtual_router(settings):
    """What makes hosts one virtual router: the same VRID and the same addresses."""
    return settings["router_id"], tuple(sorted(settings["virtual_ipv4"]))


def interface_facts(facts, interface):
    """The host's facts about ``interface`` (Ansible names the fact with - and : as _), or None."""
    return (facts or {}).get(interface.replace("-", "_").replace(":", "_"))


def interface_address(facts, interface):
    ipv4 = (interface_facts(facts, interface) or {}).get("ipv4") or {}
    return ipv4.get("address")


def held_addresses(facts, interface):
    """The IPv4 addresses ``interface`` has now (primary and secondaries), as ADDRESS/PREFIX."""
    info = interface_facts(facts, interface) or {}
    entries = [info.get("ipv4") or {}] + list(info.get("ipv4_secondaries") or [])
    held = []
    for entry in entries:
        if entry.get("address") and entry.get("netmask"):
            prefix = ipaddress.IPv4Network("0.0.0.0/%s" % entry["netmask"]).prefixlen
            held.append("%s/%d" % (entry["address"], prefix))
    return held


def pair_members(host, settings, hostvars, inventory_hosts, problems):
    """[(host, settings, auth_pass)] of the inventory hosts that form one virtual router with
    ``host`` (it included), in inventory order. Another host that sets the same router_id but whose
    settings are invalid is a problem of this host's too: its peers cannot be known."""
    members = []
    for other in inventory_hosts:
        raw = (hostvars.get(other) or {}).get(HOSTVAR)
        if not raw:
            continue
        try:
            other_settings, other_pass = parse_settings(raw)
        except HaError as error:
            same_router = isinstance(raw, dict) and str(raw.get("router_id")) == str(settings["router_id"])
            if other != host and same_router:
                problems.append("host %s (router_id %d too): %s" % (show(other), settings["router_id"], "; ".join(error.problems)))
            continue
        if virtual_router(other_settings) == virtual_router(settings):
            members.append((other, other_settings, other_pass))
    return members


def ha_facts(value, host, hostvars, inventory_hosts, service="systemd", status_listen="127.0.0.1:8081",
             nginx_binary="/usr/sbin/nginx", nginx_conf="/etc/nginx/nginx.conf"):
    """What the role needs to configure keepalived on ``host``, safe to keep in a fact (no password):

    the canonical settings; ``pair`` (the hosts of its virtual router, it included); ``peers`` (the
    unicast peers: as given, or the other members' addresses on their interface; [] means
    multicast, VRRP's own way on one segment); ``hosts_without_facts`` (members whose network facts
    are needed and missing: gather them and ask again); the health check's target (``status_host``,
    ``status_port``) and nginx's binary and configuration; ``warnings``. Raises HaError listing every
    problem."""
    settings, auth_pass = parse_settings(value)
    problems, warnings = [], []
    if service != "systemd":
        problems.append("%s: keepalived runs under systemd, and this host's service manager is %s" % (HOSTVAR, show(service)))
    try:
        status_host, status_port = split_listen(status_listen)
    except FieldError as error:
        problems.append("antman_lb_status_listen: %s" % error)
        status_host, status_port = None, None
    paths = {}
    for name, path in (("nginx_binary", nginx_binary), ("nginx_conf", nginx_conf)):
        try:
            paths[name] = parse_path(path)
        except FieldError as error:
            problems.append("antman_lb_%s: %s" % (name, error))
    members = pair_members(host, settings, hostvars, inventory_hosts, problems)
    if not any(member == host for member, _s, _p in members):
        members.insert(0, (host, settings, auth_pass))  # not in the inventory list (a test, an ad-hoc host)
    facts_of = dict((member, (hostvars.get(member) or {}).get("ansible_facts") or {}) for member, _s, _p in members)
    missing = [member for member in facts_of if "interfaces" not in facts_of[member]]
    others = [(member, member_settings) for member, member_settings, _p in members if member != host]

    if host not in missing:
        known = facts_of[host]["interfaces"]
        if settings["interface"] not in known:
            problems.append("%s.interface: %s is not an interface of %s (it has: %s)"
                            % (HOSTVAR, show(settings["interface"]), host, ", ".join(sorted(known))))
    if any(member_pass != auth_pass for _m, _s, member_pass in members):
        problems.append("%s.auth_pass differs between the hosts of router_id %d (%s); values not shown"
                        % (HOSTVAR, settings["router_id"], ", ".join(member for member, _s, _p in members)))
    preempts = set(member_settings["preempt"] for _m, member_settings, _p in members)
    if len(preempts) > 1:
        problems.append("%s.preempt differs between the hosts of router_id %d (%s)"
                        % (HOSTVAR, settings["router_id"], ", ".join(member for member, _s, _p in members)))

    own_addresses = dict((member, interface_address(facts_of[member], member_settings["interface"]))
                         for member, member_settings, _p in members if member not in missing)
    for member, address in sorted(own_addresses.items()):
        if address and any(v.split("/")[0] == address for v in settings["virtual_ipv4"]):
            problems.append("%s.virtual_ipv4: %s is the own address of %s on %s, not a free address"
                            % (HOSTVAR, address, member, dict((m, s) for m, s, _p in members)[member]["interface"]))

    if settings["peers"] is not None:
        peers = settings["peers"]
        if own_addresses.get(host) in peers:
            problems.append("%s.peers: %s is this host's own address" % (HOSTVAR, own_addresses[host]))
    else:
        peers = []
        for member, member_settings in others:
            if member in missing:
                continue
            address = own_addresses.get(member)
            if not address:
                problems.append("%s.peers: %s has no IPv4 address on %s (its network facts); give peers" % (
                    HOSTVAR, member, show(member_settings["interface"])))
                continue
            peers.append(address)
        if not others:
            warnings.append("%s: %s is the only host of router_id %d with virtual_ipv4 %s in the inventory: it holds "
                            "the addresses alone (no peers)" % (HOSTVAR, host, settings["router_id"],
                                                                ", ".join(settings["virtual_ipv4"])))
    priorities = {}
    for member, member_settings, _p in members:
        priorities.setdefault(member_settings["priority"], []).append(member)
    for priority, hosts in sorted(priorities.items()):
        if len(hosts) > 1:
            warnings.append("%s: hosts %s of router_id %d have the same priority %d: which one takes the addresses "
                            "is then decided by their IP addresses; give each host its own priority"
                            % (HOSTVAR, ", ".join(hosts), settings["router_id"], priority))
    if problems:
        raise HaError(problems)
    result = dict(settings)
    result.update({
        "peers": peers,
        "unicast": bool(peers),
        "pair": [member for member, _s, _p in members],
        "hosts_without_facts": [member for member in missing if member == host or settings["peers"] is None],
        "status_host": status_host,
        "status_port": status_port,
        "nginx_binary": paths["nginx_binary"],
        "nginx_conf": paths["nginx_conf"],
        "warnings": warnings,
    })
    return result


def ha_status(value, facts):
    """Which of the host's virtual addresses it holds now: {virtual_ipv4, interface, held, holds}."""
    settings, _auth_pass = parse_settings(value)
    held = [address.split("/")[0] for address in held_addresses(facts, settings["interface"])]
    mine = [address for address in settings["virtual_ipv4"] if address.split("/")[0] in held]
    return {"virtual_ipv4": settings["virtual_ipv4"], "interface": settings["interface"], "router_id": settings["router_id"],
            "priority": settings["priority"], "held": mine, "holds": len(mine) == len(settings["virtual_ipv4"])}
