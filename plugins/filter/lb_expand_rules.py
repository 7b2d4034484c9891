# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_expand_rules
short_description: Turn inventory rules (with inventory-driven upstreams) into complete, validated rules
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Takes the rules of C(antman_lb_rules) and returns them in canonical form, the form
    M(antsle.antman.lb_rule) and M(antsle.antman.lb_rules) accept, with every field present.
  - A rule may name an inventory group in C(upstream_group) (a group name or a list of them) instead of, or
    besides, static C(upstreams). Every host of the group becomes one upstream, after the static ones, in
    inventory order. Its address is the host's C(antman_lb_address) (default C(ansible_host), default the
    inventory host name); a port in that address wins, else the rule's C(upstream_port), else 80. Its
    C(weight), C(backup) and C(down) come from the host vars C(antman_lb_weight) (default 1),
    C(antman_lb_backup) and C(antman_lb_down) (default false).
  - Every rule is validated with the collection's rule model on the controller, before anything is touched,
    and the set is checked as a whole (a name listed twice, one server name on one port in two rules).
    All problems are reported at once, each naming the rule, the field, the value and, for inventory-driven
    upstreams, the host and group it came from.
  - The role P(antsle.antman.load_balancer#role) uses it; it needs C(groups) and C(hostvars).
  - TLS content (O(antsle.antman.lb_rule#module:tls.key_content)) is kept as the inventory gives it, so that
    M(antsle.antman.lb_rules) writes the certificate and key. Use the result directly in the module's arguments,
    where O(antsle.antman.lb_rules#module:config[].tls.key_content) is protected by C(no_log); never store it
    in a fact (P(antsle.antman.lb_rule_set_facts#filter) gives what is safe to store).
positional: groups, hostvars, acme_dir
extends_documentation_fragment:
  - antsle.antman.inventory_rules
options:
  acme_dir:
    description: Directory of the rules with C(tls.acme=true) that do not name one (the role's C(antman_lb_acme_dir)).
    type: str
"""

EXAMPLES = r"""
# group_vars/antsle.yml
# antman_lb_rules:
#   - name: shop
#     server_name: shop.example.com
#     upstream_group: web_antlets
#     upstream_port: 8080
#     upstreams:
#       - address: 10.1.1.50:8080
#         backup: true
- name: Apply the inventory's rules, with their upstreams resolved from inventory
  antsle.antman.lb_rules:
    state: overridden
    config: "{{ antman_lb_rules | antsle.antman.lb_expand_rules(groups, hostvars) }}"
"""

RETURN = r"""
_value:
  description:
    - The rules in canonical form (every field present, upstreams expanded), in the order given; TLS content
      as given in inventory.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def expand_rules(rules, groups, hostvars, acme_dir=None):
    from ansible_collections.antsle.antman.plugins.module_utils.model.inventory import module_rules
    from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
    try:
        return module_rules(rules, groups, hostvars, acme_dir)
    except RuleError as error:
        raise AnsibleFilterError("invalid antman_lb_rules:\n- " + "\n- ".join(error.problems))


class FilterModule(object):
    def filters(self):
        return {"lb_expand_rules": expand_rules}
