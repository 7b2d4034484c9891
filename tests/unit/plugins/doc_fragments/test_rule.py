import yaml

from ansible_collections.antsle.antman.plugins.doc_fragments.rule import ModuleDocFragment
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import config_argument_spec, rule_argument_spec


def doc_types(options):
    return dict((name, (spec.get("type", "str"), spec.get("default"), doc_types(spec.get("suboptions", {}))))
                for name, spec in options.items())


def spec_types(options):
    return dict((name, (spec.get("type", "str"), spec.get("default"), spec_types(spec.get("options", {}))))
                for name, spec in options.items())


def test_top_level_fragment_matches_lb_rule_argspec():
    assert doc_types(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]) == spec_types(rule_argument_spec())


def test_config_fragment_is_derived_and_matches_lb_rules_argspec():
    config = yaml.safe_load(ModuleDocFragment.CONFIG)["options"]["config"]["suboptions"]
    assert doc_types(config) == spec_types(config_argument_spec()["config"]["options"])
