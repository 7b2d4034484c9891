# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only edit the collection makes to a file of the host's own nginx configuration: one
``include`` line, added where nginx reads it in the wanted context, and nothing else changed.

- ``http``: a line right after the opening ``http {`` of the main configuration file;
- ``main``: a line at the end of the main configuration file.

Each added line ends with a comment naming the collection, so a person reading ``nginx.conf``
knows where it comes from. Paths are checked against a strict grammar before they are written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import block_opening

INCLUDE_PATH_RE = re.compile(r"\A/[A-Za-z0-9._/*-]+\Z")
CONTEXTS = ("http", "main")
MARK = "  # added by antsle.antman"


class EditError(ValueError):
    """The edit cannot be made (no http block to add the line to, an unacceptable path)."""


def check_include_path(path):
    if not isinstance(path, str) or not INCLUDE_PATH_RE.match(path) or "/../" in path + "/" or "/./" in path + "/":
        raise EditError("%r is not an absolute path of letters, digits and . _ - / * (without . or .. components)"
                        % (path,))
    return path


def include_line(path):
    return "include %s;%s" % (check_include_path(path), MARK)


def with_include(text, context, path, conf_path="nginx.conf"):
    """``text`` (the main configuration file) with one include line for ``path`` in ``context``."""
    line = include_line(path)
    if context == "main":
        return text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    if context != "http":
        raise EditError("context %r is not one of %s" % (context, ", ".join(CONTEXTS)))
    opening = block_opening(text, "http")
    if opening is None:
        raise EditError("%s has no top-level http { } block to add 'include %s;' to; add it where your http "
                        "context is, or give a path that configuration already includes" % (conf_path, path))
    newline = text.find("\n", opening)
    rest_of_line = text[opening:] if newline < 0 else text[opening:newline]
    if rest_of_line.strip() and not rest_of_line.strip().startswith("#"):
        # "http { include x; ..." on one line: put ours on a line of its own after the brace.
        return text[:opening] + "\n    " + line + "\n" + text[opening:]
    at = len(text) if newline < 0 else newline + 1
    return text[:at] + "    " + line + "\n" + text[at:]
