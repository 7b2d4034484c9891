# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transaction: the one way the collection changes files on a host, from a request to nginx
serving it, or to nothing changed at all. Every writer goes through ``Transaction``: the rule
modules (rules, and the certificates and keys given as content, which live with their rule in the
rules directory), ``lb_host_apply``'s base part, ``modules/lb_base_config.py`` (the drop-in, the stream context, include lines in
``nginx.conf``, links, ACME certificates) and any later writer (the health agent: its state file
and the rules rendered from it, in one change).

A run, whatever it writes:

1. ``read_host`` (an explicit step; the constructor does no I/O, and ``run`` does it unless the
   caller just did): nginx's configuration scanned (``snapshot.Host``), nginx found, what the
   rules' text depends on (``features``);
2. before anything is touched: the request is already parsed (``model.request``); nginx must run
   if it is to be reloaded (rules), or its configuration must pass ``nginx -t`` as it is (base
   configuration: a change could not be told apart from what was broken before);
3. under the one lock (``journal.py``): recover what a run that died left (``Journal.restore``,
   then a reload so that nginx serves what is on disk), then compute the change from what is on
   disk now. Check mode computes it from what that recovery would leave, and stops there;
4. stage: the new rule generation (``rules_dir.py``), complete, beside the current one;
5. journal: the state before of every path the change touches (``Journal.begin``): the rules
   directory's link, each file (bytes, mode, owner), link or absence;
6. switch: the rules directory's link, then every other file, each with one ``rename(2)``;
7. ``nginx -t``, reload and wait for the new workers (``nginx/control.py``);
8. finish: the journal removed first, then the previous generation and the backups.

Any failure in 6 and 7 is rolled back by the same ``Journal.restore`` that recovers a killed run:
every path put back byte for byte, and nginx reloaded again if a reload was attempted. A rule
change nginx rejects is tested again once rolled back, so that a configuration that was invalid
before is reported as such rather than blamed on the rules.

**Adding a writer.** ``run(rules, contents=None, files=None)``: ``rules(snapshot)`` returns the
desired rules ({name: canonical rule, or None to delete}) from the managed rules on disk;
``files(view)`` returns ``[files.FileChange]`` for paths outside the rules directory, where
``view(path)`` is the ``FileState`` on disk (in check mode, as the recovery would leave it) and a
change is ``FileChange(view(path), FileState(path, FILE, data, mode), action)`` for a path whose view
is not ``same_as`` the wanted state. Both are called under the lock, and everything they return is
one change: one journal, one ``nginx -t``, at most one reload, all of it or none of it. The health
agent's run gives ``observed(snapshot)``: the Verdicts (``health/verdicts.py``) the rules are
rendered with, written as a file of the rules directory's new generation, so that its state and the
rule files rendered from it switch together; a change of that file alone is validated, not
reloaded. ``run_files(files)`` is the base configuration's run (``nginx -t`` before anything,
reloaded only when nginx runs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE
from ansible_collections.antsle.antman.plugins.module_utils.host.features import host_features
from ansible_collections.antsle.antman.plugins.module_utils.host.files import FILE_MODE, PRIVATE_MODE, HostFileError, read_state
from ansible_collections.antsle.antman.plugins.module_utils.host.journal import Journal
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import RulesDir
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
    and the text of its nginx file before and after (the diff). ``read_by_nginx``: False for a file
    of the rules directory nginx does not read (the health agent's state), whose change needs no reload."""

    def __init__(self, name, action, before, after, rules_dir, after_text=None, writes=None, deletes=(),
                 read_by_nginx=True):
        self.name = name
        self.read_by_nginx = read_by_nginx
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


class Outcome:
    """What a run did: its changes (the rules' Changes, then the FileChanges), whether nginx was
    reloaded, whether an interrupted run was put back; for a run that computed rules, the snapshot
    it started from, the rule set it left and the rules it was asked for."""

    def __init__(self, snapshot=None, final_rules=None, rule_changes=(), file_changes=(), requested=None):
        self.snapshot = snapshot
        self.final_rules = final_rules
        self.rule_changes = list(rule_changes)
        self.file_changes = list(file_changes)
        self.requested = requested or {}
        self.reloaded = False
        self.recovered = False
        self.notes = []  # about the host's nginx: ports where no default server answers unknown names

    @property
    def changes(self):
        return self.rule_changes + self.file_changes

    @property
    def changed(self):
        return bool(self.changes) or self.recovered

    def warnings(self):
        """What a module warns about: files in the rules directory it leaves alone, requested rules
        that will not fail over as an operator would expect, and ports changed rules use where a
        Host name no rule serves reaches the first rule nginx reads."""
        notes = self.snapshot.warnings() if self.snapshot is not None else []
        return notes + rule_warnings(self.requested.values()) + self.notes


def rule_text(rule, current, rules_dir, features, unhealthy=()):
    """The nginx file text of ``rule``: rendered once per run (the reader rendered the rule on the
    host already, for the same ``features`` and the health agent's ``unhealthy`` upstreams; an
    unchanged rule is not rendered again)."""
    if current is not None and current.rule == rule and current.rendered is not None:
        return current.rendered
    return render_rule(rule, rules_dir, features, unhealthy)


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


def plan_changes(snapshot, desired, rules_dir, features, contents=None, verdicts=None):
    """Changes that turn ``snapshot`` into ``desired`` ({name: canonical rule, or None to delete}),
    rendered for ``features`` (NginxFeatures of the host); ``contents`` ({name: TlsContent}) is
    certificate content to write with a rule; ``verdicts``: the health agent's new Verdicts, the
    rules rendered with them and their file written (None: as on disk).

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
        unhealthy = snapshot.unhealthy(name) if verdicts is None else verdicts.unhealthy(name)
        if unhealthy == snapshot.unhealthy(name):
            text = rule_text(rule, current, rules_dir, features, unhealthy)
        else:
            text = render_rule(rule, rules_dir, features, unhealthy)
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
    if verdicts is not None and (verdicts != snapshot.verdicts or snapshot.verdicts.problem):
        there = os.path.exists(os.path.join(snapshot.directory, VERDICTS_FILE))
        if verdicts or there:
            writes = {VERDICTS_FILE: (verdicts.to_bytes(), FILE_MODE)} if verdicts else None
            changes.append(Change(VERDICTS_FILE, UPDATED, None, None, rules_dir, writes=writes,
                                  deletes=() if verdicts else {VERDICTS_FILE}, read_by_nginx=False))
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
    """Applies changes to the files of one nginx and its rules directory (see the module's doc).

    ``run`` is a callable running a command (an argument list) and returning (rc, stdout, stderr),
    AnsibleModule.run_command in modules. ``on_step(name)`` is called after each step (staged,
    journaled, switched, validated, reloaded, finished): the fault tests kill the process there."""

    def __init__(self, rules_dir, nginx_binary, nginx_conf, run, reload=True, check_mode=False,
                 lock_timeout=300.0, on_step=None, rules_included=True):
        self.rules_dir = RulesDir(rules_dir)
        self.journal = Journal(self.rules_dir.path)
        self.nginx_binary = nginx_binary
        self.nginx_conf = nginx_conf
        self.run_command = run
        self.reload = reload
        self.check_mode = check_mode
        self.lock_timeout = lock_timeout
        self.on_step = on_step or (lambda step: None)
        self.rules_included = rules_included
        self.host = self.nginx = self.features = None
        self._fresh = False  # read_host was called and no run has used what it read yet

    def read_host(self):
        """Read the host: nginx's configuration (which must include the rules directory unless
        ``rules_included=False``), the nginx binary, what the rules' text depends on. Returns self."""
        try:
            self.host = Host.read(self.nginx_conf, self.rules_dir.path, self.rules_included)
            self.nginx = Nginx(self.nginx_binary, self.nginx_conf, self.run_command, self.host.scan)
        except NginxError as error:
            raise ApplyError(str(error), output=error.output)
        self.features = host_features(self.nginx.version)
        self._fresh = True
        return self

    def run(self, rules=None, contents=None, files=None, observed=None):
        """Apply the rule set ``rules(snapshot)`` returns ({name: rule or None}), writing the
        certificate content in ``contents`` ({name: TlsContent}) with its rule, and the FileChanges
        ``files(view)`` returns, as one change; ``observed(snapshot)``, called first: the health
        agent's Verdicts to render the rules with. nginx must run (unless ``reload=False``).
        Returns Outcome."""
        return self._run(rules, contents, files, base=False, observed=observed)

    def run_files(self, files):
        """Apply ``files(view)`` -> [FileChange] to the base configuration: refused if nginx rejects
        its configuration as it is; nginx is reloaded when it runs (when it does not, it reads the
        files when it starts). Returns Outcome."""
        return self._run(None, None, files, base=True)

    def _run(self, rules, contents, files, base, observed=None):
        if not self._fresh:
            self.read_host()
        self._fresh = False  # a later run reads the host again
        try:
            if self.reload and not base:
                self.nginx.require_running()
            if self.check_mode:
                snapshot = self.host.snapshot(self.features, recovered=True) if rules else None
                outcome = self._plan(rules, contents, files, snapshot, self.journal.view, observed)
                if base and self.nginx.master_pid():
                    self._require_valid()
                outcome.recovered = self.journal.interrupted()
                return outcome
            interrupted = self.journal.interrupted()
            if base and not interrupted:
                self._require_valid()  # before the lock file is even made: nothing is touched
            with self.journal.locked(self.lock_timeout):
                recovered = self._recover()
                if recovered:
                    self.read_host()  # nginx.conf may be one of the files put back
                    self._fresh = False
                if base and interrupted:
                    self._require_valid()  # as the recovery left it
                snapshot = self.host.snapshot(self.features) if rules else None
                outcome = self._plan(rules, contents, files, snapshot, read_state, observed)
                outcome.recovered = recovered
                if outcome.changes:
                    outcome.reloaded = self._commit(outcome, base)
                return outcome
        except (NginxError, HostFileError) as error:
            raise ApplyError(str(error), output=getattr(error, "output", ""))

    def _plan(self, rules, contents, files, snapshot, view, observed=None):
        file_changes = files(view) if files else []
        if rules is None:
            return Outcome(file_changes=file_changes)
        verdicts = observed(snapshot) if observed else None
        desired = rules(snapshot)
        final_rules = final_rule_set(snapshot, desired)
        changes = plan_changes(snapshot, desired, self.rules_dir.path, self.features, contents, verdicts)
        changing = set(c.name for c in changes if c.read_by_nginx)
        check_rule_set(final_rules.values(), changing=changing)
        layout = self.host.layout()
        problems = layout.rule_problems(final_rules.values(), changing=changing)
        if problems:
            raise RuleError(problems)
        outcome = Outcome(snapshot, final_rules, changes, file_changes, requested=desired)
        if self.rules_included:
            if needs_stream(final_rules.values()):
                check_includes(self.host.scan, self.rules_dir.path, stream=True)
            # Without the base configuration yet (include_pending) its catch-all is not there to see.
            outcome.notes = layout.catch_all_notes(final_rules.values(), snapshot.rules())
        return outcome

    def _require_valid(self):
        """Refuse to build on a configuration nginx already rejects: a change could not be told apart
        from what was broken before, and nginx would not load it anyway."""
        try:
            self.nginx.test()
        except NginxError as error:
            raise ApplyError("nginx's configuration is invalid before any change (%s); nothing was touched. Fix it "
                             "first (nginx -t -c %s)" % (error, self.nginx.conf), output=error.output)

    def _recover(self):
        """A previous run died mid-change: put back every file it journaled, remove what it staged,
        and make sure the running nginx serves what is on disk again."""
        restored = self.journal.restore()
        self.rules_dir.remove_stale()
        if restored and self.reload and self.nginx.master_pid():
            self.nginx.test()
            self.nginx.reload()
        return restored

    def _commit(self, outcome, base):
        changes = list(outcome.file_changes)
        if outcome.rule_changes:
            writes, deletes = {}, set()
            for change in outcome.rule_changes:
                writes.update(change.writes)
                deletes.update(change.deletes)
            staged = self.rules_dir.stage(writes, deletes)
            # First, so that a file a writer changes inside rules_dir is written into the new generation.
            changes.insert(0, self.rules_dir.switch(staged))
        self.on_step("staged")
        try:
            self.journal.begin(changes)
        except HostFileError as error:
            self.rules_dir.remove_stale()
            raise HostFileError("%s; nothing was changed" % error)
        self.on_step("journaled")
        try:
            self.journal.apply(changes)
            self.on_step("switched")
            self.nginx.test()
            self.on_step("validated")
        except HostFileError as error:
            self._roll_back(reload_again=False)
            raise ApplyError("%s; %s and nginx keeps serving as before" % (error, put_back_note(outcome)))
        except NginxError as error:
            self._roll_back(reload_again=False)
            if outcome.rule_changes:
                try:
                    self.nginx.test()
                except NginxError:
                    raise ApplyError("nginx rejects its configuration without this change too: it was invalid before "
                                     "(%s); %s" % (error, put_back_note(outcome)), output=error.output)
            raise self._refused(error, outcome)
        reloaded = False
        read_by_nginx = outcome.file_changes or any(c.read_by_nginx for c in outcome.rule_changes)
        if self.reload and read_by_nginx and (not base or self.nginx.master_pid()):
            try:
                self.nginx.reload()
                reloaded = True
                self.on_step("reloaded")
            except NginxError as error:
                self._roll_back(reload_again=True)
                raise self._refused(error, outcome)
        self.journal.finish()
        self.rules_dir.remove_stale()
        self.on_step("finished")
        return reloaded

    def _roll_back(self, reload_again):
        self.journal.restore()
        self.rules_dir.remove_stale()
        if reload_again and self.nginx.master_pid():
            try:
                self.nginx.reload()
            except NginxError:
                pass  # nginx kept its previous configuration; the reported error is the real one

    def _refused(self, error, outcome):
        """The ApplyError of a change nginx refused, naming the rule(s) at fault."""
        if not outcome.rule_changes:
            return ApplyError("%s; %s and nginx keeps serving as before" % (error, put_back_note(outcome)), output=error.output)
        names = sorted(set(os.path.basename(f).rpartition(".")[0] for f in error.files
                           if os.path.dirname(os.path.abspath(f)) == self.rules_dir.path))
        changed = set(c.name for c in outcome.rule_changes if c.read_by_nginx)
        at_fault = [n for n in names if n in changed] or sorted(changed)
        label = "rule" if len(at_fault) == 1 else "rules"
        return ApplyError("%s %s: %s; %s and nginx keeps serving the previous rules"
                          % (label, ", ".join("'%s'" % n for n in at_fault), error, put_back_note(outcome)),
                          at_fault, error.output)


def put_back_note(outcome):
    """What a rolled-back change says it put back."""
    return "every rule file was restored" if outcome.rule_changes and not outcome.file_changes else "every file was restored"
