# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follows a log file that nginx appends to, as ``tail -F`` does, for the health agent's
access-log metrics (``access_log.py``): started at the end of the file (what was logged before the
agent started is not counted again), it returns the complete lines written since, in blocks of at
most ``CHUNK`` bytes, and keeps a half-written line until its end arrives.

logrotate's two ways are followed: ``create`` (the file renamed, a new one made, nginx told to
reopen its logs): the old file is read to its end (and once more ``RECHECK`` s later, for what
nginx wrote before it reopened), then the new one from its start;
``copytruncate`` (the file copied and emptied in place): a size below what was read means the file
starts again, read from 0. A missing file counts nothing and is looked for again every
``RECHECK`` seconds; one that appears later is read from its start (all of it is new). Reads are
plain ``os.read`` of a regular file: they never block on a pipe or a socket.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

CHUNK = 65536  # bytes read at a time
MAX_LINE = 65536  # a longer line (nginx escapes a hostile request into up to 4x its size) is skipped
RECHECK = 1.0  # seconds between looks at the path (rotated, created) once the open file is read to its end


class LogFollower:
    """Follows ``path``. ``blocks(limit)`` gives up to ``limit`` bytes of complete lines (each block
    ends with a newline); ``skipped`` counts lines longer than ``MAX_LINE`` that were dropped;
    ``reopens`` counts files opened after the first (rotations, truncations, re-creations)."""

    def __init__(self, path, clock):
        self.path = path
        self.clock = clock
        self.fd = None
        self.identity = None  # (st_dev, st_ino) of the open file
        self.position = 0
        self.partial = b""
        self.dropping = False  # inside a line longer than MAX_LINE: skip to its end
        self.skipped = 0
        self.reopens = 0
        self.opened_once = False
        self.next_check = 0.0
        self.switch_seen = False
        self.problem = None  # why the file is not open (an OSError's text), None when it is

    # -- the file ---------------------------------------------------------------------------------

    def _open(self, at_end):
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
        except OSError as error:
            self.problem = error.strerror or str(error)
            return False
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            self.problem = "not a regular file"
            return False
        if self.opened_once:
            self.reopens += 1
        self.fd, self.identity, self.problem, self.opened_once = fd, (info.st_dev, info.st_ino), None, True
        self.position = info.st_size if at_end else 0
        self.partial, self.dropping, self.switch_seen = b"", False, False
        return True

    def start(self):
        """Open the file at its end (a missing one is looked for again later)."""
        if not self._open(at_end=True):
            self.opened_once = True  # a file that appears later is new: read from its start
        return self

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _switched(self):
        """Whether the path now names another file than the open one (rotated, or re-created), or none."""
        try:
            info = os.stat(self.path)
        except OSError:
            return True
        return (info.st_dev, info.st_ino) != self.identity

    def _check(self, now):
        """At the end of the open file (or with none open): look at the path, at most every RECHECK s."""
        if now < self.next_check:
            return False
        self.next_check = now + RECHECK
        if self.fd is None:
            return self._open(at_end=False)
        if os.fstat(self.fd).st_size < self.position:  # copytruncate: the same file, emptied
            self.position, self.partial, self.dropping = 0, b"", False
            self.reopens += 1
            return True
        if not self._switched():
            self.switch_seen = False
            return False
        if not self.switch_seen:
            # nginx writes to the renamed file until it reopens its logs (logrotate's postrotate signal):
            # read it once more, RECHECK s later, before going on to the new one
            self.switch_seen = True
            return False
        self.close()
        return self._open(at_end=False)

    # -- reading ----------------------------------------------------------------------------------

    def _read(self, size):
        try:
            data = os.pread(self.fd, size, self.position)
        except OSError as error:
            if error.errno in (errno.EINTR, errno.EAGAIN):
                return b""
            self.problem = error.strerror or str(error)
            self.close()
            return b""
        self.position += len(data)
        return data

    def blocks(self, limit=CHUNK * 4):
        """Complete lines read since the last call, as blocks of bytes (each ends with b"\\n"), up
        to about ``limit`` bytes; fewer when the file has no more yet."""
        got, checked = 0, False
        while got < limit:
            data = self._read(min(CHUNK, limit - got)) if self.fd is not None else b""
            if not data:
                if checked or not self._check(self.clock()):
                    return
                checked = True
                continue
            got += len(data)
            block = self._lines(data)
            if block:
                yield block

    def _lines(self, data):
        """The complete lines of ``data`` with the kept start of a line before them; the rest is kept."""
        if self.dropping:
            end = data.find(b"\n")
            if end < 0:
                return b""
            self.dropping, data = False, data[end + 1:]
        end = data.rfind(b"\n")
        if end < 0:
            self.partial += data
            if len(self.partial) > MAX_LINE:
                self.partial, self.dropping = b"", True
                self.skipped += 1
            return b""
        block = self.partial + data[:end + 1] if self.partial else data[:end + 1]
        self.partial = data[end + 1:]
        return block

    def at_end(self):
        """Whether everything written so far has been read (False: more is waiting)."""
        if self.fd is None:
            return True
        try:
            return os.fstat(self.fd).st_size <= self.position
        except OSError:
            return True
