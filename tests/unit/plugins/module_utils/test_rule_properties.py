"""Property-based tests: for any input, the model either refuses it with a message that names the
field, or accepts it and the renderer writes exactly the nginx directives the rule implies.

Example counts are those of the normal suite (derandomized, the same examples every run);
``HYPOTHESIS_PROFILE=nightly`` multiplies them (``ANTMAN_NIGHTLY_FACTOR``, default 50) with a fresh
random seed each run. ``pytest --hypothesis-show-statistics`` prints how many inputs were accepted
and refused.
"""
import json
import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from ansible_collections.antsle.antman.plugins.module_utils.render import render_rule
from ansible_collections.antsle.antman.plugins.module_utils.rule import (
    RULE_FIELDS, RuleError, merge_rule, normalize_rule)
from ansible_collections.antsle.antman.plugins.module_utils.ruleset import check_rule_set
from ansible_collections.antsle.antman.plugins.module_utils.store import parse_managed_text
from ansible_collections.antsle.antman.tests.support.nginx_oracle import check_rendered
from ansible_collections.antsle.antman.tests.support.rule_strategies import (
    ADDRESS, HOSTILE_FIELDS, HOSTILE_KEYS, HOSTILE_UPSTREAM_FIELDS, HOSTILE_UPSTREAMS, REFERENCE, RULE_DEFAULTS, RULE_ORDER,
    UPSTREAM_DEFAULTS, UPSTREAM_ORDER, budget, rule_pair, upstream_pair)

FIELD_PATH = re.compile(
    r"\A(?:(?:name|server_name|server_port|method|connect_timeout|read_timeout|max_fails|fail_timeout"
    r"|next_upstream_tries|retry_non_idempotent|keepalive)(?:\[\d+\])?"
    r"|upstreams(?:\[\d+\](?:\.(?:address|weight|backup|down|max_fails|fail_timeout))?)?): ")
# Raw values are shown cut at 80 characters; a problem may also name a canonical address (up to
# 259) it clashes with. Only the ip_hash problem lists every backup (canonical) address.
MAX_PROBLEM_LENGTH = 500


def refuse(raw):
    """normalize_rule(raw) -> the RuleError, or None if it accepted the rule."""
    try:
        normalize_rule(raw)
    except RuleError as error:
        return error
    return None


def check_refusal(error):
    """Every problem names its field (or an unsupported key); the message is one printable ASCII line."""
    message = str(error)
    assert all(" " <= ch <= "~" for ch in message), "unprintable message %r" % message
    assert error.problems
    for problem in error.problems:
        assert FIELD_PATH.match(problem) or problem.startswith("unsupported field "), problem
        assert len(problem) <= MAX_PROBLEM_LENGTH or problem.startswith("upstreams: backup upstreams ("), problem


def names_field(error, path):
    """Whether a problem of ``error`` blames the field at ``path`` (e.g. ``upstreams[2].weight``)."""
    for problem in error.problems:
        if problem.startswith(path + ":") or problem.startswith(path + "["):
            return True
        upstream = re.match(r"upstreams\[(\d+)\]\.(\w+)\Z", path)
        if upstream and upstream.group(2) in ("backup", "down") and problem.startswith("upstreams: "):
            return True  # a valid flag can still make the rule's set of upstreams invalid as a whole
        if upstream and upstream.group(2) == "address" and re.match(
                r"upstreams\[\d+\]\.address: .* duplicates upstreams\[%s\] " % upstream.group(1), problem):
            return True
    return False


def check_accepted(raw, rule):
    """An accepted rule: fields in the canonical order, every given value read as the reference
    reads it, the rendered file exactly what the rule implies, and a stable round trip."""
    assert tuple(rule) == RULE_ORDER
    for key in RULE_ORDER:
        value = raw.get(key)
        if key == "upstreams":
            continue
        expected = RULE_DEFAULTS[key] if value is None else REFERENCE[key](value)
        assert rule[key] == expected, (key, value, rule[key])
    assert len(rule["upstreams"]) == len(raw["upstreams"])
    for item, upstream in zip(raw["upstreams"], rule["upstreams"]):
        assert tuple(upstream) == UPSTREAM_ORDER
        for key in UPSTREAM_ORDER:
            value = item.get(key)
            expected = UPSTREAM_DEFAULTS[key] if value is None else REFERENCE[key](value)
            assert upstream[key] == expected, (key, value, upstream[key])
    check_rule_output(rule)


def check_rule_output(rule):
    text = render_rule(rule)
    check_rendered(rule, text)
    assert normalize_rule(rule) == rule
    assert normalize_rule(json.loads(json.dumps(rule))) == rule
    assert parse_managed_text(rule["name"], text) == (rule, None)


@budget(800)
@given(rule_pair())
def test_valid_input_gives_the_expected_canonical_rule_and_exact_config(pair):
    raw, expected = pair
    rule = normalize_rule(raw)
    assert rule == expected
    check_accepted(raw, rule)


FIELD_CHOICES = sorted(HOSTILE_FIELDS) + ["upstreams[].%s" % key for key in sorted(HOSTILE_UPSTREAM_FIELDS)] + [
    "upstreams", "<unknown key>", "upstreams[].<unknown key>"]


@st.composite
def one_hostile_field(draw):
    """A valid rule with exactly one field replaced by a hostile value: (raw, path of that field)."""
    raw, _unused = draw(rule_pair(max_upstreams=3))
    choice = draw(st.sampled_from(FIELD_CHOICES))
    if choice in HOSTILE_FIELDS:
        raw[choice] = draw(HOSTILE_FIELDS[choice])
        return raw, choice
    if choice == "upstreams":
        raw["upstreams"] = draw(HOSTILE_UPSTREAMS)
        return raw, "upstreams"
    if choice == "<unknown key>":
        key = draw(HOSTILE_KEYS.filter(lambda k: k not in RULE_FIELDS))
        raw[key] = draw(HOSTILE_FIELDS["name"])
        return raw, "unsupported"
    index = draw(st.integers(0, len(raw["upstreams"]) - 1))
    key = choice.split(".", 1)[1]
    if key == "<unknown key>":
        key = draw(HOSTILE_KEYS.filter(lambda k: k not in UPSTREAM_ORDER))
        raw["upstreams"][index][key] = draw(HOSTILE_FIELDS["name"])
        return raw, "upstreams[%d]: unsupported" % index
    raw["upstreams"][index][key] = draw(HOSTILE_UPSTREAM_FIELDS[key])
    return raw, "upstreams[%d].%s" % (index, key)


@budget(1600)
@given(one_hostile_field())
def test_one_hostile_field_is_refused_by_name_or_rendered_exactly(case):
    raw, path = case
    error = refuse(raw)
    if error is None:
        event("accepted")
        assert path not in ("upstreams", "unsupported") and "unsupported" not in path
        check_accepted(raw, normalize_rule(raw))
        return
    event("refused")
    check_refusal(error)
    if path == "unsupported":
        assert any(p.startswith("unsupported field ") for p in error.problems), error.problems
    elif path.endswith(": unsupported"):
        assert any(p.startswith(path.replace(" unsupported", " unsupported field ")) for p in error.problems)
    else:
        assert names_field(error, path), (path, error.problems)


def field_values(valid, hostile):
    return st.one_of(st.none(), valid, hostile)


@st.composite
def any_rule(draw):
    """Every field independently absent, None, valid or hostile."""
    valid_raw, _unused = draw(rule_pair(max_upstreams=3))
    raw = {}
    for key in RULE_ORDER:
        if key == "upstreams":
            continue
        choice = draw(st.sampled_from(["absent", "valid", "valid", "hostile"]))
        if choice == "valid" and key in valid_raw:
            raw[key] = valid_raw[key]
        elif choice == "hostile":
            raw[key] = draw(HOSTILE_FIELDS[key])
    if "name" not in raw:
        raw["name"] = valid_raw["name"]
    upstreams = []
    for item in valid_raw["upstreams"]:
        item = dict(item)
        for key in UPSTREAM_ORDER:
            if draw(st.integers(0, 5)) == 0:
                item[key] = draw(HOSTILE_UPSTREAM_FIELDS[key])
        upstreams.append(item)
    raw["upstreams"] = draw(st.one_of(st.just(upstreams), st.just(upstreams), HOSTILE_UPSTREAMS))
    return raw


@budget(800)
@given(any_rule())
def test_any_input_is_refused_by_name_or_rendered_exactly(raw):
    error = refuse(raw)
    if error is None:
        event("accepted")
        check_accepted(raw, normalize_rule(raw))
    else:
        event("refused")
        check_refusal(error)


@budget(200)
@given(rule_pair(max_upstreams=3), st.dictionaries(st.sampled_from(sorted(HOSTILE_FIELDS)), st.just(None), max_size=4),
       st.data())
def test_merging_hostile_fields_over_a_rule_is_refused_or_rendered_exactly(pair, chosen, data):
    _unused, existing = pair
    raw = dict((key, data.draw(HOSTILE_FIELDS[key])) for key in chosen)
    if data.draw(st.booleans()):
        raw["upstreams"] = [dict(address=u["address"], weight=data.draw(HOSTILE_UPSTREAM_FIELDS["weight"]))
                            for u in existing["upstreams"][:2]] + [data.draw(upstream_pair())[0]]
    error = refuse(merge_rule(existing, raw))
    if error is None:
        event("accepted")
        check_rule_output(normalize_rule(merge_rule(existing, raw)))
    else:
        event("refused")
        check_refusal(error)


@st.composite
def broken_roles(draw):
    """A valid rule made invalid as a whole: (raw, expected message)."""
    raw, canonical = draw(rule_pair())
    problem = draw(st.sampled_from(["all backup or down", "backup with ip_hash", "duplicate address"]))
    if problem == "all backup or down":
        for item in raw["upstreams"]:
            flag = draw(st.sampled_from([("backup",), ("down",), ("backup", "down")]))
            item.update((key, draw(st.sampled_from([True, "yes", "on", 1, "true"]))) for key in flag)
        raw["method"] = draw(st.sampled_from(["round_robin", "least_conn"]))
        return raw, ["upstreams: every upstream is backup or down"]
    if problem == "backup with ip_hash":
        raw["method"] = "ip_hash"
        raw["upstreams"].append({"address": "192.0.2.250:%d" % draw(st.integers(1, 65535)), "backup": True})
        return raw, ["upstreams: backup upstreams (", ") cannot be used with method 'ip_hash'"]
    index = draw(st.integers(0, len(raw["upstreams"]) - 1))
    same = canonical["upstreams"][index]["address"]
    spelling = draw(st.sampled_from([same, same.upper(), same[:-3] if same.endswith(":80") else same]))
    raw["upstreams"].append({"address": spelling})
    # the value is shown cut at 80 characters, the canonical address it duplicates in full
    return raw, ["upstreams[%d].address: %s" % (len(raw["upstreams"]) - 1, json.dumps(spelling)[:80]),
                 " duplicates upstreams[%d] (%s)" % (index, same)]


@budget(200)
@given(broken_roles())
def test_rules_broken_as_a_whole_are_refused(case):
    raw, expected = case
    error = refuse(raw)
    assert error is not None and all(part in str(error) for part in expected), (expected, error)
    check_refusal(error)


SMALL_NAMES = st.sampled_from(["web", "Web", "api", "API", "shop"])
SMALL_SERVER_NAMES = st.lists(st.sampled_from(["a.com", "b.com", "*.a.com", "a.*"]), min_size=1, max_size=2,
                              unique=True)


@st.composite
def small_rule_sets(draw):
    rules = []
    for name in draw(st.lists(SMALL_NAMES, min_size=1, max_size=5, unique=True)):
        rule = normalize_rule({"name": name, "server_name": draw(SMALL_SERVER_NAMES),
                               "server_port": draw(st.sampled_from([80, 8080])),
                               "upstreams": [{"address": draw(ADDRESS)[0]}]})
        rules.append(rule)
    return rules


@budget(300)
@given(small_rule_sets())
def test_rule_sets_clash_exactly_when_names_or_server_names_collide(rules):
    owners, folded, expected = {}, {}, []
    for rule in rules:
        if rule["name"].lower() in folded:
            expected.append("name clashes with rule '%s'" % folded[rule["name"].lower()])
        folded.setdefault(rule["name"].lower(), rule["name"])
        for server_name in rule["server_name"]:
            key = (server_name, rule["server_port"])
            if key in owners:
                expected.append("server_name '%s' on server_port %d is already used" % key)
            owners.setdefault(key, rule["name"])
    if not expected:
        event("no clash")
        check_rule_set(rules)
        return
    event("clash")
    with pytest.raises(RuleError) as error:
        check_rule_set(rules)
    assert len(error.value.problems) == len(expected), (expected, error.value.problems)
    for text in expected:
        assert text.split(" with rule ")[0] in str(error.value), (text, str(error.value))
