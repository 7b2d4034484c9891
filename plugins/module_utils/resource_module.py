# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lb_rules as a module: dispatch on state, apply, shape the result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.advice import rule_warnings
from ansible_collections.antsle.antman.plugins.module_utils.module_support import make_applier
from ansible_collections.antsle.antman.plugins.module_utils.resource import (
    GATHERED, PARSED, RENDERED, desired_rules, render_config, validate_request)
from ansible_collections.antsle.antman.plugins.module_utils.rule_info import read_managed


def by_name(rules):
    return [rules[name] for name in sorted(rules)]


def run_parsed(module):
    from ansible_collections.antsle.antman.plugins.module_utils.parse import CROSSPLANE_IMPORT_ERROR, parse_config
    if CROSSPLANE_IMPORT_ERROR is not None:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("crossplane"), exception=CROSSPLANE_IMPORT_ERROR)
    if not module.params["running_config"]:
        module.fail_json(msg="running_config: state parsed needs the nginx configuration text to parse")
    rules, unsupported = parse_config(module.params["running_config"])
    return dict(changed=False, parsed=rules, unsupported=unsupported)


def run_lb_rules(module):
    params = module.params
    state, config = params["state"], params["config"]
    if state == PARSED:
        return run_parsed(module)
    want = validate_request(state, config)
    if state == RENDERED:
        return dict(changed=False, rendered=render_config(want, params["rules_dir"]),
                    warnings=rule_warnings(want.values()))
    if state == GATHERED:
        snapshot = read_managed(params["nginx_conf"], params["rules_dir"])
        return dict(changed=False, gathered=by_name(snapshot.rules()), warnings=snapshot.warnings())
    outcome = make_applier(module).run(lambda have: desired_rules(state, config, want, have))
    result = dict(
        changed=outcome.changed,
        before=by_name(outcome.snapshot.rules()),
        after=by_name(outcome.final_rules),
        changes=[change.as_dict() for change in outcome.changes],
        reloaded=outcome.reloaded,
        warnings=outcome.warnings(),
    )
    if module._diff and outcome.changes:
        result["diff"] = [change.diff() for change in outcome.changes]
    return result
