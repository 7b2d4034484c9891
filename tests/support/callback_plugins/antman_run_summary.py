# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper callback: writes what a playbook run did to the JSON file named by $ANTMAN_RUN_SUMMARY
(used by tests/support/playrun.py; ansible-core has no json callback of its own any more)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: antman_run_summary
type: aggregate
short_description: Record task results and stats as JSON for tests
description:
  - Writes every task result (name, host, the result) and the play recap to the file named by the
    environment variable ANTMAN_RUN_SUMMARY.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os

from ansible.plugins.callback import CallbackBase


def _part(result, name):
    """2.19 exposes result.task/.result/.host; older cores the underscore names."""
    return getattr(result, name, None) if hasattr(result, name) else getattr(result, "_" + name)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "antman_run_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []

    def _record(self, result, status):
        task = _part(result, "task")
        self.tasks.append({"task": task.get_name(), "host": _part(result, "host").get_name(), "status": status,
                           "result": _part(result, "result")})

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("ANTMAN_RUN_SUMMARY")
        if not path:
            return
        recap = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        with open(path, "w") as handle:
            json.dump({"tasks": self.tasks, "stats": recap}, handle, default=str)
