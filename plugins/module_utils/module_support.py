# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module does the same way: build the applier from its options, report errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.antsle.antman.plugins.module_utils.apply import Applier, ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.fields import PRIVATE_KEY_MARK
from ansible_collections.antsle.antman.plugins.module_utils.nginx import Nginx, NginxError
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError


def make_applier(module):
    params = module.params
    nginx = Nginx(params["nginx_binary"], params["nginx_conf"], module.run_command, skip_dirs=[params["rules_dir"]])
    return Applier(params["rules_dir"], nginx, reload=params["reload"], check_mode=module.check_mode,
                   lock_timeout=params["lock_timeout"])


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


def run_module(module, operation):
    """Run ``operation(module)`` -> result dict, turning the collection's errors into fail_json."""
    try:
        result = operation(module)
    except RuleError as error:
        module.fail_json(msg=str(error), problems=error.problems)
    except ApplyError as error:
        module.fail_json(msg=str(error), rules=error.rules, nginx_output=error.output)
    except NginxError as error:
        module.fail_json(msg=str(error), nginx_output=error.output)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
