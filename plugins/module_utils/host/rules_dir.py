# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules directory on disk, switched atomically as a whole.

``rules_dir`` (say ``/etc/nginx/antman.d``) is a symbolic link to a generation directory beside
it (``/etc/nginx/.antman.d.gen-XXXX``). A change builds a complete new generation (unchanged files
are hard links, so they keep their bytes and inode) and then replaces the link with one
``rename(2)``. Whoever reads ``rules_dir`` (nginx, a reload, a person) therefore sees either the
whole old rule set or the whole new one, never a mix or a half-written file, even if the process
dies at any point. The previous generation stays intact until the new one is live, so rolling
back is switching the link back.

Beside it, also hidden from nginx's include globs (names start with a dot):
- ``.antman.d.lock``: serialises concurrent runs (flock);
- ``.antman.d.journal``: present only while a change is in flight; a run that finds one knows
  the previous run died mid-change and switches back to the generation it names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager

DIR_MODE = 0o755
FILE_MODE = 0o644
PRIVATE_MODE = 0o600


class RulesDirError(Exception):
    """The rules directory cannot be used (permissions, layout, lock)."""


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write_file(path, data, mode):
    """Create ``path`` (which must not exist) with ``data``, ``mode`` and fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


class RulesDir:
    def __init__(self, path):
        self.path = os.path.normpath(os.path.abspath(path))
        self.parent, self.base = os.path.split(self.path)
        self.lock_path = os.path.join(self.parent, ".%s.lock" % self.base)
        self.journal_path = os.path.join(self.parent, ".%s.journal" % self.base)
        self.gen_prefix = ".%s.gen-" % self.base

    # -- reading ---------------------------------------------------------------------------

    def current_dir(self):
        """The directory that holds the rule files now, or None if there is none yet."""
        if os.path.isdir(self.path):
            return os.path.realpath(self.path)
        return None

    def generations(self):
        try:
            names = os.listdir(self.parent)
        except OSError:
            return []
        return [os.path.join(self.parent, n) for n in names if n.startswith(self.gen_prefix)]

    # -- locking and recovery -----------------------------------------------------------------

    @contextmanager
    def locked(self, timeout):
        """Hold the exclusive lock for this rules directory (waits up to ``timeout`` seconds)."""
        if os.path.lexists(self.parent) and not os.path.isdir(self.parent):
            raise RulesDirError("cannot use rules_dir %s: its parent %s exists and is not a directory"
                                % (self.path, self.parent))
        try:
            if not os.path.isdir(self.parent):
                os.makedirs(self.parent, DIR_MODE)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)
        except OSError as error:
            raise RulesDirError("cannot use rules_dir %s: %s (its parent directory must be writable)"
                                % (self.path, error.strerror or error))
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                        raise RulesDirError("could not lock %s within %ss: another run is still applying rules"
                                            % (self.lock_path, timeout))
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def read_journal(self):
        try:
            with open(self.journal_path) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None if not os.path.exists(self.journal_path) else {}

    def interrupted(self):
        """Whether a run died mid-change (its journal is still there). Must be asked with the lock held,
        or in check mode, where the answer only predicts what the next real run will find."""
        return self.read_journal() is not None

    def recovery_view(self):
        """The directory that will hold the rule files once ``recover`` has run: the previous
        generation of an interrupted change, else the current one. Changes nothing (check mode)."""
        journal = self.read_journal()
        previous = journal.get("previous") if journal else None
        if previous and os.path.isdir(previous):
            return os.path.realpath(previous)
        return self.current_dir()

    def recover(self):
        """Undo a change whose run died mid-way. Returns True if there was one to undo.

        Must be called with the lock held."""
        journal = self.read_journal()
        if journal is None:
            return False
        previous = journal.get("previous")
        if previous and os.path.isdir(previous):
            self.point_to(previous)
        self.remove_journal()
        self.remove_stale_generations()
        return True

    def remove_stale_generations(self):
        """Remove generation directories that are neither current nor part of a change in flight."""
        current = self.current_dir()
        for generation in self.generations():
            if os.path.realpath(generation) != current:
                shutil.rmtree(generation, ignore_errors=True)
        for link in self.stale_links():
            remove_quietly(link)

    def stale_links(self):
        """Temporary links of ``point_to`` left by a run that died between creating and renaming one."""
        prefix = ".%s.link-" % self.base
        try:
            names = os.listdir(self.parent)
        except OSError:
            return []
        return [os.path.join(self.parent, n) for n in names if n.startswith(prefix)]

    # -- changing ---------------------------------------------------------------------------

    def ensure_layout(self):
        """Make ``rules_dir`` a link to a generation directory (creating or adopting a real one).

        Must be called with the lock held."""
        if os.path.islink(self.path) and os.path.isdir(self.path):
            return
        if os.path.islink(self.path):
            raise RulesDirError("rules_dir %s is a symbolic link to something that is not a directory" % self.path)
        generation = self.new_generation_dir()
        if os.path.isdir(self.path):
            # Adopt an existing real directory as the first generation: one rename, then the link.
            # Between the two, rules_dir does not exist; the journal lets a run that finds it so
            # put the adopted directory back instead of discarding it as a stale generation.
            os.rmdir(generation)
            self.write_journal(generation, None)
            try:
                os.rename(self.path, generation)
            except OSError as error:
                self.remove_journal()
                raise RulesDirError("cannot adopt rules_dir %s (%s); it must be a plain directory on the same "
                                    "file system as its parent" % (self.path, error.strerror))
            try:
                self.point_to(generation)
            except RulesDirError:
                os.rename(generation, self.path)
                self.remove_journal()
                raise
            self.remove_journal()
            return
        if os.path.exists(self.path):
            os.rmdir(generation)
            raise RulesDirError("rules_dir %s exists and is not a directory" % self.path)
        try:
            self.point_to(generation)
        except RulesDirError:
            self.discard(generation)
            raise

    def new_generation_dir(self):
        try:
            generation = tempfile.mkdtemp(prefix=self.gen_prefix, dir=self.parent)
        except OSError as error:
            raise RulesDirError("cannot write in %s: %s" % (self.parent, error.strerror or error))
        os.chmod(generation, DIR_MODE)
        return generation

    def stage(self, writes, deletes):
        """A new generation: the current one with ``writes`` ({file name: (bytes, mode)}) written and
        ``deletes`` (file names) left out. Returns its path."""
        current = self.current_dir()
        generation = self.new_generation_dir()
        try:
            for entry in sorted(os.listdir(current)) if current else []:
                if entry in writes or entry in deletes:
                    continue
                source, target = os.path.join(current, entry), os.path.join(generation, entry)
                if os.path.isdir(source) and not os.path.islink(source):
                    shutil.copytree(source, target, symlinks=True)
                    continue
                try:
                    os.link(source, target, follow_symlinks=False)
                except OSError:
                    shutil.copy2(source, target, follow_symlinks=False)
            for entry, (data, mode) in sorted(writes.items()):
                write_file(os.path.join(generation, entry), data, mode)
            fsync_dir(generation)
        except (IOError, OSError) as error:
            shutil.rmtree(generation, ignore_errors=True)
            raise RulesDirError("cannot stage new rules in %s: %s" % (generation, error))
        return generation

    def write_journal(self, previous, following):
        temporary = self.journal_path + ".tmp"
        try:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            write_file(temporary, json.dumps({"previous": previous, "next": following}).encode("utf-8"),
                       PRIVATE_MODE)
            os.rename(temporary, self.journal_path)
        except OSError as error:
            remove_quietly(temporary)
            raise RulesDirError("cannot write the journal %s: %s" % (self.journal_path, error.strerror or error))
        fsync_dir(self.parent)

    def remove_journal(self):
        try:
            os.unlink(self.journal_path)
        except OSError as error:
            if error.errno != errno.ENOENT:
                raise
        fsync_dir(self.parent)

    def point_to(self, generation):
        """Atomically make ``rules_dir`` a link to ``generation``."""
        temporary = os.path.join(self.parent, ".%s.link-%d" % (self.base, os.getpid()))
        try:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            os.symlink(os.path.basename(generation), temporary)
            os.rename(temporary, self.path)
        except OSError as error:
            # rename(2) is atomic: on failure rules_dir still points where it did
            remove_quietly(temporary)
            raise RulesDirError("cannot switch rules_dir %s to %s: %s" % (self.path, generation, error.strerror or error))
        fsync_dir(self.parent)

    def abandon(self, staged):
        """Undo a change that failed before ``rules_dir`` was switched to ``staged``."""
        remove_quietly(self.journal_path)
        self.discard(staged)

    @staticmethod
    def discard(generation):
        if generation:
            shutil.rmtree(generation, ignore_errors=True)
