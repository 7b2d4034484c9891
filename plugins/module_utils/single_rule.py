# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lb_rule: one rule present or absent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.antsle.antman.plugins.module_utils.fields import FieldError, parse_name
from ansible_collections.antsle.antman.plugins.module_utils.module_support import make_applier
from ansible_collections.antsle.antman.plugins.module_utils.render import rule_file_name
from ansible_collections.antsle.antman.plugins.module_utils.rule import RULE_FIELDS, RuleError, normalize_rule


def requested_rule(params):
    """The canonical rule for state=present, or None for absent; validated before anything else."""
    try:
        name = parse_name(params["name"])
    except FieldError as error:
        raise RuleError(["name: %s" % error])
    if params["state"] == "absent":
        return name, None
    return name, normalize_rule(dict((key, params.get(key)) for key in RULE_FIELDS))


def apply_single_rule(module):
    name, rule = requested_rule(module.params)
    applier = make_applier(module)
    outcome = applier.run(lambda snapshot: {name: rule})
    current = outcome.snapshot.managed.get(name)
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
