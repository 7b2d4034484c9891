"""Raw input read through the schema: what a Field says (nested options, grammars, protocols,
defaults, required and needed options, forms, distinct items) is all it takes to read a new field."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import parse_address, parse_bool, parse_int, parse_path
from ansible_collections.antsle.antman.plugins.module_utils.model.options import merge_value, read_options, read_value
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import HTTP, TCP, Field, Form

# A made-up nested field, to show that nothing beyond its Field is needed to read it.
PROBE_FIELDS = (
    Field("port", "int", ["Port."], parse=lambda v: parse_int(v, 1, 65535), needed="a probe needs a port"),
    Field("path", "str", ["Path."], parse=parse_path, protocols=HTTP, default="/health"),
    Field("send", "str", ["Bytes."], parse=str, protocols=TCP),
)
PROBE = Field("probe", "dict", ["A probe."], options=PROBE_FIELDS, expected="a mapping such as {port: 80}")
TARGETS = Field("targets", "list", ["Targets."], elements="dict", max_items=2, unique="address", needed=True,
                expected="a list of targets", options=(
                    Field("address", "str", ["Address."], parse=parse_address, required=True),
                    Field("weight", "int", ["Weight."], parse=lambda v: parse_int(v, 1, 10), default=1)))
SECRET_FIELDS = (
    Field("file", "str", ["A file."], parse=parse_path),
    Field("generated", "bool", ["Generated."], parse=parse_bool),
    Field("bits", "int", ["Bits."], parse=lambda v: parse_int(v, 1024, 8192), default=2048),
    Field("mode", "str", ["Mode."], parse=str, default="0600"),
)
FORMS = (Form(("file",), text="file"), Form(("generated",), optional=("bits",), selector="generated", text="generated: true"))


def read(fields, raw, protocol="http", forms=()):
    return read_options(fields, raw, "x", protocol, "a mapping", forms)


def test_a_nested_field_is_read_with_defaults_and_protocols_from_its_field_alone():
    assert read(PROBE_FIELDS, {"port": "8080"}) == ({"port": 8080, "path": "/health"}, [])
    assert read(PROBE_FIELDS, {"port": 22, "send": "PING"}, "tcp") == ({"port": 22, "send": "PING"}, [])
    value, problems = read(PROBE_FIELDS, {"path": "/a b", "send": "x", "colour": 1})
    assert problems == ['x: unsupported field "colour"', "x.port: missing, a probe needs a port",
                        'x.path: "/a b" is not an absolute path of letters, digits and . _ - + @ (without . or .. components)',
                        "x.send: does not apply to protocol http"]


def test_a_list_of_mappings_is_read_item_by_item():
    assert read_value(TARGETS, [{"address": "A"}, {"address": "b:81", "weight": 3}], "targets", "http") == (
        [{"address": "a:80", "weight": 1}, {"address": "b:81", "weight": 3}], [])
    assert read_value(TARGETS, "a", "targets", "http")[1] == ['targets: "a" is a str, expected a list of targets']
    assert read_value(TARGETS, [], "targets", "http")[1] == ["targets: the list is empty"]
    assert read_value(TARGETS, [{"address": "a"}] * 3, "targets", "http")[1] == ["targets: 3 targets, at most 2 are supported"]
    assert read_value(TARGETS, [{"address": "a"}, {"address": "A:80"}], "targets", "http")[1] == [
        'targets[1].address: "A:80" duplicates targets[0] (a:80)']
    assert read_value(TARGETS, [{"weight": 0}, 5], "targets", "http")[1] == [
        "targets[0].address: missing", "targets[0].weight: 0 is out of range (1-10)",
        "targets[1]: 5 is a int, expected a mapping"]


def test_exactly_one_form_is_given():
    assert read(SECRET_FIELDS, {"file": "/k.pem"}, forms=FORMS) == ({"file": "/k.pem", "mode": "0600"}, [])
    assert read(SECRET_FIELDS, {"generated": "yes"}, forms=FORMS) == (
        {"generated": True, "bits": 2048, "mode": "0600"}, [])
    assert read(SECRET_FIELDS, {"generated": False, "mode": "0640"}, forms=FORMS)[1] == [
        "x: give file, or generated: true (given: mode)"]
    assert read(SECRET_FIELDS, {"file": "/k.pem", "bits": 4096}, forms=FORMS)[1] == ["x.bits: 4096 is given without generated: true"]
    assert read(SECRET_FIELDS, {"file": "/k.pem", "generated": True}, forms=FORMS)[1] == [
        "x: give file, or generated: true (given: file, generated)"]
    # a selector that is no boolean decides nothing: its problem alone, and the options of every form wait
    assert read(SECRET_FIELDS, {"generated": "maybe", "bits": 1, "mode": "0644"}, forms=FORMS) == (
        {"mode": "0644"}, ['x.generated: "maybe" is not a boolean'])


def test_every_problem_of_a_tls_form_is_named_at_once():
    raw = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1"}],
           "tls": {"certificate": "cert.pem", "key": "/a/../key.pem", "hsts": -1}}
    with pytest.raises(RuleError) as error:
        normalize_rule(raw)
    not_a_path = " is not an absolute path of letters, digits and . _ - + @ (without . or .. components)"
    assert error.value.problems == ['tls.certificate: "cert.pem"' + not_a_path, 'tls.key: "/a/../key.pem"' + not_a_path,
                                    "tls.hsts: -1 is out of range (0-126144000)"]


def test_merging_keeps_what_is_not_given():
    current = {"file": "/k.pem", "mode": "0600"}
    secret = Field("secret", "dict", ["A secret."], options=SECRET_FIELDS, forms=FORMS)
    assert merge_value(secret, current, {"mode": "0640", "bits": None}) == {"file": "/k.pem", "mode": "0640"}
    assert merge_value(secret, current, {"generated": True}) == {"mode": "0600", "generated": True}
    assert merge_value(PROBE, {"port": 80, "path": "/"}, {"path": "/up"}) == {"port": 80, "path": "/up"}
    assert merge_value(PROBE, None, {"path": "/up"}) == {"path": "/up"}
    targets = [{"address": "a:80", "weight": 1}, {"address": "b:80", "weight": 1}]
    assert merge_value(TARGETS, targets, [{"address": "B", "weight": 5}, {"address": "c"}]) == [
        {"address": "a:80", "weight": 1}, {"address": "B", "weight": 5}, {"address": "c"}]  # canonical once read
    assert merge_value(TARGETS, targets, [{"address": "c"}], by_key=False) == [{"address": "c"}]
