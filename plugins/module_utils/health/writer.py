# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent as a writer of the rules directory: new verdicts and the rule files they
change, through the modules' one transaction engine (``host/transaction.py``: lock, journal,
``nginx -t``, reload, rollback) as one change: ``Transaction.run(rules, observed=...)`` renders the
rules whose held-out upstreams change and writes the verdicts file (``health/verdicts.py``) into the
same new generation. Only rules whose file text changes are rewritten; a change of the verdicts
alone (one for an upstream since declared down, or fail open) is validated but needs no reload.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import Transaction


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


class VerdictWriter:
    """Applies verdicts to one rules directory of one nginx (``run``: a command runner returning
    (rc, stdout, stderr)). ``lock_timeout``: how long to wait for a module that holds the lock
    (the agent tries again later rather than wait long). ``check_mode``: plan only (the role's
    lb_host_apply's agent part predicting what clearing the verdicts would change)."""

    def __init__(self, rules_dir, nginx_binary, nginx_conf, run, lock_timeout=2.0, on_step=None, check_mode=False):
        self.rules_dir = rules_dir
        self.nginx_binary = nginx_binary
        self.nginx_conf = nginx_conf
        self.command_runner = run
        self.lock_timeout = lock_timeout
        self.on_step = on_step
        self.check_mode = check_mode

    def transaction(self):
        """A transaction of the host as it is now (nginx.conf read again: the role may have changed
        it); it reloads nginx when nginx runs (a stopped nginx reads the files when it starts)."""
        transaction = Transaction(self.rules_dir, self.nginx_binary, self.nginx_conf, self.command_runner,
                                  lock_timeout=self.lock_timeout, on_step=self.on_step,
                                  check_mode=self.check_mode).read_host()
        transaction.reload = transaction.nginx.master_pid() is not None
        return transaction

    def read(self):
        """(rules, verdicts) as they are, or as the recovery of an interrupted run will leave them."""
        transaction = self.transaction()
        snapshot = transaction.host.snapshot(transaction.features, recovered=True)
        return snapshot.rules(), snapshot.verdicts

    def apply(self, decide):
        """Apply ``decide(rules, applied verdicts)`` -> the Verdicts wanted, computed under the lock from
        what is on disk then (pruned of rules and upstreams that no longer need one). Returns a
        WriteOutcome; raises ApplyError when nothing could be changed (every file left as it was)."""
        wanted = []

        def observed(snapshot):
            wanted.append(decide(snapshot.rules(), snapshot.verdicts).pruned(snapshot.rules()))
            return wanted[0]

        def rules(snapshot):
            # only the rules whose held-out upstreams change: any other file stays as it is
            return dict((name, rule) for name, rule in snapshot.rules().items()
                        if wanted[0].unhealthy(name) != snapshot.unhealthy(name))

        outcome = self.transaction().run(rules, observed=observed)
        renders = [change.name for change in outcome.rule_changes if change.read_by_nginx]
        applied = wanted[0] if outcome.changes else outcome.snapshot.verdicts
        return WriteOutcome(renders, applied, outcome.reloaded, outcome.recovered)
