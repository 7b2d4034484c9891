# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE_FIELDS, option_docs


class ModuleDocFragment(object):
    # The fields of a load-balancing rule, derived from their one source, the schema in
    # plugins/module_utils/model/schema.py: edit descriptions, types and defaults there.
    #   DOCUMENTATION: the fields as top-level options (lb_rule);
    #   CONFIG: the fields as suboptions of config[] (lb_rules), with option references into config[].
    # The defaults shown are those a rule is created with; an option left out of an existing rule
    # keeps its value (lb_rule, lb_rules merged): the modules read what a task gives.
    DOCUMENTATION = r"""
options: {}
"""


def _dump(options):
    return yaml.safe_dump(options, sort_keys=False, default_flow_style=False, width=1000)


def _plain(value):
    """OrderedDicts as plain dicts, for yaml.safe_dump."""
    if isinstance(value, dict):
        return dict((key, _plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


# Assigned after the class: ansible-test's yamllint reads class-level string literals only.
ModuleDocFragment.DOCUMENTATION = _dump({"options": _plain(option_docs(RULE_FIELDS))})
ModuleDocFragment.CONFIG = _dump({"options": {"config": {"suboptions": _plain(
    option_docs(RULE_FIELDS, refs="config[]."))}}})
