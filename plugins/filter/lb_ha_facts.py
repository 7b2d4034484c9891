# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_ha_facts
short_description: What keepalived needs on one host of a highly available pair, from the collection's model
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Validates a host's C(antman_lb_ha) (the P(antsle.antman.load_balancer#role) role's highly available pair) and
    returns what the role templates into keepalived's configuration, computed by the collection's model rather than
    in YAML.
  - Every value is checked by a grammar before anything is touched - virtual addresses (C(ADDRESS/PREFIX)), the
    interface name, the router id (1-255), the priority (1-254), the unicast peers, the VRRP password - and every
    problem is reported at once, naming the key and the value (the password is never shown).
  - The pair is every inventory host whose C(antman_lb_ha) has the same C(router_id) and the same C(virtual_ipv4)
    (so C(--limit) or C(serial) do not change it). Their VRRP passwords and C(preempt) must agree; two of them
    with the same priority are warned about. The default unicast peers are the other members' addresses on their
    interface, from their network facts; members whose facts are missing are listed in C(hosts_without_facts).
  - The result holds no password, so it may be stored in a fact.
positional: host, hostvars, inventory_hosts
options:
  _input:
    description: The host's C(antman_lb_ha).
    type: dict
    required: true
  host:
    description: The host, pass C(inventory_hostname).
    type: str
    required: true
  hostvars:
    description: The inventory host variables, pass C(hostvars).
    type: dict
    required: true
  inventory_hosts:
    description: Every host of the inventory, pass C(groups['all']).
    type: list
    elements: str
    required: true
  service:
    description:
      - The host's service manager, named as C(ansible_facts.service_mgr) names it (the role gives lb_host_facts' answer);
        keepalived runs under V(systemd) only.
    type: str
    default: systemd
  status_listen:
    description: The local status page the health check asks (the role's C(antman_lb_status_listen)).
    type: str
    default: 127.0.0.1:8081
  nginx_binary:
    description: nginx's binary, for the health check's configuration test.
    type: str
    default: /usr/sbin/nginx
  nginx_conf:
    description: nginx's main configuration, for the health check's configuration test.
    type: str
    default: /etc/nginx/nginx.conf
  rules_dir:
    description:
      - The rules directory (the role's C(antman_lb_rules_dir)); the configuration test waits for the lock of a
        run that is applying rules.
    type: str
    default: /etc/nginx/antman.d
"""

EXAMPLES = r"""
- name: Know the pair
  ansible.builtin.set_fact:
    pair: "{{ antman_lb_ha | antsle.antman.lb_ha_facts(inventory_hostname, hostvars, groups['all']) }}"

- name: Show the unicast peers
  ansible.builtin.debug:
    msg: "{{ pair.peers }}"
"""

RETURN = r"""
_value:
  description: The canonical settings (without the password) and what follows from them.
  type: dict
  contains:
    virtual_ipv4:
      description: The virtual addresses, C(ADDRESS/PREFIX).
      type: list
      elements: str
    interface:
      description: The interface VRRP runs on and the addresses are added to.
      type: str
    router_id:
      description: The virtual router id (VRID).
      type: int
    priority:
      description: This host's priority.
      type: int
    preempt:
      description: Whether a host of higher priority takes the addresses back when it returns.
      type: bool
    peers:
      description: The unicast peers; empty for multicast.
      type: list
      elements: str
    unicast:
      description: Whether VRRP advertisements are sent to the peers (else to VRRP's multicast group).
      type: bool
    pair:
      description: The hosts of the virtual router, this one included, in inventory order.
      type: list
      elements: str
    hosts_without_facts:
      description: Hosts of the pair whose network facts are needed (for their addresses) and missing.
      type: list
      elements: str
    status_host:
      description: The address of the local status page the health check asks.
      type: str
    status_port:
      description: Its port.
      type: int
    nginx_binary:
      description: nginx's binary (checked).
      type: str
    nginx_conf:
      description: nginx's main configuration (checked).
      type: str
    rules_lock:
      description: The lock file of the rules directory.
      type: str
    warnings:
      description: Warnings, also shown as Ansible warnings.
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from ansible.utils.display import Display
from jinja2 import Undefined
from jinja2.exceptions import UndefinedError

display = Display()


class Unresolved(Exception):
    pass


def plain(value):
    """``value`` with every template in it resolved: a template naming an undefined variable raises
    (UndefinedError from ansible-core 2.19's lazy containers, AnsibleUndefinedVariable from older ones)
    or, handed over as an undefined value, Unresolved."""
    if isinstance(value, Undefined):
        raise Unresolved(getattr(value, "_undefined_message", "an undefined variable"))
    if isinstance(value, Mapping):
        return dict((key, plain(value[key])) for key in value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def pair_hostvars(host, hostvars, inventory_hosts):
    """What the model reads of the inventory - each host's ``antman_lb_ha`` (set ones only) and network
    facts - and the other hosts whose ``antman_lb_ha`` names a variable they do not have (an extra
    variable applies to every host of the inventory, antlets included): those are no member of a pair."""
    from ansible_collections.antsle.antman.plugins.module_utils.model.ha import HOSTVAR
    found, unreadable = {}, []
    for other in inventory_hosts:
        variables = hostvars.get(other) or {}
        try:
            value = plain(variables.get(HOSTVAR))
        except (Unresolved, UndefinedError, AnsibleUndefinedVariable) as error:
            if other == host:
                raise AnsibleFilterError("invalid antman_lb_ha for %s: %s" % (host, error))
            unreadable.append("%s (%s)" % (other, error))
            continue
        if value:
            found[other] = {HOSTVAR: value, "ansible_facts": variables.get("ansible_facts") or {}}
    return found, unreadable


def lb_ha_facts(value, host, hostvars, inventory_hosts, service="systemd", status_listen="127.0.0.1:8081",
                nginx_binary="/usr/sbin/nginx", nginx_conf="/etc/nginx/nginx.conf", rules_dir="/etc/nginx/antman.d"):
    from ansible_collections.antsle.antman.plugins.module_utils.host.journal import Journal
    from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_path
    from ansible_collections.antsle.antman.plugins.module_utils.model.ha import HaError, ha_facts
    problems = []
    try:
        # The lock every transaction holds (host/journal.py names it).
        rules_lock = Journal(parse_path(rules_dir)).lock_path
    except FieldError as error:
        problems.append("antman_lb_rules_dir: %s" % error)
    inventory_hosts = list(inventory_hosts or [])
    known, unreadable = pair_hostvars(host, hostvars, inventory_hosts)
    try:
        facts = ha_facts(value, host, known, inventory_hosts, service, status_listen, nginx_binary, nginx_conf)
    except HaError as error:
        problems = error.problems + problems
    if problems:
        raise AnsibleFilterError("invalid antman_lb_ha for %s:\n- %s" % (host, "\n- ".join(problems)))
    facts["rules_lock"] = rules_lock
    if unreadable:
        facts["warnings"].append("antman_lb_ha of %s cannot be resolved on that host: not a member of any pair"
                                 % ", ".join(unreadable))
    for warning in facts["warnings"]:
        display.warning(warning)
    return facts


class FilterModule(object):
    def filters(self):
        return {"lb_ha_facts": lb_ha_facts}
