# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The input of the filters that read the role's inventory rules (lb_expand_rules, lb_rule_set_facts).
    DOCUMENTATION = r"""
options:
  _input:
    description: The rules, as in C(antman_lb_rules).
    type: list
    elements: dict
    required: true
  groups:
    description: The inventory groups, pass C(groups).
    type: dict
    required: true
  hostvars:
    description: The inventory host variables, pass C(hostvars).
    type: dict
    required: true
"""
