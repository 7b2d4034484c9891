# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the lb_rules module: the whole rule set as one resource, with the states of
Ansible's network resource modules (merged, replaced, overridden, deleted, gathered, rendered,
parsed).

The request (``want``) is parsed and validated before anything is touched; ``have`` is the
snapshot read under the lock; ``desired_rules`` turns both into the {name: rule or None} that the
transaction applies in one step: one ``nginx -t`` and at most one reload, whatever the size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.health.status import rules_health
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_nginx_version
from ansible_collections.antsle.antman.plugins.module_utils.model.request import config_request
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import rule_warnings
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import config_argument_spec
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import apply_options, host_options, read_host, transaction
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import NginxFeatures, render_rule, rule_file_name

MERGED, REPLACED, OVERRIDDEN, DELETED = "merged", "replaced", "overridden", "deleted"
GATHERED, RENDERED, PARSED = "gathered", "rendered", "parsed"
STATES = (MERGED, REPLACED, OVERRIDDEN, DELETED, GATHERED, RENDERED, PARSED)
MODULE_KWARGS = dict(required_if=[("state", "parsed", ("running_config",))])


def argument_spec():
    spec = host_options()
    spec.update(apply_options())
    spec.update(config_argument_spec())
    spec.update(
        state=dict(type="str", default=MERGED, choices=list(STATES)),
        running_config=dict(type="str"),
        nginx_version=dict(type="str"),
    )
    return spec


def parse_request(state, config):
    """The request of a state that uses ``config``: everything that can be checked without the host.
    For merged, entries are completed over the rules on the host once it is read."""
    return config_request(config, complete=state in (REPLACED, OVERRIDDEN, RENDERED),
                          needed=state in (MERGED, REPLACED, OVERRIDDEN), state=state)


def desired_rules(state, request, have):
    """{name: canonical rule, or None to delete} for a writing state, given the snapshot ``have``."""
    if state == MERGED:
        return request.merged_over(have.rules())
    if state == REPLACED:
        return OrderedDict(request.rules)
    if state == OVERRIDDEN:
        desired = OrderedDict((name, None) for name in have.managed if name not in request.rules)
        desired.update(request.rules)
        return desired
    if state == DELETED:
        # Every managed rule only when config was left out: an empty list deletes nothing.
        names = list(have.managed) if request.every_rule else request.names
        return OrderedDict((name, None) for name in names)
    raise ValueError("not a writing state: %s" % state)


def by_name(rules):
    return [rules[name] for name in sorted(rules)]


def run_parsed(module):
    from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_import import (
        CROSSPLANE_IMPORT_ERROR, parse_config)
    if CROSSPLANE_IMPORT_ERROR is not None:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib("crossplane"), exception=CROSSPLANE_IMPORT_ERROR)
    if not module.params["running_config"]:
        module.fail_json(msg="running_config: state parsed needs the nginx configuration text to parse")
    rules, unsupported = parse_config(module.params["running_config"])
    return dict(changed=False, parsed=rules, unsupported=unsupported)


def rendered_features(state, nginx_version):
    """What ``rendered`` renders for without a host: the nginx version given (the HTTP/2 syntax),
    or the syntax every version accepts; IPv6 listeners as the rules ask. Other states read the
    host's nginx, so the option is refused there."""
    if nginx_version is None:
        return NginxFeatures()
    if state != RENDERED:
        raise RuleError(["nginx_version: only state rendered takes it (state %s reads the version from the host's "
                         "nginx)" % state])
    try:
        return NginxFeatures(version=parse_nginx_version(nginx_version))
    except FieldError as error:
        raise RuleError(["nginx_version: %s" % error])


def given_config(module):
    """The fields each item of ``config`` gives (Ansible fills in the documented defaults; merged keeps
    what is not given), or None when config was left out."""
    return module.given().get("config") if module.params["config"] is not None else None


def run(module):
    params = module.params
    state = params["state"]
    features = rendered_features(state, params["nginx_version"])
    if state == PARSED:
        return run_parsed(module)
    request = parse_request(state, given_config(module))
    if state == RENDERED:
        rendered = [dict(name=rule["name"], file=rule_file_name(rule), text=render_rule(rule, params["rules_dir"], features))
                    for rule in request.rules.values()]
        return dict(changed=False, rendered=rendered, warnings=rule_warnings(request.rules.values()))
    if state == GATHERED:
        snapshot = read_host(module)
        return dict(changed=False, gathered=list(snapshot.rules().values()),
                    health=rules_health(snapshot, params["rules_dir"]), warnings=snapshot.warnings())
    return apply(module, state, request)


def apply(module, state, request, include_pending=False):
    """Apply a writing state's request in one transaction; the module's result. ``include_pending``
    (check mode only; the load_balancer role's apply module ``lb_host_apply``, its rules part): plan the rules
    against the base configuration the same run applies first, which nginx does not include yet."""
    pending = module.check_mode and include_pending
    outcome = transaction(module, rules_included=not pending).run(lambda have: desired_rules(state, request, have),
                                                                  contents=request.contents)
    result = dict(
        changed=outcome.changed,
        before=list(outcome.snapshot.rules().values()),
        after=by_name(outcome.final_rules),
        changes=[change.as_dict() for change in outcome.changes],
        reloaded=outcome.reloaded,
        warnings=outcome.warnings(),
    )
    if module._diff and outcome.changes:
        result["diff"] = [change.diff() for change in outcome.changes]
    return result
