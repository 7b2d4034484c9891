# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_acme_challenges
short_description: The HTTP-01 challenge files of an ACME order, where nginx serves them (the role uses it)
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Takes the C(challenge_data) of C(community.crypto.acme_certificate)'s order and one ACME rule of
    P(antsle.antman.lb_role_plan#filter) and returns the challenge files to write, each where the rule's
    port-80 server serves C(/.well-known/acme-challenge/TOKEN) from.
  - Every resource the CA names must be C(.well-known/acme-challenge/TOKEN) with a base64url token; anything else
    fails, so that the CA's answer never names another file on the host.
positional: rule
options:
  _input:
    description: The C(challenge_data) of the order, by identifier.
    type: dict
    required: true
  rule:
    description: The rule, an item of the C(acme.rules) of P(antsle.antman.lb_role_plan#filter).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write the challenge files of a rule's order
  ansible.builtin.copy:
    dest: "{{ item.path }}"
    content: "{{ item.content }}"
    mode: "0644"
  loop: "{{ order.challenge_data | antsle.antman.lb_acme_challenges(rule) }}"
"""

RETURN = r"""
_value:
  description: One item per identifier of the order, with C(identifier), C(path) and C(content).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError


def lb_acme_challenges(challenge_data, rule):
    from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError
    from ansible_collections.antsle.antman.plugins.module_utils.model.tls import acme_challenge_file
    files = []
    try:
        for identifier, challenges in sorted((challenge_data or {}).items()):
            challenge = challenges["http-01"]
            files.append({"identifier": identifier, "path": acme_challenge_file(rule["challenge_root"], challenge["resource"]),
                          "content": challenge["resource_value"]})
    except (KeyError, TypeError, AttributeError) as error:
        raise AnsibleFilterError("lb_acme_challenges: not the challenge_data of an HTTP-01 order (%s)" % error)
    except FieldError as error:
        raise AnsibleFilterError("lb_acme_challenges: the CA's answer for rule %s: %s" % (rule.get("name"), error))
    return files


class FilterModule(object):
    def filters(self):
        return {"lb_acme_challenges": lb_acme_challenges}
