"""Property-based tests of lb_upstream's model: for any value of any option, the request is either
refused with one problem naming that option, or accepted and read exactly as an independent
reference reads it; any spelling of an address matches its upstream; and over any rule set the
plan changes nothing but the address's ``down`` flag, in exactly the rules that have it in the other
state, and refuses exactly when a rule would be left with no upstream in rotation.

Example counts are those of the normal suite; ``HYPOTHESIS_PROFILE=nightly`` multiplies them
(see tests/support/rule_strategies.py ``budget``)."""
import math
import re

from hypothesis import event, given
from hypothesis import strategies as st

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.upstream import parse_request, plan_state, upstream_of
from ansible_collections.antsle.antman.tests.support.rule_strategies import (
    ADDRESS, BOOL_WORDS, HOSTILE_FIELDS, HOSTILE_UPSTREAM_FIELDS, INT_WORDS, LONG_TEXT, NAME, RANDOM_TEXT, REFERENCE,
    WRONG_TYPES, budget, hostile_int, hostile_text, reference_bool, reference_int, rule_pair, spliced)

OPTIONS = ("address", "state", "rules", "wait_drained", "timeout", "health_check", "health_path", "health_status",
           "healthy_after", "health_interval", "allow_missing")
BASE = {"address": "10.0.0.1", "state": "disabled"}

# -- an independent reading of accepted values ------------------------------------------------------

REFERENCE_PATH = re.compile(r"\A/(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*\Z")
REFERENCE_STATUS = re.compile(r"\A([1-5][0-9][0-9])(?:-([1-5][0-9][0-9]))?\Z")


def reference_seconds(minimum, maximum):
    def read(raw):
        assert not isinstance(raw, bool), raw
        if isinstance(raw, str):
            assert re.match(r"\A\s*[0-9]{1,9}(\.[0-9]{1,9})?\s*\Z", raw), raw
        number = float(raw)
        assert math.isfinite(number) and minimum <= number <= maximum, raw
        return number
    return read


def reference_path(raw):
    assert isinstance(raw, str) and REFERENCE_PATH.match(raw) and len(raw) <= 1024, raw
    assert not any(ch in raw for ch in " \t\r\n\x00#\"\\<>{}|^`"), raw  # nothing that ends or splits the request line
    return raw


def reference_statuses(raw):
    items = [raw] if isinstance(raw, (str, int)) and not isinstance(raw, bool) else raw
    assert isinstance(items, (list, tuple)) and items, raw
    ranges = []
    for item in items:
        assert isinstance(item, (str, int)) and not isinstance(item, bool), raw
        match = REFERENCE_STATUS.match(str(item).strip())
        assert match, raw
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        assert low <= high <= 599, raw
        ranges.append((low, high))
    return ranges


def reference_rules(raw):
    items = [raw] if isinstance(raw, str) else raw
    assert isinstance(items, (list, tuple)) and items, raw
    assert all(isinstance(n, str) and re.match(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z", n) for n in items), raw
    assert len(set(items)) == len(items), raw
    return list(items)


READ = {
    "address": ("address", REFERENCE["address"]),
    "state": ("state", lambda raw: raw),
    "rules": ("rules", reference_rules),
    "wait_drained": ("wait_drained", reference_bool),
    "timeout": ("timeout", reference_seconds(0.1, 86400)),
    "health_check": (None, reference_bool),
    "health_path": ("health.path", reference_path),
    "health_status": ("health.statuses", reference_statuses),
    "healthy_after": ("health.healthy_after", reference_int),
    "health_interval": ("health.interval", reference_seconds(0.1, 3600)),
    "allow_missing": ("allow_missing", reference_bool),
}


def attribute(request, path):
    value = request
    for part in path.split("."):
        value = getattr(value, part)
    return value


# -- hostile values of every option ---------------------------------------------------------------

NUMBER_WORDS = st.sampled_from(["nan", "inf", "-inf", "1e3", "0x10", "5s", "5 ", " 5", "5.", ".5", "1_0", "\uff15",
                                "0.05", "0.1", "86400", "86400.0001", "3600", "-0", "1" * 12])
HOSTILE = {
    "address": HOSTILE_UPSTREAM_FIELDS["address"],
    "state": st.one_of(st.sampled_from(["enabled", "disabled", "Enabled", "disable", "down", "up", "", "enabled ",
                                        "absent"]), hostile_text(st.sampled_from(["enabled", "disabled"]))),
    "rules": st.one_of(HOSTILE_FIELDS["name"], st.lists(HOSTILE_FIELDS["name"], max_size=3),
                       st.lists(NAME.map(lambda p: p[0]), min_size=1, max_size=3)),
    "wait_drained": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "timeout": st.one_of(NUMBER_WORDS, hostile_int(0, 86400), st.floats(), spliced(st.sampled_from(["5", "0.5"])),
                         RANDOM_TEXT, WRONG_TYPES),
    "health_check": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
    "health_path": st.one_of(hostile_text(st.sampled_from(["/", "/health", "/status?full=1", "/a%20b"])), LONG_TEXT,
                             st.text(st.sampled_from("/abc%;$?#:@ \r\n\t\\\"'<>{}|^`~!*+,=&()0F"), max_size=20)),
    "health_status": st.one_of(
        st.lists(st.one_of(st.integers(-5, 700), st.sampled_from(["200-399", "399-200", "2xx", "200 ", "600", "099",
                                                                  "200-", "-200", "200--299", "1e2"]),
                           spliced(st.sampled_from(["200", "200-299"]))), max_size=3),
        hostile_text(st.sampled_from(["200", "200-399"])), INT_WORDS),
    "healthy_after": hostile_int(1, 100),
    "health_interval": st.one_of(NUMBER_WORDS, hostile_int(0, 3600), st.floats(), RANDOM_TEXT, WRONG_TYPES),
    "allow_missing": st.one_of(BOOL_WORDS, hostile_int(0, 1), RANDOM_TEXT, WRONG_TYPES),
}


@budget(1500)
@given(st.sampled_from(OPTIONS).flatmap(lambda option: st.tuples(st.just(option), HOSTILE[option])))
def test_any_value_of_any_option_is_refused_by_name_or_read_exactly(option_value):
    option, value = option_value
    try:
        request = parse_request(dict(BASE, **{option: value}))
    except RuleError as error:
        event("refused")
        (problem,) = error.problems
        assert problem.startswith(option + ": "), problem
        assert all(" " <= ch <= "~" for ch in problem), "unprintable message %r" % problem
        assert len(problem) < 500, problem
        return
    event("accepted")
    path, read = READ[option]
    if value is None:
        return  # not given: the default
    expected = read(value)
    if path is None:
        assert (request.health is not None) == expected
    else:
        assert attribute(request, path) == expected, (option, value)


@budget(300)
@given(ADDRESS)
def test_any_spelling_of_an_address_matches_its_upstream(pair):
    raw, canonical = pair
    rule = normalize_rule({"name": "web", "server_name": "web.local", "upstreams": [
        {"address": canonical}, {"address": "192.0.2.250:9"}]})
    request = parse_request({"address": raw, "state": "disabled"})
    assert request.address == canonical
    plan = plan_state({"web": rule}, request)
    assert plan.matched == ["web"] and plan.changing == ["web"]
    assert upstream_of(plan.desired["web"], canonical)["down"] is True


# -- the plan over any rule set ---------------------------------------------------------------------

POOL = [("10.0.0.%d" % i, "10.0.0.%d:80" % i) for i in range(1, 5)] + [("App.Local:8080", "app.local:8080")]
SHARED_ADDRESS = st.sampled_from(POOL)


@st.composite
def rule_set_and_request(draw):
    pairs = draw(st.lists(rule_pair(address=SHARED_ADDRESS, max_upstreams=4), min_size=1, max_size=4,
                          unique_by=lambda p: p[1]["name"].lower()))
    have = dict((rule["name"], rule) for _raw, rule in pairs)
    raw_address, _canonical = draw(st.sampled_from(POOL + [("10.9.9.9", "10.9.9.9:80")]))
    options = {"address": raw_address, "state": draw(st.sampled_from(["enabled", "disabled"])),
               "wait_drained": draw(st.booleans()), "allow_missing": draw(st.booleans()), "health_check": False}
    return have, parse_request(options)


def reference_plan(have, request):
    """(matched, changing, refused) as the issue states them, computed independently."""
    matched = sorted(name for name, rule in have.items() if any(u["address"] == request.address for u in rule["upstreams"]))
    changing = [name for name in matched
                if [u["down"] for u in have[name]["upstreams"] if u["address"] == request.address] != [request.down]]
    stranded = [name for name in changing if request.down and not any(
        not u["backup"] and not u["down"] for u in have[name]["upstreams"] if u["address"] != request.address)]
    refused = bool(stranded) or (not matched and not request.allow_missing)
    return matched, changing, refused


@budget(200)
@given(rule_set_and_request())
def test_the_plan_flips_only_the_address_and_refuses_exactly_when_it_must(world):
    have, request = world
    matched, changing, refused = reference_plan(have, request)
    try:
        plan = plan_state(dict(sorted(have.items())), request)
    except RuleError as error:
        event("refused")
        assert refused, (error, matched, changing)
        assert all(p.startswith("rule '") or p.startswith("address: ") for p in error.problems), error.problems
        return
    event("planned: %d of %d rules change" % (len(changing), len(have)))
    assert not refused
    assert sorted(plan.matched) == matched and sorted(plan.changing) == changing and sorted(plan.desired) == changing
    for name, rule in plan.desired.items():
        before = have[name]
        assert normalize_rule(rule) == rule
        assert dict(rule, upstreams=None) == dict(before, upstreams=None)
        for old, new in zip(before["upstreams"], rule["upstreams"]):
            if old["address"] == request.address:
                assert new == dict(old, down=request.down)
            else:
                assert new == old
        assert any(not u["backup"] and not u["down"] for u in rule["upstreams"])


# -- valid values in every spelling -----------------------------------------------------------------

PATH_CHARACTERS = "ABCxyz019._~!$&'()*+,;=:@/?-"
VALID = {
    "timeout": st.one_of(st.integers(1, 86400), st.floats(0.1, 86400), st.integers(1, 86400).map(lambda n: " %d " % n),
                         st.tuples(st.integers(0, 99), st.integers(1, 9)).map(lambda t: "%d.%d" % t)),
    "health_interval": st.one_of(st.integers(1, 3600), st.floats(0.1, 3600),
                                 st.tuples(st.integers(0, 99), st.integers(1, 9)).map(lambda t: "%d.%d" % t)),
    "healthy_after": st.one_of(st.integers(1, 100), st.integers(1, 100).map(str), st.integers(1, 100).map(float)),
    "health_path": st.lists(st.one_of(st.sampled_from(PATH_CHARACTERS),
                                      st.integers(0, 255).map(lambda b: "%%%02X" % b)), max_size=30)
    .map(lambda parts: "/" + "".join(parts)),
    "health_status": st.one_of(
        st.integers(100, 599),
        st.lists(st.tuples(st.integers(100, 599), st.integers(0, 99), st.booleans()).map(
            lambda t: "%d-%d" % (t[0], min(t[0] + t[1], 599)) if t[2] else "%d" % t[0]), min_size=1, max_size=4)),
    "rules": st.lists(NAME.map(lambda p: p[0]), min_size=1, max_size=4, unique=True),
    "wait_drained": st.sampled_from([True, False, "yes", "no", "on", "off", 1, 0, "TRUE", "False"]),
}


@budget(600)
@given(st.sampled_from(sorted(VALID)).flatmap(lambda option: st.tuples(st.just(option), VALID[option])))
def test_valid_values_are_read_as_the_reference_reads_them(option_value):
    option, value = option_value
    request = parse_request(dict(BASE, **{option: value}))
    path, read = READ[option]
    assert attribute(request, path) == read(value), (option, value)
