# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_rule_set_facts
short_description: What a rule set from inventory makes nginx serve, from the collection's rule model
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Expands and validates the rules of C(antman_lb_rules) as P(antsle.antman.lb_expand_rules#filter) does and
    returns what the role needs to know about them, computed by the collection's rule model rather than
    re-derived in YAML.
  - The result holds no key material (TLS content as sha256 digests only), so it may be stored in a fact.
positional: groups, hostvars, extra_ports, acme_dir
extends_documentation_fragment:
  - antsle.antman.inventory_rules
options:
  extra_ports:
    description: More ports that count as http ports (the role's C(antman_lb_extra_ports)).
    type: list
    elements: int
    default: []
  acme_dir:
    description: Directory of the rules with C(tls.acme=true) that do not name one (the role's C(antman_lb_acme_dir)).
    type: str
"""

EXAMPLES = r"""
- name: Know the rule set
  ansible.builtin.set_fact:
    rule_set: "{{ antman_lb_rules | antsle.antman.lb_rule_set_facts(groups, hostvars) }}"

- name: Show the ports nginx will listen on for http rules
  ansible.builtin.debug:
    msg: "{{ rule_set.http_ports }}"
"""

RETURN = r"""
_value:
  description: Facts about the rule set.
  type: dict
  contains:
    rules:
      description: The rules in canonical form, in the order given (TLS content as digests).
      type: list
      elements: dict
    http_ports:
      description:
        - Sorted ports of the http rules' server blocks, with port 80 for V(redirect_http) and the O(extra_ports).
      type: list
      elements: int
    tls_ports:
      description: Sorted ports on which http rules terminate TLS.
      type: list
      elements: int
    stream:
      description: Whether a rule is tcp or udp (nginx's stream context and module are needed).
      type: bool
    acme:
      description:
        - The rules whose certificate comes from an ACME CA, each with C(name), C(server_name) (and as a certificate
          request names them, C(subject_alt_name)), C(acme_dir) and its
          files C(certificate) and C(key) (what nginx serves), C(issued) (where the CA's certificate is stored),
          C(record) (the ACME directory that issued it) and C(challenge_root) (nginx's root for
          C(/.well-known/acme-challenge/)).
      type: list
      elements: dict
    tls_policy:
      description:
        - The nginx directives of the collection's TLS defaults (protocols, ciphers, groups), for servers the role
          writes itself on TLS ports (the catch-all).
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError


def lb_rule_set_facts(rules, groups, hostvars, extra_ports=None, acme_dir=None):
    from ansible_collections.antsle.antman.plugins.module_utils.model.inventory import rule_set_facts
    from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
    from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import tls_policy_lines
    try:
        facts = rule_set_facts(rules, groups, hostvars, extra_ports or [], acme_dir)
    except RuleError as error:
        raise AnsibleFilterError("invalid antman_lb_rules:\n- " + "\n- ".join(error.problems))
    facts["tls_policy"] = tls_policy_lines()
    return facts


class FilterModule(object):
    def filters(self):
        return {"lb_rule_set_facts": lb_rule_set_facts}
