# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files of the host's nginx configuration outside the rules directory (the role's drop-in and
stream context, the include lines it adds to ``nginx.conf``, the distribution's default site link),
changed as one transaction with the same guarantees as the rules directory.

Before anything is written, every file's previous state (bytes, mode, owner, or the target of a
link, or its absence) is saved beside the rules directory, in ``.<rules_dir>.files-backup/``, and
listed in the journal ``.<rules_dir>.files-journal``. Each file is then replaced with one
``rename(2)``. Restoring puts every file back exactly; a run that finds the journal (the previous
one died mid-change) restores before doing anything else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import stat

from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import (
    PRIVATE_MODE, RulesDirError, fsync_dir, remove_quietly, write_file)

ABSENT, FILE, LINK = "absent", "file", "link"


class FileState:
    """What is at ``path``: nothing, a regular file (bytes, mode, owner) or a symbolic link."""

    def __init__(self, path, kind, data=b"", mode=0o644, uid=None, gid=None, target=None):
        self.path = path
        self.kind = kind
        self.data = data
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.target = target

    def same_as(self, other):
        if self.kind != other.kind:
            return False
        if self.kind == FILE:
            return self.data == other.data and self.mode == other.mode
        return self.kind == ABSENT or self.target == other.target

    def text(self):
        """The file's text for a diff (undecodable bytes shown as escapes)."""
        return self.data.decode("utf-8", "backslashreplace") if self.kind == FILE else ""


def read_state(path):
    try:
        info = os.lstat(path)
    except OSError:
        return FileState(path, ABSENT)
    if stat.S_ISLNK(info.st_mode):
        return FileState(path, LINK, target=os.readlink(path))
    if not stat.S_ISREG(info.st_mode):
        raise RulesDirError("%s is neither a regular file nor a symbolic link; it is not changed" % path)
    with open(path, "rb") as handle:
        data = handle.read()
    return FileState(path, FILE, data, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


class FileChange:
    """One file of the base configuration: its state before and after."""

    def __init__(self, before, after, action):
        self.before = before
        self.after = after
        self.action = action  # created, updated, removed

    @property
    def path(self):
        return self.before.path

    def as_dict(self):
        return {"path": self.path, "action": self.action}

    def diff(self):
        return {"before": self.before.text(), "after": self.after.text(),
                "before_header": self.path if self.before.kind != ABSENT else "/dev/null",
                "after_header": self.path if self.after.kind != ABSENT else "/dev/null"}


def write_state(state, owner=None):
    """Make ``state.path`` be ``state``, in one rename (a file or a link) or one unlink."""
    directory, name = os.path.split(state.path)
    if state.kind == ABSENT:
        if os.path.lexists(state.path):
            os.unlink(state.path)
        fsync_dir(directory)
        return
    if not os.path.isdir(directory):
        raise RulesDirError("cannot write %s: directory %s does not exist" % (state.path, directory))
    temporary = os.path.join(directory, ".%s.antman-new" % name)
    remove_quietly(temporary)
    try:
        if state.kind == LINK:
            os.symlink(state.target, temporary)
        else:
            write_file(temporary, state.data, state.mode)
            uid, gid = owner if owner else (state.uid, state.gid)
            if uid is not None and (uid, gid) != (os.getuid(), os.getgid()):
                os.chown(temporary, uid, gid)
        os.rename(temporary, state.path)
    except OSError as error:
        remove_quietly(temporary)
        raise RulesDirError("cannot write %s: %s" % (state.path, error.strerror or error))
    fsync_dir(directory)


class HostFiles:
    """The journal and backups of base-configuration changes for one rules directory."""

    def __init__(self, rules_dir):
        parent, base = os.path.split(os.path.normpath(os.path.abspath(rules_dir)))
        self.journal_path = os.path.join(parent, ".%s.files-journal" % base)
        self.backup_dir = os.path.join(parent, ".%s.files-backup" % base)

    def read_journal(self):
        try:
            with open(self.journal_path) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None if not os.path.exists(self.journal_path) else []

    def interrupted(self):
        return self.read_journal() is not None

    def saved_states(self):
        """{path: FileState} as the interrupted change found them (what ``recover`` restores)."""
        states = {}
        for entry in self.read_journal() or []:
            data = b""
            if entry["kind"] == FILE:
                with open(os.path.join(self.backup_dir, entry["backup"]), "rb") as handle:
                    data = handle.read()
            states[entry["path"]] = FileState(entry["path"], entry["kind"], data, entry.get("mode", 0o644),
                                              entry.get("uid"), entry.get("gid"), entry.get("target"))
        return states

    def view(self, path):
        """The state of ``path`` once an interrupted change is rolled back (check mode plans on it)."""
        return self.saved_states().get(path) or read_state(path)

    def begin(self, changes):
        """Save every file's previous state, then write the journal naming them. Must hold the lock."""
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        try:
            os.mkdir(self.backup_dir, 0o700)
            entries = []
            for index, change in enumerate(changes):
                before = change.before
                entry = {"path": before.path, "kind": before.kind, "mode": before.mode, "uid": before.uid,
                         "gid": before.gid, "target": before.target, "backup": None}
                if before.kind == FILE:
                    entry["backup"] = "%d" % index
                    write_file(os.path.join(self.backup_dir, entry["backup"]), before.data, PRIVATE_MODE)
                entries.append(entry)
            fsync_dir(self.backup_dir)
            temporary = self.journal_path + ".tmp"
            remove_quietly(temporary)
            write_file(temporary, json.dumps(entries).encode("utf-8"), PRIVATE_MODE)
            os.rename(temporary, self.journal_path)
            fsync_dir(os.path.dirname(self.journal_path))
        except OSError as error:
            self.finish()
            raise RulesDirError("cannot save the base configuration before changing it (%s): %s"
                                % (self.backup_dir, error.strerror or error))

    @staticmethod
    def apply(changes):
        for change in changes:
            before = change.before
            write_state(change.after, owner=(before.uid, before.gid) if before.kind == FILE else None)

    def restore(self):
        """Put every journaled file back as it was. Returns True if there was a journal."""
        states = self.saved_states() if self.interrupted() else None
        if states is None:
            return False
        for state in states.values():
            write_state(state)
        self.finish()
        return True

    def finish(self):
        remove_quietly(self.journal_path)
        remove_quietly(self.journal_path + ".tmp")
        shutil.rmtree(self.backup_dir, ignore_errors=True)
