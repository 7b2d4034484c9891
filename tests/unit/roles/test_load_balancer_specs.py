"""The role's argument specs, defaults and the rule schema must not drift apart."""
import os

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    INVENTORY_FIELDS, RULE_FIELDS, TLS, UPSTREAM_FIELDS, shown_default)
from ansible_collections.antsle.antman.tests.support.schema_files import ROLE_SPECS, ROOT, generated

ROLE = os.path.join(ROOT, "roles", "load_balancer")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


SPECS = load("meta", "argument_specs.yml")["argument_specs"]
SPEC = SPECS["main"]["options"]
DEFAULTS = load("defaults", "main.yml")


def test_generated_argument_specs_are_up_to_date():
    with open(os.path.join(ROOT, ROLE_SPECS)) as handle:
        assert handle.read() == generated()[ROLE_SPECS], "%s is stale: run scripts/generate-schema-files.sh" % ROLE_SPECS


def test_every_default_is_specified_with_the_same_value():
    assert set(DEFAULTS) == set(SPEC)
    for name, value in DEFAULTS.items():
        assert SPEC[name].get("default") == value, name


def test_rule_options_are_the_schema_fields_plus_the_inventory_ones():
    rule_options = SPEC["antman_lb_rules"]["options"]
    assert list(rule_options) == [f.name for f in RULE_FIELDS + INVENTORY_FIELDS]
    for field in RULE_FIELDS:
        assert rule_options[field.name]["type"] == field.type, field.name
        assert rule_options[field.name].get("default") == shown_default(field), field.name
    assert rule_options["method"]["choices"] == ["round_robin", "least_conn", "ip_hash"]
    assert rule_options["protocol"]["choices"] == ["http", "tcp", "udp"]
    assert list(rule_options["tls"]["options"]) == list(TLS)
    assert rule_options["tls"]["options"]["key_content"]["no_log"] is True
    assert list(rule_options["upstreams"]["options"]) == [f.name for f in UPSTREAM_FIELDS]


def test_every_entry_point_with_rules_has_the_same_rule_options():
    for name, entry in SPECS.items():
        if "antman_lb_rules" in entry.get("options", {}):
            assert entry["options"]["antman_lb_rules"] == SPEC["antman_lb_rules"], name


def test_every_option_is_described_and_typed():
    def walk(options, where):
        for name, option in options.items():
            assert option.get("description"), "%s.%s has no description" % (where, name)
            assert option.get("type"), "%s.%s has no type" % (where, name)
            walk(option.get("options", {}), "%s.%s" % (where, name))
    for entry, spec in SPECS.items():
        walk(spec.get("options", {}), entry)
