# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one lock and the one journal of every change the collection makes to a host's files.

Both live beside the rules directory (``/etc/nginx/antman.d``), hidden from nginx's include globs:

- ``.antman.d.lock``: an exclusive ``flock`` held for a whole run, by every writer (the rule
  modules, ``lb_host_apply``, and any later one); the HA check script waits on it too;
- ``.antman.d.journal``: present only while a change is in flight. It lists every path the change
  touches with its state before (``{"format": 1, "before": [{"path", "kind", "mode", "uid",
  "gid", "target", "backup"}]}``): a file (its bytes saved in ``.antman.d.backup/<n>``), a link
  (its target), nothing, or a directory (moved aside to ``.antman.d.backup/<n>``). The rules
  directory is one such path: a link whose target, a generation directory, is switched.

``begin`` saves and journals before anything is changed; ``apply`` changes path by path;
``restore`` puts back every path that differs from its saved state, in reverse order, and is at
once the rollback of a failed change and the recovery of a run that died (the next run of any
writer calls it under the lock before anything else). ``view`` is a path as ``restore`` would
leave it, which check mode plans on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager

from ansible_collections.antsle.antman.plugins.module_utils.host.files import (
    DIR, DIR_MODE, FILE, PRIVATE_MODE, FileState, HostFileError, fsync_dir, read_state, remove_quietly,
    prepare, put_in_place, temporary_path, write_file, write_state)

FORMAT = 1


class Journal:
    """The lock, journal and backups of the host's files for the rules directory ``rules_dir``."""

    def __init__(self, rules_dir):
        self.rules_dir = os.path.normpath(os.path.abspath(rules_dir))
        self.parent, base = os.path.split(self.rules_dir)
        self.lock_path = os.path.join(self.parent, ".%s.lock" % base)
        self.path = os.path.join(self.parent, ".%s.journal" % base)
        self.backup_dir = os.path.join(self.parent, ".%s.backup" % base)

    @contextmanager
    def locked(self, timeout):
        """Hold the exclusive lock (waits up to ``timeout`` seconds)."""
        if os.path.lexists(self.parent) and not os.path.isdir(self.parent):
            raise HostFileError("cannot use rules_dir %s: its parent %s exists and is not a directory"
                                % (self.rules_dir, self.parent))
        try:
            if not os.path.isdir(self.parent):
                os.makedirs(self.parent, DIR_MODE)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
        except OSError as error:
            raise HostFileError("cannot use rules_dir %s: %s (its parent directory must be writable)"
                                % (self.rules_dir, error.strerror or error))
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                        raise HostFileError("could not lock %s within %ss: another run is still applying rules"
                                            % (self.lock_path, timeout))
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    # -- reading ----------------------------------------------------------------------------

    def entries(self):
        """The journal's entries, or None when no change is in flight. An unreadable journal (it
        is written with one rename, so only a damaged disk makes one) has none to put back."""
        try:
            with open(self.path) as handle:
                return json.load(handle).get("before", [])
        except (IOError, OSError, ValueError, AttributeError):
            return None if not os.path.lexists(self.path) else []

    def interrupted(self):
        """Whether a run died mid-change. Asked with the lock held, or in check mode, where the answer
        only predicts what the next real run will find."""
        return self.entries() is not None

    def saved_states(self):
        """[FileState] as the change in flight found them: what ``restore`` puts back."""
        states = []
        for entry in self.entries() or []:
            backup = os.path.join(self.backup_dir, entry["backup"]) if entry.get("backup") else None
            data, target = b"", entry.get("target")
            if entry["kind"] == FILE:
                try:
                    with open(backup, "rb") as handle:
                        data = handle.read()
                except (IOError, OSError) as error:
                    raise HostFileError("the journal %s of an interrupted change names %s, whose saved copy %s cannot "
                                        "be read (%s)" % (self.path, entry["path"], backup, error))
            elif entry["kind"] == DIR:
                target = backup if os.path.isdir(backup) else entry["path"]  # moved aside yet?
            states.append(FileState(entry["path"], entry["kind"], data, entry.get("mode", 0o644), entry.get("uid"),
                                    entry.get("gid"), target))
        return states

    def saved(self, path):
        """The saved state of ``path`` if the change in flight touches it, else None."""
        for state in self.saved_states():
            if state.path == path:
                return state
        return None

    def view(self, path):
        """The FileState of ``path`` as it will be once an interrupted change is put back."""
        return self.saved(path) or read_state(path)

    # -- changing (with the lock held) ---------------------------------------------------------

    def begin(self, changes):
        """Save the state before of every FileChange, then write the journal naming them."""
        self.clean()
        entries = []
        try:
            if any(c.before.kind in (FILE, DIR) for c in changes):
                os.mkdir(self.backup_dir, 0o700)
            for index, change in enumerate(changes):
                before = change.before
                entry = {"path": before.path, "kind": before.kind, "mode": before.mode, "uid": before.uid,
                         "gid": before.gid, "target": before.target, "backup": None}
                if before.kind in (FILE, DIR):
                    entry["backup"] = "%d" % index
                if before.kind == FILE:
                    write_file(os.path.join(self.backup_dir, entry["backup"]), before.data, PRIVATE_MODE)
                entries.append(entry)
            if os.path.isdir(self.backup_dir):
                fsync_dir(self.backup_dir)
        except OSError as error:
            self.clean()
            raise HostFileError("cannot save the files before changing them (%s): %s"
                                % (self.backup_dir, error.strerror or error))
        temporary = self.path + ".tmp"
        try:
            write_file(temporary, json.dumps({"format": FORMAT, "before": entries}).encode("utf-8"), PRIVATE_MODE)
            os.rename(temporary, self.path)
            fsync_dir(self.parent)
        except OSError as error:
            self.clean()
            raise HostFileError("cannot write the journal %s: %s" % (self.path, error.strerror or error))

    def apply(self, changes):
        """Make every path its state after: first every new file and link written beside its path,
        then each renamed into place, in order (a run killed while writing changed nothing). A
        directory is first moved aside, where ``begin`` journaled it: the rules directory the
        first change adopts."""
        for change in changes:
            before = change.before
            prepare(change.after, owner=(before.uid, before.gid) if before.kind == FILE else None)
        for index, change in enumerate(changes):
            if change.before.kind == DIR:
                try:
                    os.rename(change.path, os.path.join(self.backup_dir, "%d" % index))
                except OSError as error:
                    raise HostFileError("cannot move the directory %s aside (%s); it must be a plain directory on the "
                                        "same file system as its parent" % (change.path, error.strerror or error))
                fsync_dir(os.path.dirname(change.path))
            put_in_place(change.after)

    def restore(self):
        """Put back every journaled path that is not as it was, last changed first, then forget the
        change. Returns True if one was in flight. Also removes what a run that died before
        journaling left (backups, a temporary journal)."""
        states = self.saved_states() if self.interrupted() else None
        if states is None:
            self.clean()
            return False
        for state in reversed(states):
            try:
                put_back(state)
            except (OSError, HostFileError) as error:
                raise HostFileError("cannot put %s back as it was (%s); the journal %s stays, and the next run "
                                    "tries again" % (state.path, getattr(error, "strerror", None) or error, self.path))
        self.finish()
        return True

    def finish(self):
        """Forget the change: the journal first, so that no restore can follow the backups."""
        remove_quietly(self.path)
        fsync_dir(self.parent)
        self.clean()

    def clean(self):
        remove_quietly(self.path + ".tmp")
        shutil.rmtree(self.backup_dir, ignore_errors=True)


def put_back(state):
    """Make ``state.path`` be ``state`` again, unless it is already."""
    remove_quietly(temporary_path(state.path))
    if state.kind == DIR:
        if state.target != state.path:  # moved aside: whatever took its place goes
            if os.path.lexists(state.path):
                os.unlink(state.path)
            os.rename(state.target, state.path)
            fsync_dir(os.path.dirname(state.path))
        return
    try:
        now = read_state(state.path)
    except HostFileError:
        now = None
    if now is None or not now.same_as(state) or (state.kind == FILE and (now.uid, now.gid) != (state.uid, state.gid)):
        write_state(state)
