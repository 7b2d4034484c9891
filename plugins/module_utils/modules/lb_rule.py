# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the lb_rule module: one rule present or absent.

An existing rule keeps the current value of every field the task does not give (as ``lb_rules``
merged does, and as Ansible users expect of an option left out); the upstreams given replace its
list. A new rule, or one given with ``replace``, takes the defaults of the fields not given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.antsle.antman.plugins.module_utils.model.request import rule_request
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import FIELD_ORDER, rule_argument_spec
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import apply_options, host_options, transaction
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import rule_file_name

MODULE_KWARGS = {}


def argument_spec():
    spec = rule_argument_spec()
    spec.update(host_options())
    spec.update(apply_options())
    spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        replace=dict(type="bool", default=False),
    )
    return spec


def run(module):
    params = module.params
    given = module.given()
    fields = dict((key, given[key]) for key in FIELD_ORDER if key in given)
    request = rule_request(fields, present=params["state"] == "present", replace=params["replace"])
    name = request.names[0]
    applier = transaction(module)
    outcome = applier.run(lambda have: request.rules if request.rules is not None else request.merged_over(have.rules()),
                          contents=request.contents)
    current = outcome.snapshot.managed.get(name)
    rule = outcome.final_rules.get(name)
    if rule is not None:
        config_file = os.path.join(applier.rules_dir.path, rule_file_name(rule))
    else:
        config_file = os.path.join(applier.rules_dir.path, current.filename if current else name + ".conf")
    result = dict(
        changed=outcome.changed,
        rule=rule if rule is not None else (current.rule if current else None),
        config_file=config_file,
        reloaded=outcome.reloaded,
        warnings=outcome.warnings(),
    )
    if outcome.changes and module._diff:
        result["diff"] = outcome.changes[0].diff()
    return result
