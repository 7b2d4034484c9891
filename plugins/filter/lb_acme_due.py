# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_acme_due
short_description: Which ACME certificates of a rule set must be obtained now, and why
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Takes the ACME rules of P(antsle.antman.lb_rule_set_facts#filter) (its C(acme) list; the role passes the same list
    from P(antsle.antman.lb_role_plan#filter), its C(acme.rules)) and what the P(antsle.antman.load_balancer#role) role
    read on the host, and returns the rules whose certificate is due, each with a C(reason).
  - A certificate is due when none was issued yet, when fewer than O(renew_days) days remain, when the issued one is not
    the one served, when its names are not exactly the rule's C(server_name), or when another ACME directory than
    O(directory) issued it (or which one did is not recorded).
positional: issued, files, records, directory, renew_days
options:
  _input:
    description: The C(acme) list of P(antsle.antman.lb_rule_set_facts#filter).
    type: list
    elements: dict
    required: true
  issued:
    description: The results of C(community.crypto.x509_certificate_info) of each rule's C(issued) file, looped over O(_input).
    type: list
    elements: dict
    required: true
  files:
    description: The results of C(ansible.builtin.stat) with C(get_checksum) of the C(issued) and C(certificate) files.
    type: list
    elements: dict
    required: true
  records:
    description: The results of C(ansible.builtin.slurp) of each rule's C(record) file, looped over O(_input).
    type: list
    elements: dict
    required: true
  directory:
    description: The ACME directory certificates come from now (the role's C(antman_lb_acme_directory)).
    type: str
    required: true
  renew_days:
    description: Renew when fewer days than this remain (the role's C(antman_lb_acme_renew_days)), for the reason given.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Know which ACME certificates are due
  ansible.builtin.set_fact:
    acme_due: >-
      {{ rule_set.acme | antsle.antman.lb_acme_due(issued.results, files.results, records.results,
                                                   antman_lb_acme_directory, antman_lb_acme_renew_days) }}
"""

RETURN = r"""
_value:
  description: The items of O(_input) whose certificate is due, each with C(reason), a sentence saying why.
  type: list
  elements: dict
"""

import base64
import binascii

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def lb_acme_due(rules, issued, files, records, directory, renew_days):
    from ansible_collections.antsle.antman.plugins.module_utils.model.acme import due_certificates
    try:
        infos = dict((result["item"]["name"], result) for result in issued)
        checksums = dict((result["item"], (result.get("stat") or {}).get("checksum", "")) for result in files)
        recorded = {}
        for result in records:
            if "content" in result:
                recorded[result["item"]["name"]] = to_text(base64.b64decode(result["content"]))
    except (KeyError, TypeError, binascii.Error) as error:
        raise AnsibleFilterError("lb_acme_due: the results given are not those of the role's tasks (%s)" % error)
    return due_certificates(rules, infos, checksums, recorded, directory, renew_days)


class FilterModule(object):
    def filters(self):
        return {"lb_acme_due": lb_acme_due}
