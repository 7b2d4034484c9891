"""meta/runtime.yml's action group lb: every module, so that module_defaults: {group/antsle.antman.lb: ...}
sets the host options of all of them once (README, "Host options"), and every module takes them."""
import importlib
import os

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.modules.common import host_options
from ansible_collections.antsle.antman.tests.support.schema_files import ROOT


def test_every_module_is_in_the_group_and_takes_the_host_options():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        group = yaml.safe_load(handle)["action_groups"]["lb"]
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    assert sorted(group) == modules
    for name in modules:
        body = importlib.import_module("ansible_collections.antsle.antman.plugins.module_utils.modules." + name)
        spec = body.argument_spec()
        assert all(spec.get(option) == value for option, value in host_options().items()), name
