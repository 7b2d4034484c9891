# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of systemd units as ``ansible.builtin.systemd_service`` judges it, read in one
``systemctl show`` call: the role's host module reports it so that the role runs
``systemd_service`` (a module round trip per host per run) only when a unit is not yet enabled and
running. Reads only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

PROPERTIES = ("LoadState", "ActiveState", "UnitFileState", "FragmentPath")
# What `systemctl is-enabled` answers 0 for, which systemd_service's enabled=true takes as done.
ENABLED = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "transient", "linked", "linked-runtime")
# What systemd_service's state=started takes as running.
RUNNING = ("active", "activating")
NONE = {"installed": False, "enabled": False, "active": False}


def unit_states(run_command, names):
    """{name: {"installed", "enabled", "active"}} for each unit of ``names``; all false where systemd
    does not run (no /run/systemd/system) or does not answer."""
    states = dict((name, dict(NONE)) for name in names)
    if not names or not os.path.isdir("/run/systemd/system"):
        return states
    rc, out, _err = run_command(["systemctl", "show", "--property=" + ",".join(PROPERTIES), "--", *names])
    if rc != 0:
        return states
    # One block per unit, in the order asked, separated by an empty line.
    blocks = out.strip("\n").split("\n\n")
    if len(blocks) != len(names):
        return states
    for name, block in zip(names, blocks):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        fragment = values.get("FragmentPath", "")
        states[name] = {
            "installed": values.get("LoadState") == "loaded" and bool(fragment) and os.path.exists(fragment),
            "enabled": values.get("UnitFileState") in ENABLED,
            "active": values.get("ActiveState") in RUNNING,
        }
    return states
