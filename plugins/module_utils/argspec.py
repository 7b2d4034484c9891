# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the modules. Defaults come from the rule model, so they exist once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.fields import TLS_PROTOCOLS
from ansible_collections.antsle.antman.plugins.module_utils.rule import COMMON_DEFAULTS, METHODS, PROTOCOLS

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


def tls_options():
    return dict(
        certificate=dict(type="str"),
        key=dict(type="str", no_log=False),
        certificate_content=dict(type="str"),
        key_content=dict(type="str", no_log=True),
        certificate_sha256=dict(type="str"),
        key_sha256=dict(type="str", no_log=False),
        protocols=dict(type="list", elements="str", choices=list(TLS_PROTOCOLS)),
    )


def rule_options():
    """Rule fields as top-level module options (lb_rule). Fields whose default depends on the
    protocol, or that apply to http only, have no default here: the model supplies it."""
    defaults = COMMON_DEFAULTS
    return dict(
        name=dict(type="str", required=True),
        protocol=dict(type="str", default=defaults["protocol"], choices=list(PROTOCOLS)),
        server_name=dict(type="list", elements="str"),
        server_port=dict(type="int", default=defaults["server_port"]),
        method=dict(type="str", default=defaults["method"], choices=list(METHODS)),
        upstreams=dict(type="list", elements="dict", options=upstream_options()),
        connect_timeout=dict(type="str", default=defaults["connect_timeout"]),
        read_timeout=dict(type="str"),
        max_fails=dict(type="int", default=defaults["max_fails"]),
        fail_timeout=dict(type="str", default=defaults["fail_timeout"]),
        next_upstream_tries=dict(type="int", default=defaults["next_upstream_tries"]),
        retry_non_idempotent=dict(type="bool"),
        keepalive=dict(type="int"),
        tls=dict(type="dict", options=tls_options()),
        redirect_http=dict(type="bool"),
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
