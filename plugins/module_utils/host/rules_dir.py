# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules directory on disk, switched atomically as a whole.

``rules_dir`` (say ``/etc/nginx/antman.d``) is a symbolic link to a generation directory beside
it (``/etc/nginx/.antman.d.gen-XXXX``). A change stages a complete new generation (unchanged files
are hard links, so they keep their bytes and inode); the transaction then replaces the link with
one ``rename(2)``, a change of one path that the journal (``journal.py``) records like any other.
Whoever reads ``rules_dir`` (nginx, a reload, a person) therefore sees either the whole old rule
set or the whole new one, never a mix or a half-written file, even if the process dies at any
point. The previous generation stays intact until the change is finished, so rolling back is
putting the link back.

The first change adopts what it finds: nothing (the link is created), a plain directory (moved
aside and kept until the change is finished; its files are hard-linked into the generation), or a
link to a directory of the operator's (the link is replaced; that directory is never removed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import tempfile

from ansible_collections.antsle.antman.plugins.module_utils.host.files import (
    ABSENT, DIR, DIR_MODE, LINK, FileChange, FileState, HostFileError, fsync_dir, temporary_path, write_file)


class RulesDir:
    def __init__(self, path):
        self.path = os.path.normpath(os.path.abspath(path))
        self.parent, self.base = os.path.split(self.path)
        self.gen_prefix = ".%s.gen-" % self.base

    def current_dir(self):
        """The directory that holds the rule files now, or None if there is none yet."""
        if os.path.isdir(self.path):
            return os.path.realpath(self.path)
        return None

    def state(self):
        """``rules_dir`` as the journal records it: a link (to a generation, or to a directory of
        the operator's), a plain directory, or nothing."""
        if os.path.islink(self.path):
            if not os.path.isdir(self.path):
                raise HostFileError("rules_dir %s is a symbolic link to something that is not a directory" % self.path)
            return FileState(self.path, LINK, target=os.readlink(self.path))
        if os.path.isdir(self.path):
            return FileState(self.path, DIR, target=self.path)
        if os.path.lexists(self.path):
            raise HostFileError("rules_dir %s exists and is not a directory" % self.path)
        return FileState(self.path, ABSENT)

    def directory(self, state):
        """The directory that holds the rule files when ``rules_dir`` is ``state`` (None: none)."""
        if state.kind == LINK:
            target = os.path.join(self.parent, state.target)
            return os.path.realpath(target) if os.path.isdir(target) else None
        return state.target if state.kind == DIR else None

    def generations(self):
        try:
            names = os.listdir(self.parent)
        except OSError:
            return []
        return [os.path.join(self.parent, n) for n in names if n.startswith(self.gen_prefix)]

    def stage(self, writes, deletes):
        """A new generation: the current one with ``writes`` ({file name: (bytes, mode)}) written and
        ``deletes`` (file names) left out. Returns its path."""
        self.state()  # a rules_dir that cannot be switched is refused before anything is written
        current = self.current_dir()
        try:
            generation = tempfile.mkdtemp(prefix=self.gen_prefix, dir=self.parent)
        except OSError as error:
            raise HostFileError("cannot write in %s: %s" % (self.parent, error.strerror or error))
        try:
            os.chmod(generation, DIR_MODE)
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
            raise HostFileError("cannot stage new rules in %s: %s" % (generation, error))
        return generation

    def switch(self, generation):
        """The FileChange that makes ``rules_dir`` a link to ``generation`` (a relative one: the
        generations move with their parent)."""
        return FileChange(self.state(), FileState(self.path, LINK, target=os.path.basename(generation)), "switched")

    def remove_stale(self):
        """Remove every generation but the current one, and a temporary link a run left. Only once
        no journal names them (after ``Journal.finish`` or ``restore``)."""
        current = self.current_dir()
        for generation in self.generations():
            if os.path.realpath(generation) != current:
                shutil.rmtree(generation, ignore_errors=True)
        temporary = temporary_path(self.path)
        if os.path.lexists(temporary):
            os.unlink(temporary)
