# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only edit the collection makes to a file of the host's own nginx configuration: one
``include`` line, added where nginx reads it in the wanted context, and nothing else changed.

- ``http``: a line at the end of the ``http { }`` block of the main configuration file, just
  before its closing brace: nginx then reads the included file after every server the host's
  configuration already has, so a host server that is nginx's default for its port only because
  it is read first stays the default;
- ``main``: a line at the end of the main configuration file.

Each added line ends with a comment naming the collection, so a person reading ``nginx.conf``
knows where it comes from. Paths are checked against the collection's one path grammar
(``model/fields.py`` ``parse_path``, globs allowed) before they are written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_path
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import block_span

CONTEXTS = ("http", "main")
MARK = "  # added by antsle.antman"


class EditError(ValueError):
    """The edit cannot be made (no http block to add the line to, an unacceptable path)."""


def check_include_path(path):
    try:
        return parse_path(path, glob=True)
    except FieldError as error:
        raise EditError(str(error))


def include_line(path):
    return "include %s;%s" % (check_include_path(path), MARK)


def with_include(text, context, path, conf_path="nginx.conf"):
    """``text`` (the main configuration file) with one include line for ``path`` in ``context``."""
    line = include_line(path)
    if context == "main":
        return text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    if context != "http":
        raise EditError("context %r is not one of %s" % (context, ", ".join(CONTEXTS)))
    span = block_span(text, "http")
    if span is None:
        raise EditError("%s has no top-level http { } block to add 'include %s;' to; add it where your http "
                        "context is, or give a path that configuration already includes" % (conf_path, path))
    closing = span[1]
    line_start = text.rfind("\n", 0, closing) + 1
    if text[line_start:closing].strip():
        # "... }" closes the block on a line with more on it: ours goes on a line of its own before the brace.
        return text[:closing] + "\n    " + line + "\n" + text[closing:]
    return text[:line_start] + "    " + line + "\n" + text[line_start:]
