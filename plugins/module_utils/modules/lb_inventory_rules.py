# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules part of the load_balancer role's apply module (``antsle.antman.__load_balancer.lb_host_apply``,
its option ``rules``): the inventory's rules applied as ``lb_rules`` applies them (the same request,
the same transaction), plus what only the role's check mode needs: on a host whose base
configuration the same run applies first (no include of the rules directory yet, or a catch-all
server for a new port), ``include_pending`` (set by lb_host_apply when its base part would change
something, never an option) plans the rules as the real run will apply them, instead of refusing a
host whose nginx does not include the rules directory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_rules
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import apply_options, host_options

STATES = (lb_rules.OVERRIDDEN, lb_rules.REPLACED, lb_rules.DELETED)


def argument_spec():
    spec = host_options()
    spec.update(apply_options())
    spec.update(
        # Complete rules from the filter lb_expand_rules, validated on the controller; the model checks them
        # again here, as lb_rules does. A PEM private key anywhere in them is no_log (AntmanModule).
        config=dict(type="list", elements="dict"),
        state=dict(type="str", required=True, choices=list(STATES)),
    )
    return spec


def run(module):
    state = module.params["state"]
    request = lb_rules.parse_request(state, lb_rules.given_config(module))
    return lb_rules.apply(module, state, request, include_pending=module.params.get("include_pending", False))
