# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the modules. Defaults come from the rule model, so they exist once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.rule import METHODS, RULE_DEFAULTS

DEFAULT_RULES_DIR = "/etc/nginx/antman.d"
DEFAULT_NGINX_CONF = "/etc/nginx/nginx.conf"


def upstream_options():
    return dict(
        address=dict(type="str", required=True),
        weight=dict(type="int", default=1),
        backup=dict(type="bool", default=False),
        down=dict(type="bool", default=False),
        max_fails=dict(type="int"),
        fail_timeout=dict(type="str"),
    )


def rule_options():
    """Rule fields as top-level module options (lb_rule)."""
    return dict(
        name=dict(type="str", required=True),
        server_name=dict(type="list", elements="str"),
        server_port=dict(type="int", default=RULE_DEFAULTS["server_port"]),
        method=dict(type="str", default=RULE_DEFAULTS["method"], choices=list(METHODS)),
        upstreams=dict(type="list", elements="dict", options=upstream_options()),
        connect_timeout=dict(type="str", default=RULE_DEFAULTS["connect_timeout"]),
        read_timeout=dict(type="str", default=RULE_DEFAULTS["read_timeout"]),
        max_fails=dict(type="int", default=RULE_DEFAULTS["max_fails"]),
        fail_timeout=dict(type="str", default=RULE_DEFAULTS["fail_timeout"]),
        next_upstream_tries=dict(type="int", default=RULE_DEFAULTS["next_upstream_tries"]),
        retry_non_idempotent=dict(type="bool", default=RULE_DEFAULTS["retry_non_idempotent"]),
        keepalive=dict(type="int", default=RULE_DEFAULTS["keepalive"]),
    )


def without_defaults(options):
    """The same argument spec with no defaults (lb_rules config items: unmentioned fields are kept)."""
    result = {}
    for name, spec in options.items():
        spec = dict((key, value) for key, value in spec.items() if key != "default")
        if "options" in spec:
            spec["options"] = without_defaults(spec["options"])
        result[name] = spec
    return result


def config_options():
    """lb_rules: ``config``, a list of rules with the rule fields as suboptions."""
    return dict(config=dict(type="list", elements="dict", options=without_defaults(rule_options())))


def host_options():
    """Where the rules and nginx live on the host."""
    return dict(
        rules_dir=dict(type="path", default=DEFAULT_RULES_DIR),
        nginx_binary=dict(type="str", default="nginx"),
        nginx_conf=dict(type="path", default=DEFAULT_NGINX_CONF),
    )


def apply_options():
    """How changes are applied."""
    return dict(
        reload=dict(type="bool", default=True),
        lock_timeout=dict(type="int", default=300),
    )
