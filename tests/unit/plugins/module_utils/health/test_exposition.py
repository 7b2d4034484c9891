"""Prometheus' text format as the agent writes it (health/exposition.py): label values escaped
(backslash, quote, line feed), so no value can add a label or a sample; numbers as Go reads them;
histograms cumulative; and promtool (Debian's prometheus, installed by scripts/setup.sh) accepts
the output, hostile label values included."""
import subprocess

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import (
    Family, Histogram, escape_label, exposition, format_value)
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_address, parse_name

HOSTILE = ['a"b', "a\\b", "a\nb", 'x"} 1\nevil{a="', "{}", "\\n", "ü"]


def promtool_check_metrics(data):
    checked = subprocess.run(["promtool", "check", "metrics"], input=data, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, check=False)
    return checked.returncode, checked.stdout.decode("utf-8")


def test_label_values_are_escaped_as_the_format_says():
    assert escape_label('a"b') == 'a\\"b'
    assert escape_label("a\\b") == "a\\\\b"
    assert escape_label("a\nb") == "a\\nb"
    assert escape_label("\\n") == "\\\\n"  # a backslash then n stays two characters, not a line feed


def test_a_hostile_label_value_stays_one_sample_and_promtool_accepts_it():
    family = Family("antman_lb_upstream_healthy", "gauge", "help with \\ and\nline", ("rule", "upstream"))
    for value in HOSTILE:
        family.add((value, "10.0.0.1:80"), 1)
    text = exposition([family])
    lines = text.decode("utf-8").splitlines()
    assert len(lines) == 2 + len(HOSTILE)  # HELP, TYPE and one line per sample: nothing injected
    assert lines[0] == "# HELP antman_lb_upstream_healthy help with \\\\ and\\nline"
    assert lines[2 + 3] == 'antman_lb_upstream_healthy{rule="x\\"} 1\\nevil{a=\\"",upstream="10.0.0.1:80"} 1'
    assert promtool_check_metrics(text) == (0, "")


def test_promtool_refuses_what_the_writer_would_refuse_to_write():
    # The check can fail: an unescaped quote is an error for promtool.
    assert promtool_check_metrics(b'# TYPE m gauge\nm{a="x"y"} 1\n')[0] != 0
    with pytest.raises(ValueError):
        Family("bad name", "gauge", "x")
    with pytest.raises(ValueError):
        Family("m", "gauge", "x", ("bad-label",))


@pytest.mark.parametrize("value, text", [(1, "1"), (True, "1"), (0.5, "0.5"), (3.0, "3"), (1e20, "1e+20"),
                                         (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (float("nan"), "NaN"),
                                         (1765000000.25, "1765000000.25")])
def test_values_are_written_as_go_reads_them(value, text):
    assert format_value(value) == text


def test_histograms_are_cumulative_with_sum_and_count():
    histogram = Histogram((0.01, 0.1))
    for seconds in (0.005, 0.05, 0.05, 3.0):
        histogram.observe(seconds)
    family = Family("antman_lb_probe_duration_seconds", "histogram", "d", ("rule",))
    family.add_histogram(("web",), histogram)
    text = exposition([family])
    assert text.decode("ascii").splitlines()[2:] == [
        'antman_lb_probe_duration_seconds_bucket{rule="web",le="0.01"} 1',
        'antman_lb_probe_duration_seconds_bucket{rule="web",le="0.1"} 3',
        'antman_lb_probe_duration_seconds_bucket{rule="web",le="+Inf"} 4',
        'antman_lb_probe_duration_seconds_sum{rule="web"} 3.105',
        'antman_lb_probe_duration_seconds_count{rule="web"} 4']
    assert promtool_check_metrics(text) == (0, "")


def test_families_without_samples_are_left_out():
    assert exposition([Family("antman_lb_x", "gauge", "x")]) == b""


@pytest.mark.parametrize("value", HOSTILE)
def test_the_schema_refuses_such_values_as_rule_names_and_upstream_addresses(value):
    # The labels come from rule names and canonical upstream addresses: the schema refuses these
    # before they reach the agent; the escaping above is the second line of defence.
    with pytest.raises(FieldError):
        parse_name(value)
    with pytest.raises(FieldError):
        parse_address(value)
