"""molecule/runs.txt, which stage 80 reads (a scenario, the Debian release of its antsle hosts, the
ansible-core that runs it), against what it claims elsewhere: a ``mixed`` scenario names both
releases' images in its molecule.yml and the others neither (they run on the image stage 80 gives
them), and the README's support matrix lists exactly the runs of each release and controller."""
import os
import re

import yaml

from ansible_collections.antsle.antman.tests.support.schema_files import ROOT

IMAGE_VARIABLES = {"debian12": "ANTMAN_DEBIAN12_IMAGE", "debian13": "ANTMAN_DEBIAN13_IMAGE"}
COLUMNS = {"debian12": "Debian 12", "debian13": "Debian 13"}


def runs():
    """[(scenario, host, controller)] of molecule/runs.txt."""
    found = []
    with open(os.path.join(ROOT, "molecule", "runs.txt")) as handle:
        for line in handle:
            fields = line.split()
            if fields and not fields[0].startswith("#"):
                found.append(tuple(fields[:3]))
    return found


def test_every_scenario_runs_and_every_run_names_a_known_host_and_controller():
    scenarios = sorted(d for d in os.listdir(os.path.join(ROOT, "molecule"))
                       if os.path.isfile(os.path.join(ROOT, "molecule", d, "molecule.yml")))
    assert sorted(set(run[0] for run in runs())) == scenarios
    for scenario, host, controller in runs():
        assert host in ("debian12", "debian13", "mixed") and controller in ("2.19", "2.21"), (scenario, host, controller)


def test_a_mixed_scenario_names_both_images_and_the_others_none():
    for scenario, host, _controller in runs():
        with open(os.path.join(ROOT, "molecule", scenario, "molecule.yml")) as handle:
            text = handle.read()
        named = set(h for h, variable in IMAGE_VARIABLES.items() if variable in text)
        # The antsle hosts and helper containers: not the antlets, nor a server with an image of its own
        # (molecule/prometheus's Prometheus, scripts/docker.sh).
        hosts = [p for p in yaml.safe_load(text)["platforms"] if "antman.antlet" not in p.get("labels", {})
                 and "ANTMAN_PROMETHEUS_IMAGE" not in p["image"]]
        if host == "mixed":
            assert named == set(IMAGE_VARIABLES), scenario
            assert all(any(v in p["image"] for v in IMAGE_VARIABLES.values()) for p in hosts), scenario
        else:
            assert named == set(), scenario
            assert all("ANTMAN_MOLECULE_IMAGE" in p["image"] for p in hosts), scenario


def readme_matrix():
    """{(host, controller): set of scenarios} from the README's table of molecule runs: rows
    ``| ansible-core X ... |`` under the header naming Debian 12 and Debian 13."""
    with open(os.path.join(ROOT, "README.md")) as handle:
        lines = handle.read().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| molecule runs |"))
    columns = [cell.strip() for cell in lines[header].strip("|").split("|")]
    cells = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        row = [cell.strip() for cell in line.strip("|").split("|")]
        controller = re.match(r"ansible-core (\d+\.\d+)", row[0]).group(1)
        for host, title in COLUMNS.items():
            cell = row[next(i for i, c in enumerate(columns) if c.startswith(title))]
            cells[(host, controller)] = set(re.findall(r"`([a-z0-9_]+)`", cell))
    return cells


def test_the_readme_matrix_lists_what_runs():
    expected = {}
    for scenario, host, controller in runs():
        for each in (COLUMNS if host == "mixed" else [host]):
            expected.setdefault((each, controller), set()).add(scenario)
    found = readme_matrix()
    for key in set(expected) | set(found):
        assert found.get(key, set()) == expected.get(key, set()), key
