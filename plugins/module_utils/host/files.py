# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is at a path of the host, and how to make a path be something else in one step: the file
layer under the transaction (``journal.py`` records these states, ``transaction.py`` changes them).

A path is nothing, a regular file (bytes, mode, owner), a symbolic link, or -- only for the rules
directory the first change adopts -- a plain directory. A file or link is replaced with one
``rename(2)`` of a temporary beside it (``.<name>.antman-new``), so a reader sees the old or the
new one, never a half-written file, whenever the writer dies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

ABSENT, FILE, LINK, DIR = "absent", "file", "link", "dir"
DIR_MODE = 0o755
FILE_MODE = 0o644
PRIVATE_MODE = 0o600


class HostFileError(Exception):
    """A file of the host cannot be read or written (permissions, layout, space, the lock)."""


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


def write_file(path, data, mode, sync=True):
    """Create ``path`` (which must not exist) with ``data``, ``mode`` and (``sync``) fsync."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def temporary_path(path):
    """Where the next state of ``path`` is made before it is renamed over it."""
    directory, name = os.path.split(path)
    return os.path.join(directory, ".%s.antman-new" % name)


class FileState:
    """What is at ``path``: nothing, a regular file (bytes, mode, owner), a symbolic link
    (``target``), or a directory (``target``: where it is now, see ``journal.py``)."""

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
    """The FileState of a file or link at ``path``; anything else there is refused, never changed."""
    try:
        info = os.lstat(path)
    except OSError:
        return FileState(path, ABSENT)
    if stat.S_ISLNK(info.st_mode):
        return FileState(path, LINK, target=os.readlink(path))
    if not stat.S_ISREG(info.st_mode):
        raise HostFileError("%s is neither a regular file nor a symbolic link; it is not changed" % path)
    with open(path, "rb") as handle:
        data = handle.read()
    return FileState(path, FILE, data, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


class FileChange:
    """One path changed by a transaction: its state before and after. ``action`` is what a module
    reports (created, updated, removed)."""

    def __init__(self, before, after, action):
        self.before = before
        self.after = after
        self.action = action

    @property
    def path(self):
        return self.before.path

    def as_dict(self):
        return {"path": self.path, "action": self.action}

    def diff(self):
        return {"before": self.before.text(), "after": self.after.text(),
                "before_header": self.path if self.before.kind != ABSENT else "/dev/null",
                "after_header": self.path if self.after.kind != ABSENT else "/dev/null"}


def prepare(state, owner=None):
    """Write the file or link ``state`` as the temporary of its path (nothing for absent), ready for
    ``put_in_place``. ``owner`` (uid, gid) overrides the state's own for a file."""
    if state.kind == ABSENT:
        return
    directory = os.path.dirname(state.path)
    if not os.path.isdir(directory):
        raise HostFileError("cannot write %s: directory %s does not exist" % (state.path, directory))
    temporary = temporary_path(state.path)
    remove_quietly(temporary)
    try:
        if state.kind == LINK:
            os.symlink(state.target, temporary)
        else:
            write_file(temporary, state.data, state.mode)
            uid, gid = owner if owner else (state.uid, state.gid)
            if uid is not None and (uid, gid) != (os.getuid(), os.getgid()):
                os.chown(temporary, uid, gid)
    except OSError as error:
        remove_quietly(temporary)
        raise HostFileError("cannot write %s: %s" % (state.path, error.strerror or error))


def put_in_place(state):
    """Make ``state.path`` be ``state``: its prepared temporary renamed over it, or the path removed."""
    try:
        if state.kind == ABSENT:
            if os.path.lexists(state.path):
                os.unlink(state.path)
        else:
            os.rename(temporary_path(state.path), state.path)
    except OSError as error:
        raise HostFileError("cannot write %s: %s" % (state.path, error.strerror or error))
    fsync_dir(os.path.dirname(state.path))


def write_state(state, owner=None):
    """Make ``state.path`` be ``state`` (a file or a link) in one rename, or remove it (absent)."""
    prepare(state, owner)
    put_in_place(state)
