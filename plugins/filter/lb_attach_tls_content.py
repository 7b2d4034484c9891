# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_attach_tls_content
short_description: Give canonical rules back the TLS certificate and key content of the inventory rules
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - "Canonical rules (from P(antsle.antman.lb_expand_rules#filter)) carry TLS content as sha256 digests only,
    so that no private key is stored in a fact. For M(antsle.antman.lb_rules) to write a certificate and key,
    the rules passed to it need the content: this filter puts the inventory rule's C(tls) back, by rule name,
    for rules that give C(key_content)."
  - Use it directly in the module's arguments, where O(antsle.antman.lb_rules#module:config[].tls.key_content)
    is protected by C(no_log); never store its result in a fact.
positional: rules
options:
  _input:
    description: Canonical rules.
    type: list
    elements: dict
    required: true
  rules:
    description: The inventory rules (C(antman_lb_rules)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply the rules, writing certificates given as content
  antsle.antman.lb_rules:
    state: overridden
    config: "{{ antman_lb_rules | antsle.antman.lb_expand_rules(groups, hostvars) | antsle.antman.lb_attach_tls_content(antman_lb_rules) }}"
"""

RETURN = r"""
_value:
  description: The canonical rules, those with TLS content given in inventory carrying it again.
  type: list
  elements: dict
"""


def attach_tls_content(desired, rules):
    """Replace the digest-only ``tls`` of canonical rules by the inventory rule's, when that gives key content."""
    raw_tls = {}
    for raw in rules or []:
        tls = raw.get("tls") if isinstance(raw, dict) else None
        if isinstance(tls, dict) and tls.get("key_content") is not None:
            raw_tls[raw.get("name")] = tls
    return [dict(rule, tls=raw_tls[rule["name"]]) if rule.get("name") in raw_tls else rule for rule in desired]


class FilterModule(object):
    def filters(self):
        return {"lb_attach_tls_content": attach_tls_content}
