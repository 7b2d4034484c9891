#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lb_inventory_rules
short_description: Internal to the load_balancer role - apply the inventory's rules as lb_rules does
version_added: 0.1.0
description:
  - B(Internal.) A module of the P(antsle.antman.load_balancer#role) role, not for playbooks. It lives in the
    collection's C(plugins/modules/__load_balancer/), which C(ansible-doc -l) does not list, and may change
    without notice. Apply rules with M(antsle.antman.lb_rules).
  - Applies the rules exactly as M(antsle.antman.lb_rules) does with the same O(state) - the same validation, the
    same transaction, the same result - and adds what only the role's check mode needs, O(include_pending).
author:
  - antsle.antman developers (@antsle)
extends_documentation_fragment:
  - antsle.antman.attributes
  - antsle.antman.host
  - antsle.antman.apply
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: One diff per changed rule file, its nginx configuration text.
  platform:
    platforms: posix
options:
  config:
    description:
      - The rules, complete, as the filter P(antsle.antman.lb_expand_rules#filter) returns them. Left out with
        O(state=deleted), every managed rule.
    type: list
    elements: dict
  state:
    description: As M(antsle.antman.lb_rules)'s O(antsle.antman.lb_rules#module:state).
    type: str
    choices: [overridden, replaced, deleted]
    required: true
  include_pending:
    description:
      - Check mode only. Plan the rules against the base configuration that the role's base configuration step
        changes earlier in the same check-mode run, but did not write - O(nginx_conf) need not include O(rules_dir)
        yet (on a host with no rules yet, every listed rule is then reported as created, as the real run will), and
        ports are not warned about for lacking a default server (the base configuration may add its catch-all).
      - Ignored outside check mode, where nginx must include O(rules_dir).
    type: bool
    default: false
seealso:
  - module: antsle.antman.lb_rules
"""

EXAMPLES = r"""
# As the load_balancer role calls it (tasks/apply_rules.yml).
- name: Apply the rules from inventory
  antsle.antman.__load_balancer.lb_inventory_rules:
    config: "{{ antman_lb_rules | antsle.antman.lb_expand_rules(groups, hostvars) }}"
    state: overridden
"""

RETURN = r"""
before:
  description: The managed rules before the change, as M(antsle.antman.lb_rules) returns them.
  returned: always
  type: list
  elements: dict
after:
  description: The managed rules after the change (or as they would be, in check mode).
  returned: always
  type: list
  elements: dict
changes:
  description: What changed, one item per rule, with C(name) and C(action).
  returned: always
  type: list
  elements: dict
reloaded:
  description: Whether nginx was reloaded.
  returned: always
  type: bool
"""

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_inventory_rules as body
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import execute


def main():
    execute(body)


if __name__ == "__main__":
    main()
