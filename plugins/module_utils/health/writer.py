# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent as a writer of the rules directory: new verdicts and the rule files they
change, in one transaction with the modules' lock, journal, ``nginx -t``, reload and rollback.

This is the one place the agent meets the transaction engine (``host/transaction.py``): it stages
the changed rule files and the verdicts file (``health/verdicts.py``) as one generation through
the engine's commit. Only rules whose file text changes are rewritten; a change of the verdicts
alone (one for an upstream since declared down) is validated but needs no reload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import FILE_MODE, RulesDirError
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import UPDATED, ApplyError, Change, Transaction
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import NginxError
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule, rule_file_name

# How the verdicts file shows among the changes of a transaction (never a rule name: those have no dot).
VERDICTS_CHANGE = VERDICTS_FILE


class WriteOutcome:
    """What an apply did: the ``rules`` whose file changed, the ``verdicts`` now applied, whether
    nginx was ``reloaded``, whether an interrupted run was ``recovered`` first."""

    def __init__(self, rules, verdicts, reloaded, recovered):
        self.rules = rules
        self.verdicts = verdicts
        self.reloaded = reloaded
        self.recovered = recovered

    @property
    def changed(self):
        return bool(self.rules) or self.reloaded


def plan_verdict_changes(snapshot, wanted, rules_dir, features):
    """Changes that apply the Verdicts ``wanted`` to ``snapshot``: each rule whose rendering differs
    under them (its other files untouched), and the verdicts file itself."""
    changes = []
    for name, managed in snapshot.managed.items():
        if managed.rule is None:
            continue
        before, after = snapshot.unhealthy(name), wanted.unhealthy(name)
        if before == after:
            continue
        text = render_rule(managed.rule, rules_dir, features, after)
        if text == managed.rendered:
            continue  # fail open, or only addresses the rule does not hold: the same file
        changes.append(Change(name, UPDATED, managed, managed.rule, rules_dir, text,
                              {rule_file_name(managed.rule): (text.encode("utf-8"), FILE_MODE)}))
    if wanted != snapshot.verdicts or snapshot.verdicts.problem:
        if wanted:
            changes.append(Change(VERDICTS_CHANGE, UPDATED, None, None, rules_dir,
                                  writes={VERDICTS_FILE: (wanted.to_bytes(), FILE_MODE)}))
        elif os.path.exists(os.path.join(snapshot.directory, VERDICTS_FILE)):
            changes.append(Change(VERDICTS_CHANGE, UPDATED, None, None, rules_dir, deletes={VERDICTS_FILE}))
    return changes


class VerdictWriter:
    """Applies verdicts to one rules directory of one nginx (``run``: a command runner returning
    (rc, stdout, stderr)). ``lock_timeout``: how long to wait for a module that holds the lock
    (the agent tries again later rather than wait long)."""

    def __init__(self, rules_dir, nginx_binary, nginx_conf, run, lock_timeout=2.0, on_step=None):
        self.rules_dir = rules_dir
        self.nginx_binary = nginx_binary
        self.nginx_conf = nginx_conf
        self.run = run
        self.lock_timeout = lock_timeout
        self.on_step = on_step

    def transaction(self):
        """A transaction of the host as it is now (nginx.conf read again: the role may have changed it)."""
        return Transaction(self.rules_dir, self.nginx_binary, self.nginx_conf, self.run, reload=True,
                           lock_timeout=self.lock_timeout, on_step=self.on_step)

    def read(self):
        """(rules, verdicts) as they are, or as the recovery of an interrupted run will leave them."""
        applier = self.transaction()
        snapshot = applier.host.snapshot(applier.features, recovered=True)
        return snapshot.rules(), snapshot.verdicts

    def apply(self, decide):
        """Apply ``decide(rules, applied verdicts)`` -> the Verdicts wanted, computed under the lock from
        what is on disk then (pruned of rules and upstreams that no longer need one). Returns a
        WriteOutcome; raises ApplyError when nothing could be changed (every file left as it was)."""
        applier = self.transaction()
        try:
            with applier.rules_dir.locked(self.lock_timeout):
                recovered = applier._recover()
                snapshot = applier.host.snapshot(applier.features)
                rules = snapshot.rules()
                wanted = decide(rules, snapshot.verdicts).pruned(rules)
                changes = plan_verdict_changes(snapshot, wanted, applier.rules_dir.path, applier.features)
                if not changes:
                    return WriteOutcome([], snapshot.verdicts, False, recovered)
                renders = [c.name for c in changes if c.name != VERDICTS_CHANGE]
                # a running nginx reloads when a rule's text changed; otherwise nginx -t only
                applier.reload = bool(renders) and applier.nginx.master_pid() is not None
                reloaded = applier._commit(changes)
                return WriteOutcome(renders, wanted, reloaded, recovered)
        except (NginxError, RulesDirError) as error:
            raise ApplyError(str(error), output=getattr(error, "output", ""))
