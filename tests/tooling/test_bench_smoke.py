"""The benchmark scripts still run: every scenario in --tiny mode, through the one command, one
scenario a test (stage 10 runs them side by side: all in one run took 170 s of one worker).

Only that each scenario produced its numbers is asserted, never their values (benchmarks are not
pass/fail tests, and this machine is shared)."""
import re
import subprocess

import pytest

from ansible_collections.antsle.antman.tests.support.paths import child_env, tool

NUMBER = re.compile(r"^\d+(\.\d+)?( ms| s|x)?$|^\d+ \(")


def sections(text):
    """{section title: [table rows as lists of cells]}."""
    found, title = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            found[title] = []
        elif title and line.startswith("| ") and not line.startswith("|---"):
            found[title].append([cell.strip() for cell in line.strip("|").split("|")])
    return found


def check_dataplane(rows):
    paths = dict((row[0], row) for row in rows)
    assert sorted(paths) == ["allow-listed", "deployed", "direct", "log off", "plain"]
    for row in paths.values():
        assert float(row[1]) > 0 and NUMBER.match(row[3]) and row[5].endswith("x"), row


def check_crash(rows):
    assert [row[1] for row in rows] == ["GET", "POST"]
    for row in rows:
        assert int(row[2]) > 0 and NUMBER.match(row[3]) and row[5].count(" / ") == 1, row


def check_hang(rows):
    assert len(rows) == 2 and rows[0][0].startswith("process stopped") and rows[1][0].startswith("link cut")
    for row in rows:
        if row[1].startswith("skipped"):  # no network namespaces without root
            continue
        assert int(row[2]) > 0 and NUMBER.match(row[3]) and NUMBER.match(row[5]) and int(row[7]) >= 0, row


def check_slow(rows):
    (slow,) = rows
    assert slow[1].startswith("1 x ") and re.match(r"^(\d{3}|\w+) after [\d.]+ s$", slow[2]), slow
    assert int(slow[3]) > 0 and NUMBER.match(slow[4]), slow


def check_reload(rows):
    (reload,) = rows
    assert re.match(r"^3 \(\d\)$", reload[0]) and int(reload[2]) > 0 and NUMBER.match(reload[4]), reload


def check_control(rows):
    control = [" | ".join(row) for row in rows if re.match(r"(from empty|no-op|one rule)", row[0])]
    assert len(control) == 3  # the lb_rules scale benchmark with 3 rules
    assert "(3 changes)" in control[0] and "(0 changes)" in control[1] and "(1 changes)" in control[2]
    for row in control:
        assert len(re.findall(r"\d+\.\d+ s", row)) == 4 and len(re.findall(r"\d+x", row)) == 2


def check_rolling(rows):
    rolling = dict((row[0].split(" (")[0], row) for row in rows)
    assert sorted(rolling) == ["restart without maintenance", "rolling playbook"], rolling
    for row in rolling.values():
        assert int(row[1]) > 0 and NUMBER.match(row[2]) and NUMBER.match(row[5]) and row[-1].endswith(" s"), row
    assert rolling["rolling playbook"][11] == "4", rolling  # two antlets in --tiny: disable and enable each


def check_apps(rows):
    assert [row[0].split(":")[0] for row in rows] == [
        "WebSocket echo", "upload of 5 MB (POST, streamed), 1 rounds", "server-sent events",
        "all 3 primaries (weights 5/1/1) killed at once, a backup; default tries",
        "all 3 primaries (weights 5/1/1) killed at once, a backup; next_upstream_tries"], rows
    assert re.match(r"^\d+/\d+ echoed", rows[0][2]) and re.match(r"^\d+ requests, failed \d+", rows[3][2]), rows


def check_health(rows):
    health = dict(((row[0].split(",")[0].split(" at ")[0], row[1]), row[2:]) for row in rows)
    hang = [key for key in health if key[0].startswith("hang ")]
    assert health[hang[0][0], "failed requests (of all sent while hung)"][0].split(" of ")[1].isdigit(), health
    outs = [health[case, measure][0] for case, measure in (
        ("hang 4 s", "out of rotation after"), ("one antlet answers 500", "out of rotation after"),
        ("one antlet killed", "out of rotation after (http rule)"))]
    assert all(re.match(r"^(\d+\.\d\d s|-)$", out) for out in outs) and outs != ["-"] * 3, health  # "-": not out in time
    assert re.match(r"^\d+\.\d %$", [v for k, v in health.items() if k[1].startswith("agent CPU")][0][0]), health
    assert re.match(r"^\d+ \(", [v for k, v in health.items() if k[1].startswith("reloads (per")][0][0]), health


def check_access_log(rows):
    access_log = dict((row[0], row[1]) for row in rows)
    assert re.match(r"^\d+\.\d\d$", access_log["parse and publish, repeating times (fast antlets): us per line"]), access_log
    assert re.match(r"^\d+\.\d %$", access_log["follow 2000 lines/s for 2 s: reader CPU, % of one core"]), access_log
    assert re.match(r"^\d+, \d+$", access_log["2000 distinct upstream addresses: series kept, memory held (KiB)"]), access_log


# scenario of bench/run.py: (its section's number, its row in the Targets table or None, its check)
SCENARIOS = {
    "dataplane": ("1", "data plane", check_dataplane),
    "crash": ("2", "crash", check_crash),
    "hang": ("3", "hang", check_hang),
    "slow": ("3b", None, check_slow),
    "reload": ("4", "reload", check_reload),
    "control": ("5", None, check_control),
    "rolling": ("6", "rolling", check_rolling),
    "apps": ("7", "applications", check_apps),
    "health": ("8", "health", check_health),
    "access_log": ("9", "access_log", check_access_log),
}


def test_the_smoke_test_covers_every_scenario_of_the_benchmarks():
    from ansible_collections.antsle.antman.bench.run import SCENARIOS as BENCH_SCENARIOS
    assert sorted(SCENARIOS) == sorted(BENCH_SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_runs_in_tiny_mode_and_reports_numbers(tmp_path, name):
    number, target, check = SCENARIOS[name]
    result = subprocess.run(tool("bench.run", "--tiny", "--only", name, "--results", tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, env=child_env(), check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    text = (tmp_path / "latest.md").read_text()
    assert text in result.stdout
    found = sections(text)
    numbered = dict((t.split(".")[0], rows[1:]) for t, rows in found.items() if t[0].isdigit())
    assert sorted(numbered) == [number], sorted(found)
    check(numbered[number])
    targets = found["Targets"][1:]
    assert {row[0] for row in targets} == ({target} if target else set()), targets
