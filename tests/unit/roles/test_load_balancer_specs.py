"""The role's argument specs, defaults and the rule model must not drift apart."""
import os

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.argspec import tls_options
from ansible_collections.antsle.antman.plugins.module_utils.rule import (
    COMMON_DEFAULTS, METHODS, PROTOCOL_DEFAULTS, PROTOCOLS, RULE_FIELDS, UPSTREAM_DEFAULTS, UPSTREAM_FIELDS)

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles", "load_balancer")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


SPEC = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = load("defaults", "main.yml")


def test_every_default_is_specified_with_the_same_value():
    assert set(DEFAULTS) == set(SPEC)
    for name, value in DEFAULTS.items():
        assert SPEC[name].get("default") == value, name


def test_rule_options_are_the_model_fields_plus_the_inventory_ones():
    rule_options = SPEC["antman_lb_rules"]["options"]
    assert set(rule_options) == set(RULE_FIELDS) | {"upstream_group", "upstream_port"}
    for field, default in COMMON_DEFAULTS.items():
        assert rule_options[field].get("default") == default, field
    for field in PROTOCOL_DEFAULTS["http"]:
        assert "default" not in rule_options[field], field  # depends on the protocol: the model's
    assert rule_options["method"]["choices"] == list(METHODS)
    assert rule_options["protocol"]["choices"] == list(PROTOCOLS)
    assert set(rule_options["tls"]["options"]) == set(tls_options())
    assert rule_options["tls"]["options"]["key_content"]["no_log"] is True


def test_upstream_options_are_the_model_fields():
    upstream_options = SPEC["antman_lb_rules"]["options"]["upstreams"]["options"]
    assert set(upstream_options) == set(UPSTREAM_FIELDS)
    for field, default in UPSTREAM_DEFAULTS.items():
        assert upstream_options[field].get("default") == default, field


def test_every_option_is_described_and_typed():
    def walk(options, where):
        for name, option in options.items():
            assert option.get("description"), "%s.%s has no description" % (where, name)
            assert option.get("type"), "%s.%s has no type" % (where, name)
            walk(option.get("options", {}), "%s.%s" % (where, name))
    walk(SPEC, "main")
