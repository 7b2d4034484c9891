# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_ha_status
short_description: Whether a host of a highly available pair holds its virtual addresses now
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Takes a host's C(antman_lb_ha) and its network facts (C(ansible_facts) after gathering the V(network) subset)
    and says which of the virtual addresses its interface has now, as a line for the rule table.
  - The C(antsle.antman.rules) playbook prints it above each host's rules.
positional: facts
options:
  _input:
    description: The host's C(antman_lb_ha).
    type: dict
    required: true
  facts:
    description: The host's facts with the V(network) subset, pass C(ansible_facts).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Know the host's addresses
  ansible.builtin.setup:
    gather_subset: ["!all", "!min", network]

- name: Say whether it holds the virtual addresses
  ansible.builtin.debug:
    msg: "{{ antman_lb_ha | antsle.antman.lb_ha_status(ansible_facts) }}"
"""

RETURN = r"""
_value:
  description:
    - >-
      One line - the router id, the priority and what the host holds, such as
      C(HA router_id 51, priority 150: holds 10.1.1.50/24 on eth0) and MASTER in parentheses, or
      C(HA router_id 51, priority 100: does not hold 10.1.1.50/24 on eth0) and not master in parentheses.
  type: str
"""

from ansible.errors import AnsibleFilterError


def lb_ha_status(value, facts):
    from ansible_collections.antsle.antman.plugins.module_utils.model.ha import HaError, ha_status
    try:
        status = ha_status(value, facts)
    except HaError as error:
        raise AnsibleFilterError("invalid antman_lb_ha:\n- " + "\n- ".join(error.problems))
    head = "HA router_id %d, priority %d:" % (status["router_id"], status["priority"])
    addresses = ", ".join(status["virtual_ipv4"])
    if status["holds"]:
        return "%s holds %s on %s (MASTER)" % (head, addresses, status["interface"])
    if status["held"]:
        return "%s holds only %s of %s on %s" % (head, ", ".join(status["held"]), addresses, status["interface"])
    return "%s does not hold %s on %s (not master)" % (head, addresses, status["interface"])


class FilterModule(object):
    def filters(self):
        return {"lb_ha_status": lb_ha_status}
