"""The documentation checks of tests/docs/check_ansible_doc.py (stage 60) catch each class of wrong
documentation: a default in the text that is not the structured one, markup ansible-doc cuts short,
a role variable docs/role.md does not name."""
import os

from ansible_collections.antsle.antman.tests.docs.check_ansible_doc import (
    check_default_text, check_markup, check_role_variables)


def problems_of(check, *args):
    problems = []
    check(*args, problems)
    return problems


def test_a_default_in_the_text_must_be_the_structured_one():
    assert problems_of(check_default_text, "m.keepalive", {"description": ["Idle connections.", "Default V(32)."]}) == [
        "m.keepalive: the text states the default '32' but the option has no structured default (ansible-doc shows "
        "default: null)"]
    assert problems_of(check_default_text, "m.port", {"description": "Port (default 80).", "default": 81}) == [
        "m.port: the text states the default '80', the option's default is 81"]
    fine_ones = [{"description": "Default V(true).", "default": True},
                 {"description": "TLS, defaults to V([a, b]).", "default": ["a", "b"]},
                 {"description": "nginx's own default is 60s."}, {"description": "No default.", "default": None}]
    for fine in fine_ones:
        assert problems_of(check_default_text, "m.x", fine) == [], fine


def test_a_parenthesis_inside_code_markup_is_caught():
    (problem,) = problems_of(check_markup, "m.path", ["letters and C(- . ( ) *), other characters"])
    assert problem.startswith("m.path: markup cut short at a ')'")
    assert problems_of(check_markup, "m.path", ["letters, parentheses and C(- . *); V(a\\)b) is escaped"]) == []


def test_every_role_variable_is_named_in_the_role_document(tmp_path):
    root = str(tmp_path)
    for path, text in (("roles/r/defaults/main.yml", "antman_a: 1\nantman_b: 2\n"),
                       ("roles/r/meta/argument_specs.yml", "argument_specs:\n  main:\n    options:\n      antman_c: {}\n"),
                       ("docs/role.md", "| `antman_a` | 1 |\n")):
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as handle:
            handle.write(text)
    assert problems_of(check_role_variables, root, "r") == [
        "docs/role.md: role r's variable antman_b is not documented there",
        "docs/role.md: role r's variable antman_c is not documented there"]
