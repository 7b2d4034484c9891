# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module does the same way: build the applier from its options, report errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.apply import Applier, ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.nginx import Nginx, NginxError
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError


def make_applier(module):
    params = module.params
    nginx = Nginx(params["nginx_binary"], params["nginx_conf"], module.run_command, skip_dirs=[params["rules_dir"]])
    return Applier(params["rules_dir"], nginx, reload=params["reload"], check_mode=module.check_mode,
                   lock_timeout=params["lock_timeout"])


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
