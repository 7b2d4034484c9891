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

import copy
import difflib

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.antsle.antman.plugins.module_utils.host.features import host_features
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError, Transaction
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import NAME_RE, PRIVATE_KEY_MARK, rule_label, show
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
    return ``invocation`` with the key masked too.

    It also keeps what the task gave, before Ansible fills in defaults (``given``: an option left
    out of an existing rule keeps its value), and names the list item of a misspelt suboption
    (``input_problems``; Ansible's own message says ``config.server_nmae``, not which item)."""

    def _load_params(self):
        super(AntmanModule, self)._load_params()
        hide_private_keys(self)
        self.input_problems = unsupported_suboptions(self.argument_spec, self.params)
        self.raw_params = copy.deepcopy(self.params)

    def given(self):
        """The options the task gave (not None), with Ansible's conversions applied and without the
        defaults it filled in, in lists and suboptions too."""
        return given_options(self.raw_params, self.params)

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


def given_options(raw, validated):
    """``validated`` restricted to what ``raw`` (the same options before validation) gives."""
    if isinstance(raw, dict) and isinstance(validated, dict):
        return dict((key, given_options(value, validated.get(key))) for key, value in raw.items()
                    if value is not None and key in validated)
    if isinstance(raw, list) and isinstance(validated, list) and len(raw) == len(validated):
        return [given_options(item, checked) for item, checked in zip(raw, validated)]
    return validated


def unsupported_suboptions(spec, params, where=""):
    """Problems naming each suboption a list item or a dict gives that its spec lacks, with the item's
    index (and rule name), as the rule model names fields: ``config[1] (rule 'api'): upstreams[0]:
    unsupported field "wieght" (did you mean "weight"?)``. Such keys are removed from ``params``, so
    that the module reports them itself, all at once, instead of Ansible's message without the index."""
    problems = []
    for key, option in spec.items():
        options, value = option.get("options"), params.get(key) if isinstance(params, dict) else None
        if not options or value is None:
            continue
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if not isinstance(item, dict):
                continue  # Ansible's own type check names it
            path = "%s%s%s" % (where, key, "" if index is None else "[%s]" % index)
            name = item.get("name") if key == "config" else None
            if isinstance(name, str) and NAME_RE.match(name):
                path, inner = "%s (%s)" % (path, rule_label(name)), "%s (%s): " % (path, rule_label(name))
            else:
                inner = path + "."
            for unknown in sorted(set(item) - set(options), key=str):
                close = difflib.get_close_matches(str(unknown), list(options), n=1)
                problems.append("%s: unsupported field %s%s" % (path, show(unknown),
                                                                " (did you mean %s?)" % show(close[0]) if close else ""))
                del item[unknown]
            problems.extend(unsupported_suboptions(options, item, inner))
    return problems


def execute(body):
    """Run a module: its AnsibleModule from ``body.argument_spec()`` and ``body.MODULE_KWARGS``, then
    ``body.run(module)`` -> result, the collection's errors turned into fail_json."""
    module = AntmanModule(argument_spec=body.argument_spec(), supports_check_mode=True, **body.MODULE_KWARGS)
    try:
        if module.input_problems:
            raise RuleError(module.input_problems)
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
