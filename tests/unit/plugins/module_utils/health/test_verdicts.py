"""The applied verdicts file: read back exactly, anything else in it ignored (fail open)."""
import json

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdict, Verdicts, parse_verdicts


def test_round_trip_and_order():
    verdicts = Verdicts({"web": {"10.0.0.2:80": Verdict(12.5, "status 500"), "10.0.0.1:80": Verdict(3.0, "x")},
                         "api": {}})
    data = verdicts.to_bytes()
    assert parse_verdicts(data) == verdicts and list(parse_verdicts(data).by_rule) == ["web"]
    assert json.loads(data.decode())["unhealthy"]["web"] == {"10.0.0.1:80": {"since": 3.0, "detail": "x"},
                                                             "10.0.0.2:80": {"since": 12.5, "detail": "status 500"}}
    assert parse_verdicts(None) == Verdicts() and not parse_verdicts(None)


@pytest.mark.parametrize("body", [
    {"format": 1, "unhealthy": {"../etc": {"10.0.0.1:80": {"since": 1, "detail": "x"}}}},
    {"format": 1, "unhealthy": {"web": {"10.0.0.1": {"since": 1, "detail": "x"}}}},  # not canonical
    {"format": 1, "unhealthy": {"web": {"10.0.0.1:80; deny all": {"since": 1, "detail": "x"}}}},
    {"format": 1, "unhealthy": {"web": {"10.0.0.1:80": {"since": "yesterday", "detail": "x"}}}},
    {"format": 1, "unhealthy": {"web": {"10.0.0.1:80": {"since": True, "detail": "x"}}}},
    {"format": 1, "unhealthy": {"web": {"10.0.0.1:80": {"since": 1}}}},
    {"format": 1, "unhealthy": {"web": ["10.0.0.1:80"]}},
])
def test_entries_that_are_not_ours_are_ignored(body):
    assert parse_verdicts(json.dumps(body).encode()) == Verdicts()


def test_nan_times_and_odd_details_are_not_kept_as_they_are():
    data = b'{"format": 1, "unhealthy": {"web": {"10.0.0.1:80": {"since": NaN, "detail": "x"}, ' \
           b'"10.0.0.2:80": {"since": 1, "detail": "a\\nb\\u2028c"}}}}'
    parsed = parse_verdicts(data)
    assert parsed.by_rule == {"web": {"10.0.0.2:80": Verdict(1.0, "a?b?c")}}


@pytest.mark.parametrize("data", [b"{", b"\xff\xfe", b"[]", b'{"format": 2, "unhealthy": {}}'])
def test_an_unreadable_file_holds_nothing_out_and_says_why(data):
    parsed = parse_verdicts(data)
    assert parsed == Verdicts() and parsed.problem and "nothing is held out" in parsed.problem
