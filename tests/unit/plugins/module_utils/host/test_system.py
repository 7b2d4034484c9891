"""The host's OS family (from os-release, as Ansible's os_family maps it) and service manager (as
Ansible's service_mgr fact decides it on Linux), read by lb_host_facts instead of a setup run."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.system import (
    os_family, read_os_release, service_manager, system_facts)

# The os-release files of the systems named, as they ship (abridged to the keys that matter).
OS_RELEASES = {
    "debian12": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    "debian13": 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nID=debian\n',
    "ubuntu": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
    "mint": 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
    "rhel9": 'NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.4"\nID="rhel"\nID_LIKE="fedora"\n',
    "rocky": 'NAME="Rocky Linux"\nVERSION_ID="9.4"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
    "fedora": 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\n',
    "amazon": 'NAME="Amazon Linux"\nVERSION_ID="2023"\nID="amzn"\nID_LIKE="fedora"\n',
    "alpine": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.0\n',
    "opensuse": 'NAME="openSUSE Leap"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\n',
}


def write(root, path, text=""):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as handle:
        handle.write(text)


@pytest.mark.parametrize("system, family", [
    ("debian12", "Debian"), ("debian13", "Debian"), ("ubuntu", "Debian"), ("mint", "Debian"),
    ("rhel9", "RedHat"), ("rocky", "RedHat"), ("fedora", "RedHat"), ("amazon", "RedHat"),
    # Refused by the role, which names them in its message.
    ("alpine", "Alpine Linux"), ("opensuse", "openSUSE Leap"),
])
def test_the_os_family_follows_ansible_s_mapping_of_id_and_id_like(tmp_path, system, family):
    write(str(tmp_path), "etc/os-release", OS_RELEASES[system])
    assert system_facts(str(tmp_path))["os_family"] == family


def test_without_etc_os_release_usr_lib_s_is_read_and_without_either_the_family_is_unknown(tmp_path):
    assert os_family(read_os_release([str(tmp_path / "missing")])) == "unknown"
    write(str(tmp_path), "usr/lib/os-release", OS_RELEASES["rocky"])
    assert system_facts(str(tmp_path))["os_family"] == "RedHat"


def test_comments_and_quoted_values_are_read_as_a_shell_would(tmp_path):
    write(str(tmp_path), "etc/os-release", "# a comment\nID='ubuntu'\nNAME=\"Ubuntu \\\"LTS\\\"\"\n\nbroken line\n")
    assert read_os_release([str(tmp_path / "etc/os-release")]) == {"ID": "ubuntu", "NAME": 'Ubuntu "LTS"'}


def systemctl(name):
    return "/usr/bin/systemctl" if name == "systemctl" else None


def nothing(name):
    return None


@pytest.mark.parametrize("pid1, files, which, expected", [
    # systemd as PID 1: a systemd host (the antsle host, molecule's containers).
    ("systemd", [], systemctl, "systemd"),
    # Another init, or a program as PID 1 of a container: that is what Ansible names.
    ("runit-init", [], nothing, "runit"),
    ("sleep", ["run/systemd/system/x"], systemctl, "sleep"),
    # PID 1 says nothing (init, a shell): systemd booted the host when its canary is there.
    ("init", ["run/systemd/system/x"], systemctl, "systemd"),
    ("bash", ["run/systemd/system/x"], nothing, "service"),
    ("sh", ["etc/init.d/nginx"], systemctl, "sysvinit"),
    ("sh", ["sbin/openrc"], nothing, "openrc"),
    (None, [], nothing, "service"),
])
def test_the_service_manager_is_decided_as_ansible_s_service_mgr_fact(tmp_path, pid1, files, which, expected):
    root = str(tmp_path)
    if pid1 is not None:
        write(root, "proc/1/comm", pid1 + "\n")
    for path in files:
        write(root, path)
    assert service_manager(root, which=which) == expected


def test_systemd_installed_but_not_booted_counts_after_the_other_managers(tmp_path):
    # A container whose PID 1 is a shell, with systemd's package: Ansible says systemd (offline check).
    root = str(tmp_path)
    write(root, "proc/1/comm", "bash\n")
    os.makedirs(os.path.join(root, "sbin"))
    os.symlink("/lib/systemd/systemd", os.path.join(root, "sbin/init"))
    assert service_manager(root, which=systemctl) == "systemd"
    assert service_manager(root, which=nothing) == "service"
