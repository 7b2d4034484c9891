# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small scanner of nginx configuration files, for three facts the modules need on the host:
where ``include`` directives point (per context), and the ``pid`` and ``error_log`` files.

It runs on the managed host, where no nginx parser library can be assumed, so it is kept to the
lexical rules of nginx's own ``ngx_conf_file.c``: words, single and double quoted strings with
backslash escapes, ``#`` comments, and ``;`` ``{`` ``}``. It does not interpret anything else.
(Importing existing configuration, where real parsing matters, uses crossplane: see config_import.py.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import glob
import os

SPECIALS = ";{}"
MAX_INCLUDE_DEPTH = 16


def tokens(text):
    """Yield nginx tokens as (kind, value, start, end): words and strings as kind 'word', and ';',
    '{', '}' as themselves; ``start``/``end`` are offsets in ``text``."""
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
        elif char == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif char in SPECIALS:
            yield char, char, index, index + 1
            index += 1
        elif char in "\"'":
            start = index
            value, index = _quoted(text, index)
            yield "word", value, start, index
        else:
            start = index
            while index < length and not text[index].isspace() and text[index] not in ";{}":
                # "${name}" is a variable inside a word, not a block.
                if text[index] == "$" and index + 1 < length and text[index + 1] == "{":
                    close = text.find("}", index)
                    index = length if close < 0 else close + 1
                    continue
                index += 1
            yield "word", text[start:index], start, index


def tokenize(text):
    """Yield nginx tokens: words/strings as ('word', value), and ';', '{', '}' as themselves."""
    for kind, value, _start, _end in tokens(text):
        yield kind, value


def block_opening(text, name):
    """The offset just after the ``{`` of the first top-level block ``name`` (``http``) in ``text``,
    or None if there is none."""
    depth, words = 0, []
    for kind, value, _start, end in tokens(text):
        if kind == "word":
            words.append(value)
        elif kind == "{":
            if depth == 0 and words == [name]:
                return end
            depth += 1
            words = []
        elif kind == "}":
            depth = max(depth - 1, 0)
            words = []
        else:
            words = []
    return None


def _quoted(text, index):
    quote, chars = text[index], []
    index += 1
    while index < len(text) and text[index] != quote:
        if text[index] == "\\" and index + 1 < len(text):
            index += 1
        chars.append(text[index])
        index += 1
    return "".join(chars), index + 1


class ConfScan:
    """Facts from a main nginx configuration file and everything it includes."""

    def __init__(self, conf_path, skip_dirs=()):
        self.conf_path = os.path.abspath(conf_path)
        self.skip_dirs = set()
        for directory in skip_dirs:
            self.skip_dirs.update([os.path.normpath(os.path.abspath(directory)), os.path.realpath(directory)])
        self.prefix = os.path.dirname(self.conf_path)
        self.includes = []  # (context tuple such as ('http',), absolute pattern)
        self.main = {}  # main-context directive name -> first argument list
        self._scan_file(self.conf_path, (), 0)

    def _resolve(self, path):
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(self.prefix, path))

    def _scan_file(self, path, context, depth):
        if depth > MAX_INCLUDE_DEPTH:
            return
        with open(path, "rb") as handle:
            # nginx reads bytes: any byte may stand in a comment or a string (a Latin-1 comment on an
            # older host). Undecodable bytes become surrogates, which os.* functions turn back into
            # the same bytes, so paths with such bytes still name the right files.
            text = handle.read().decode("utf-8", "surrogateescape")
        stack, words = list(context), []
        for kind, value in tokenize(text):
            if kind == "word":
                words.append(value)
            elif kind == "{":
                stack.append(words[0] if words else "")
                words = []
            elif kind == "}":
                if len(stack) > len(context):
                    stack.pop()
                words = []
            else:
                self._directive(words, tuple(stack), depth)
                words = []

    def _directive(self, words, context, depth):
        if not words:
            return
        if not context:
            self.main.setdefault(words[0], words[1:])
        if words[0] == "include" and len(words) > 1:
            pattern = self._resolve(words[1])
            self.includes.append((context, pattern))
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
            for match in matches:
                if os.path.isfile(match) and os.path.dirname(match) not in self.skip_dirs:
                    self._scan_file(match, context, depth + 1)

    def includes_dir(self, directory, context=("http",), suffix=".conf"):
        """Whether a ``<directory>/<name><suffix>`` file would be included in ``context``."""
        bases = set([os.path.normpath(os.path.abspath(directory)), os.path.realpath(directory)])
        for where, pattern in self.includes:
            if where == context and any(path_matches(os.path.join(base, "antman-probe" + suffix), pattern)
                                        for base in bases):
                return True
        return False

    def main_path(self, directive):
        """The file argument of a main-context directive (``pid``, ``error_log``), resolved, or None."""
        args = self.main.get(directive)
        if not args or args[0] in ("stderr", "off") or args[0].startswith(("syslog:", "memory:")):
            return None
        return self._resolve_runtime(args[0])

    def _resolve_runtime(self, path):
        # pid and log paths are relative to nginx's prefix (compiled in), not the conf directory.
        return path if os.path.isabs(path) else None


def path_matches(path, pattern):
    """glob(3) semantics: wildcards match within one path component, never across '/'."""
    parts, pattern_parts = path.split("/"), pattern.split("/")
    return len(parts) == len(pattern_parts) and all(
        fnmatch.fnmatchcase(part, want) for part, want in zip(parts, pattern_parts))
