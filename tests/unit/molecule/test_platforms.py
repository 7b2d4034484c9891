"""The platforms of every scenario against molecule/resources/playbooks/create.yml, which creates
them in place of the docker driver's own playbook: every platform a prebuilt image, every network
it joins one the scenario declares (``docker_networks``), and no option create.yml would silently
leave out."""
import os

import yaml

from ansible_collections.antsle.antman.tests.support.schema_files import ROOT

MOLECULE = os.path.join(ROOT, "molecule")


def platforms():
    """{scenario: [platform]} of every molecule.yml."""
    found = {}
    for scenario in sorted(os.listdir(MOLECULE)):
        path = os.path.join(MOLECULE, scenario, "molecule.yml")
        if os.path.isfile(path):
            with open(path) as handle:
                found[scenario] = yaml.safe_load(handle)["platforms"]
    return found


def create_options():
    """The platform keys create.yml passes on (``item.KEY``), and ``pre_build_image`` and
    ``docker_networks``, which it reads."""
    with open(os.path.join(MOLECULE, "resources", "playbooks", "create.yml")) as handle:
        tasks = yaml.safe_load(handle)[0]["tasks"]
    container = next(t for t in tasks if "community.docker.docker_container" in t)["community.docker.docker_container"]
    used = set()
    for value in container.values():
        if isinstance(value, str) and "item." in value:
            used.add(value.split("item.", 1)[1].split()[0].split("|")[0].strip())
    return used | {"pre_build_image", "docker_networks"}


def test_every_platform_is_prebuilt_on_a_declared_network_with_options_create_passes_on():
    known = create_options()
    assert {"name", "image", "command", "volumes", "networks", "labels"} <= known
    for scenario, listed in platforms().items():
        declared = {n["name"] for p in listed for n in p.get("docker_networks", [])}
        assert len(declared) == 1, scenario
        for platform in listed:
            assert platform.get("pre_build_image") is True, (scenario, platform["name"])
            assert {n["name"] for n in platform["networks"]} <= declared, (scenario, platform["name"])
            assert set(platform) <= known, (scenario, platform["name"], set(platform) - known)
