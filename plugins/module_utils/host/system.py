# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's OS family and service manager, read by the role's host module (lb_host_facts) so that
the role needs no ``setup`` run of its own (one module round trip less per host on every run).

- OS family: ``/etc/os-release``'s ``ID`` and ``ID_LIKE``, mapped as Ansible's distribution facts
  map distributions to ``os_family`` for the two families the role knows (Debian, RedHat); any
  other system is answered with its ``NAME`` (else ``ID``), which the role refuses.
- Service manager: decided as Ansible's ``service_mgr`` fact decides it on Linux
  (``ansible.module_utils.facts.system.service_mgr``): PID 1's command name when it is neither
  ``init`` nor a shell; else systemd when ``systemctl`` is there and systemd's own "booted" canaries
  exist (``/run/systemd/system``, as ``sd_booted()``), then upstart, openrc, systemd installed but not
  booted (``/sbin/init`` links to systemd), sysvinit, dinit, else ``service``. The role only asks
  whether it is ``systemd``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex

from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import locate

OS_RELEASE_PATHS = ("/etc/os-release", "/usr/lib/os-release")
# os-release IDs of the distributions Ansible's OS_FAMILY_MAP puts in each family (ID or ID_LIKE).
OS_FAMILY_IDS = {
    "Debian": ("debian", "ubuntu", "raspbian", "neon", "linuxmint", "steamos", "devuan", "kali", "cumulus-linux",
               "pop", "parrot", "pardus", "uos", "deepin", "osmc"),
    "RedHat": ("rhel", "fedora", "centos", "scientific", "cloudlinux", "ol", "amzn", "virtuozzo", "xenserver",
               "alinux", "euleros", "openeuler", "almalinux", "rocky", "tencentos", "eurolinux", "kylin", "miracle"),
}
UNKNOWN = "unknown"
# The families the collection knows (the role's packages and layouts of each: its vars/main.yml
# _antman_lb_os_families, tied to these by a unit test); the role refuses any other system.
KNOWN_FAMILIES = tuple(OS_FAMILY_IDS)
# PID 1 names Ansible maps to a service manager's name; any other name is the manager itself.
PROC_1_NAMES = {"procd": "openwrt_init", "runit-init": "runit", "svscan": "svc", "openrc-init": "openrc"}
SYSTEMD_CANARIES = ("/run/systemd/system/", "/dev/.run/systemd/", "/dev/.systemd/")
# Where AnsibleModule.get_bin_path looks besides PATH.
SBIN_DIRS = ("/sbin", "/usr/sbin", "/usr/local/sbin")


def read_os_release(paths=OS_RELEASE_PATHS):
    """{KEY: value} of the first os-release file there is (shell-quoted values unquoted), else {}."""
    for path in paths:
        try:
            with open(path) as handle:
                text = handle.read()
        except (IOError, OSError):
            continue
        values = {}
        for line in text.splitlines():
            key, sep, value = line.strip().partition("=")
            if not sep or key.startswith("#"):
                continue
            try:
                words = shlex.split(value)
            except ValueError:
                words = [value]
            values[key] = " ".join(words)
        return values
    return {}


def os_family(release):
    """"Debian" or "RedHat" from an os-release's ID and ID_LIKE, else what the system calls itself."""
    ids = [release.get("ID", "").lower()] + release.get("ID_LIKE", "").lower().split()
    for family, members in OS_FAMILY_IDS.items():
        if any(name in members for name in ids):
            return family
    return release.get("NAME") or release.get("ID") or UNKNOWN


def _proc_1_name(root):
    try:
        with open(os.path.join(root, "proc/1/comm")) as handle:
            name = handle.read().strip()
    except (IOError, OSError):
        name = None
    init = os.path.join(root, "sbin/init")
    if not name and os.path.islink(init):
        name = os.readlink(init)
    name = os.path.basename(name) if name else None
    # Many systems call PID 1 "init", and a shell is PID 1 of a container: neither says anything.
    if not name or name == "init" or name.endswith("sh"):
        return None
    return PROC_1_NAMES.get(name, name)


def _systemd_installed_offline(root):
    init = os.path.join(root, "sbin/init")
    return os.path.islink(init) and os.path.basename(os.readlink(init)) == "systemd"


def find_program(name):
    """The program's path on PATH or in the sbin directories (as Ansible's get_bin_path), else None."""
    return locate(name, SBIN_DIRS)


def service_manager(root="/", which=find_program):
    """The host's service manager, named as Ansible's ``service_mgr`` fact names it on Linux."""
    name = _proc_1_name(root)
    if name:
        return name

    def exists(path):
        return os.path.exists(os.path.join(root, path.lstrip("/")))

    systemctl = which("systemctl") is not None
    if systemctl and any(exists(canary) for canary in SYSTEMD_CANARIES):
        return "systemd"
    if which("initctl") is not None and exists("/etc/init/"):
        return "upstart"
    if exists("/sbin/openrc"):
        return "openrc"
    if systemctl and _systemd_installed_offline(root):
        return "systemd"
    if exists("/etc/init.d/"):
        return "sysvinit"
    if exists("/etc/dinit.d/"):
        return "dinit"
    return "service"


def system_facts(root="/"):
    """{os_family, service_manager} of the host."""
    paths = [os.path.join(root, path.lstrip("/")) for path in OS_RELEASE_PATHS]
    return dict(os_family=os_family(read_os_release(paths)), service_manager=service_manager(root))
