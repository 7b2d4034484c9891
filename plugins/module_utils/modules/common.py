# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shell every module shares: its host and apply options, the AnsibleModule it runs in, how a
module's body is executed (one entry point) and how the collection's errors become failures.

A module's body is a module of ``module_utils/modules/`` named after it, with ``argument_spec()``,
``MODULE_KWARGS`` and ``run(module) -> result``; ``plugins/modules/X.py`` only calls ``execute``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.antsle.antman.plugins.module_utils.host.features import host_features
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError, Transaction
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import PRIVATE_KEY_MARK
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import Nginx, NginxError

DEFAULT_RULES_DIR = "/etc/nginx/antman.d"
DEFAULT_NGINX_CONF = "/etc/nginx/nginx.conf"


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


def transaction(module, rules_included=True):
    """The transaction for this module's host and apply options (``rules_included``: whether nginx
    must include the rules directory already)."""
    params = module.params
    return Transaction(params["rules_dir"], params["nginx_binary"], params["nginx_conf"], module.run_command,
                       reload=params["reload"], check_mode=module.check_mode, lock_timeout=params["lock_timeout"],
                       rules_included=rules_included)


def read_host(module):
    """The snapshot of this module's host (modules that only read: lb_rule_info, lb_rules
    state=gathered), rules checked against what they render to for the host's nginx (whose binary
    is only looked for if a rule's text depends on its version)."""
    params = module.params
    host = Host.read(params["nginx_conf"], params["rules_dir"])

    def version():
        return Nginx(params["nginx_binary"], params["nginx_conf"], module.run_command, host.scan).version()
    return host.snapshot(host_features(version))


class AntmanModule(AnsibleModule):
    """AnsibleModule that treats every option value holding a PEM private key as ``no_log``, wherever
    it was given (``key_content`` is ``no_log`` already; a key pasted into ``tls.key``, into
    ``certificate_content`` or under a misspelt option is not). Registered as soon as the arguments
    are read, before Ansible validates them: its own errors (an unsupported option, a wrong type)
    return ``invocation`` with the key masked too."""

    def _load_params(self):
        super(AntmanModule, self)._load_params()
        hide_private_keys(self)

    def log(self, msg, log_args=None):
        """Log with NUL characters escaped. syslog refuses them, and AnsibleModule logs the arguments
        before they are validated: a NUL in any option would fail the module with a message about
        syslog instead of the collection's error naming the option and the value."""
        if isinstance(msg, str):
            msg = msg.replace("\x00", "\\x00")
        super(AntmanModule, self).log(msg, log_args)


def hide_private_keys(module):
    pending = [module.params]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif isinstance(value, str) and PRIVATE_KEY_MARK in value:
            module.no_log_values.add(value)


def execute(body):
    """Run a module: its AnsibleModule from ``body.argument_spec()`` and ``body.MODULE_KWARGS``, then
    ``body.run(module)`` -> result, the collection's errors turned into fail_json."""
    module = AntmanModule(argument_spec=body.argument_spec(), supports_check_mode=True, **body.MODULE_KWARGS)
    try:
        result = body.run(module)
    except RuleError as error:
        module.fail_json(msg=str(error), problems=error.problems)
    except ApplyError as error:
        module.fail_json(msg=str(error), rules=error.rules, nginx_output=error.output)
    except NginxError as error:
        module.fail_json(msg=str(error), nginx_output=error.output)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
