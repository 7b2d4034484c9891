# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction: from a desired rule set to nginx serving it, or to nothing changed at all.

Order of events for a change (every module that writes goes through ``Transaction.run``):

1. before anything is touched: the request is already parsed and validated (``model.request``);
   the host reader finds nginx's configuration including ``rules_dir`` in http context, nginx is
   found, and it runs (if it is to be reloaded);
2. under the rules directory's lock: recover from a run that died mid-change, read what is on
   disk, compute the desired set and check it as a whole (clashes between rules). Check mode plans
   the same way against what recovery would leave, and stops there;
3. stage the complete new rule set as a new generation, switch ``rules_dir`` to it atomically,
   ``nginx -t``, reload and wait for the new workers;
4. on any failure in 3: switch back to the previous generation (byte-identical, it was never
   modified), reload again if a reload had been attempted, and report nginx's own words and the
   rule(s) at fault.

``run_files`` does the same for the base configuration outside the rules directory (``files.py``):
``nginx -t`` on the configuration as it is (one nginx already rejects is refused before anything is
touched), the previous files saved and journaled, the new ones renamed into place, ``nginx -t``,
reload, and on failure every file restored exactly. Both recover what an interrupted run of either
left. A rule change that nginx rejects is tested again once rolled back, so that a configuration
that was invalid before is reported as such rather than blamed on the rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.antsle.antman.plugins.module_utils.host.features import host_features
from ansible_collections.antsle.antman.plugins.module_utils.host.files import HostFiles, read_state
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import FILE_MODE, PRIVATE_MODE, RulesDirError
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host, check_includes
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set, needs_stream, rule_warnings
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import companion_names, holds_content, sha256
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import Nginx, NginxError
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule, rule_file_name

CREATED, UPDATED, DELETED = "created", "updated", "deleted"


class ApplyError(Exception):
    """A change that could not be made; nothing was left changed. ``rules`` are the rules at fault."""

    def __init__(self, message, rules=(), output=""):
        super(ApplyError, self).__init__(message)
        self.rules = list(rules)
        self.output = output


class Change:
    """One rule created, updated or deleted: its files to write ({name: (bytes, mode)}) and delete,
    and the text of its nginx file before and after (the diff)."""

    def __init__(self, name, action, before, after, rules_dir, after_text=None, writes=None, deletes=()):
        self.name = name
        self.action = action
        self.before = before  # ManagedFile or None
        self.after = after  # canonical rule or None
        self.after_text = after_text
        self.writes = writes or {}
        self.deletes = set(deletes)
        self.before_path = os.path.join(rules_dir, before.filename) if before else None
        self.after_path = os.path.join(rules_dir, rule_file_name(after)) if after is not None else None

    def as_dict(self):
        return {"name": self.name, "action": self.action}

    def diff(self):
        """The rule file's text before and after. Certificate and key files are never shown."""
        return {
            "before": self.before.text if self.before else "",
            "after": self.after_text or "",
            "before_header": self.before_path or "/dev/null",
            "after_header": self.after_path or "/dev/null",
        }


class FilesOutcome:
    """What a change did: its changes, whether nginx was reloaded, whether an interrupted run was rolled back."""

    def __init__(self, changes, reloaded=False, recovered=False):
        self.changes = changes
        self.reloaded = reloaded
        self.recovered = recovered

    @property
    def changed(self):
        return bool(self.changes) or self.recovered


class Outcome(FilesOutcome):
    """What a rule change did: the snapshot it started from, the rule set it left, its changes."""

    def __init__(self, snapshot, final_rules, changes, requested=None, reloaded=False, recovered=False):
        super(Outcome, self).__init__(changes, reloaded, recovered)
        self.snapshot = snapshot
        self.final_rules = final_rules
        self.requested = requested or {}
        self.notes = []  # about the host's nginx: ports where no default server answers unknown names

    def warnings(self):
        """What a module warns about: files in the rules directory it leaves alone, requested rules
        that will not fail over as an operator would expect, and ports changed rules use where a
        Host name no rule serves reaches the first rule nginx reads."""
        return self.snapshot.warnings() + rule_warnings(self.requested.values()) + self.notes


def rule_text(rule, current, rules_dir, features):
    """The nginx file text of ``rule``: rendered once per run (the reader rendered the rule on the
    host already, for the same ``features``; an unchanged rule is not rendered again)."""
    if current is not None and current.rule == rule and current.rendered is not None:
        return current.rendered
    return render_rule(rule, rules_dir, features)


def desired_files(rule, text, current, content):
    """{file name: (bytes, mode)} of a rule: its nginx file, and its certificate and key when the
    rule's tls is given as content (the key readable by root only)."""
    files = {rule_file_name(rule): (text.encode("utf-8"), FILE_MODE)}
    if holds_content(rule):
        certificate, key = companion_names(rule["name"])
        if content is not None:
            files[certificate], files[key] = (content.certificate, FILE_MODE), (content.key, PRIVATE_MODE)
        else:
            have = current.companions if current is not None else {}
            if (sha256(have.get(certificate, b"")) != rule["tls"]["certificate_sha256"]
                    or sha256(have.get(key, b"")) != rule["tls"]["key_sha256"]):
                raise RuleError(["tls: no certificate and key with these sha256 digests are on the host; "
                                 "give certificate_content and key_content"], rule["name"])
            files[certificate], files[key] = (have[certificate], FILE_MODE), (have[key], PRIVATE_MODE)
    return files


def plan_changes(snapshot, desired, rules_dir, features, contents=None):
    """Changes that turn ``snapshot`` into ``desired`` ({name: canonical rule, or None to delete}),
    rendered for ``features`` (NginxFeatures of the host); ``contents`` ({name: TlsContent}) is
    certificate content to write with a rule.

    RuleError if a rule's file (or its certificate or key) would replace a file the collection
    does not manage: such files are reported, never touched."""
    contents = contents or {}
    changes, problems = [], []
    for name, rule in desired.items():
        current = snapshot.managed.get(name)
        have = current.files() if current is not None else {}
        if rule is None:
            if current is not None:
                changes.append(Change(name, DELETED, current, None, rules_dir, deletes=have))
            continue
        text = rule_text(rule, current, rules_dir, features)
        want = desired_files(rule, text, current, contents.get(name))
        for taken in sorted(set(want) & set(snapshot.unmanaged)):
            problems.append("rule '%s': %s is in %s but not managed by antsle.antman; it is never overwritten "
                            "(move it away, or give the rule another name)" % (name, taken, rules_dir))
        writes = dict((f, data) for f, data in want.items() if have.get(f) != data[0])
        deletes = set(have) - set(want)
        if current is None:
            changes.append(Change(name, CREATED, None, rule, rules_dir, text, writes))
        elif writes or deletes:
            changes.append(Change(name, UPDATED, current, rule, rules_dir, text, writes, deletes))
    if problems:
        raise RuleError(problems)
    return changes


def final_rule_set(snapshot, desired):
    rules = snapshot.rules()
    for name, rule in desired.items():
        if rule is None:
            rules.pop(name, None)
        else:
            rules[name] = rule
    return rules


class Transaction:
    """Applies desired rule sets to one rules directory of one nginx.

    ``run`` is a callable running a command (an argument list) and returning (rc, stdout, stderr),
    AnsibleModule.run_command in modules."""

    def __init__(self, rules_dir, nginx_binary, nginx_conf, run, reload=True, check_mode=False,
                 lock_timeout=300.0, on_step=None, rules_included=True):
        try:
            self.host = Host(nginx_conf, rules_dir, rules_included)
            self.nginx = Nginx(nginx_binary, nginx_conf, run, self.host.scan)
        except NginxError as error:
            raise ApplyError(str(error), output=error.output)
        self.rules_dir = self.host.rules_dir
        self.features = host_features(self.nginx.version)
        self.rules_included = rules_included
        self.files = HostFiles(self.rules_dir.path)
        self.reload = reload
        self.check_mode = check_mode
        self.lock_timeout = lock_timeout
        self.on_step = on_step or (lambda step: None)

    def run(self, compute, contents=None):
        """Apply the rule set ``compute(snapshot)`` returns ({name: rule or None}), writing the
        certificate content in ``contents`` ({name: TlsContent}) with its rule.

        ``compute`` runs under the lock, on what is on disk at that moment (in check mode, on what
        the recovery of an interrupted run would leave)."""
        try:
            if self.reload:
                self.nginx.require_running()
            if self.check_mode:
                outcome = self._plan(compute, contents, self.host.snapshot(self.features, recovered=True))
                outcome.recovered = self.rules_dir.interrupted() or self.files.interrupted()
                return outcome
            with self.rules_dir.locked(self.lock_timeout):
                recovered = self._recover()
                outcome = self._plan(compute, contents, self.host.snapshot(self.features))
                outcome.recovered = recovered
                if outcome.changes:
                    outcome.reloaded = self._commit(outcome.changes)
                return outcome
        except (NginxError, RulesDirError) as error:
            raise ApplyError(str(error), output=getattr(error, "output", ""))

    def _plan(self, compute, contents, snapshot):
        desired = compute(snapshot)
        final_rules = final_rule_set(snapshot, desired)
        changes = plan_changes(snapshot, desired, self.rules_dir.path, self.features, contents)
        changing = set(c.name for c in changes)
        check_rule_set(final_rules.values(), changing=changing)
        layout = self.host.layout()
        problems = layout.rule_problems(final_rules.values(), changing=changing)
        if problems:
            raise RuleError(problems)
        outcome = Outcome(snapshot, final_rules, changes, requested=desired)
        if self.rules_included:
            if needs_stream(final_rules.values()):
                check_includes(self.host.scan, self.rules_dir.path, stream=True)
            # Without the base configuration yet (include_pending) its catch-all is not there to see.
            outcome.notes = layout.catch_all_notes(final_rules.values(), snapshot.rules())
        return outcome

    def _recover(self):
        """A previous run died mid-change: put back its previous generation, or the base files it
        was changing, and make sure the running nginx serves what is on disk again."""
        restored_files = self.files.restore()
        if not self.rules_dir.recover():
            self.rules_dir.remove_stale_generations()
            if not restored_files:
                return False
        if self.reload and self.nginx.master_pid():
            self.nginx.test()
            self.nginx.reload()
        return True

    def run_files(self, compute):
        """Apply ``compute(view)`` -> [FileChange] to the base configuration. ``view(path)`` is the
        FileState of a path (in check mode, as the recovery of an interrupted run would leave it).
        nginx is reloaded when it runs (when it does not, it reads the files when it starts).
        Returns FilesOutcome."""
        try:
            if self.check_mode:
                changes = compute(self.files.view)
                if self.nginx.master_pid():
                    self._require_valid()
                return FilesOutcome(changes, recovered=self.rules_dir.interrupted() or self.files.interrupted())
            interrupted = self.rules_dir.interrupted() or self.files.interrupted()
            if not interrupted:
                self._require_valid()  # before the lock file is even made: nothing is touched
            with self.rules_dir.locked(self.lock_timeout):
                recovered = self._recover()
                if interrupted:
                    self._require_valid()  # as the recovery left it
                changes = compute(read_state)
                outcome = FilesOutcome(changes, recovered=recovered)
                if changes:
                    outcome.reloaded = self._commit_files(changes)
                return outcome
        except (NginxError, RulesDirError) as error:
            raise ApplyError(str(error), output=getattr(error, "output", ""))

    def _require_valid(self):
        """Refuse to build on a configuration nginx already rejects: a change could not be told apart
        from what was broken before, and nginx would not load it anyway."""
        try:
            self.nginx.test()
        except NginxError as error:
            raise ApplyError("nginx's configuration is invalid before any change (%s); nothing was touched. Fix it "
                             "first (nginx -t -c %s)" % (error, self.nginx.conf), output=error.output)

    def _commit_files(self, changes):
        self.files.begin(changes)
        self.on_step("journaled")
        try:
            self.files.apply(changes)
            self.on_step("switched")
            self.nginx.test()
            self.on_step("validated")
        except (NginxError, RulesDirError) as error:
            self.files.restore()
            raise ApplyError("%s; every file was restored and nginx keeps serving as before" % error,
                             output=getattr(error, "output", ""))
        reloaded = False
        if self.reload and self.nginx.master_pid():
            try:
                self.nginx.reload()
                reloaded = True
                self.on_step("reloaded")
            except NginxError as error:
                self.files.restore()
                if self.nginx.master_pid():
                    try:
                        self.nginx.reload()
                    except NginxError:
                        pass  # nginx kept its previous configuration; the reported error is the real one
                raise ApplyError("%s; every file was restored and nginx keeps serving as before" % error,
                                 output=error.output)
        self.files.finish()
        self.on_step("finished")
        return reloaded

    def _commit(self, changes):
        self.rules_dir.ensure_layout()
        writes, deletes = {}, set()
        for change in changes:
            writes.update(change.writes)
            deletes.update(change.deletes)
        previous = self.rules_dir.current_dir()
        staged = self.rules_dir.stage(writes, deletes)
        self.on_step("staged")
        try:
            self.rules_dir.write_journal(previous, staged)
            self.on_step("journaled")
            self.rules_dir.point_to(staged)
        except RulesDirError as error:
            self.rules_dir.abandon(staged)
            raise RulesDirError("%s; nothing was changed" % error)
        self.on_step("switched")
        try:
            self.nginx.test()
            self.on_step("validated")
        except NginxError as error:
            self._roll_back(previous, staged, reload_again=False)
            try:
                self.nginx.test()
            except NginxError:
                raise ApplyError("nginx rejects its configuration without this change too: it was invalid before (%s); "
                                 "every rule file was restored" % error, output=error.output)
            raise self._blame(error, changes)
        reloaded = False
        if self.reload:
            try:
                self.nginx.reload()
                reloaded = True
                self.on_step("reloaded")
            except NginxError as error:
                self._roll_back(previous, staged, reload_again=True)
                raise self._blame(error, changes)
        self.rules_dir.remove_journal()
        self.rules_dir.discard(previous)
        self.on_step("finished")
        return reloaded

    def _roll_back(self, previous, staged, reload_again):
        self.rules_dir.point_to(previous)
        self.rules_dir.remove_journal()
        self.rules_dir.discard(staged)
        if reload_again and self.nginx.master_pid():
            try:
                self.nginx.reload()
            except NginxError:
                pass  # nginx kept its previous configuration; the reported error is the real one

    def _blame(self, error, changes):
        names = sorted(set(os.path.basename(f).rpartition(".")[0] for f in error.files
                           if os.path.dirname(os.path.abspath(f)) == self.rules_dir.path))
        changed = set(c.name for c in changes)
        at_fault = [n for n in names if n in changed] or sorted(changed)
        label = "rule" if len(at_fault) == 1 else "rules"
        return ApplyError("%s %s: %s; every rule file was restored and nginx keeps serving the previous rules"
                          % (label, ", ".join("'%s'" % n for n in at_fault), error), at_fault, error.output)
