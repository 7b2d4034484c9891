# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the prober reads of an http probe's answer: the status line (the verdict), and how long
the whole answer is when its connection can carry the next probe (HTTP/1.1 keep-alive, RFC 9112
section 6.3: the length from ``Content-Length`` only; anything else is read to no end and closed).
Nothing else of the answer is kept."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

STATUS_LINE_RE = re.compile(br"\AHTTP/1\.[01] ([1-5][0-9][0-9])[ \r\n]")
MAX_HEAD = 4096  # bytes of status line and header read, at most
MAX_KEPT_BODY = 65536  # a longer body is not read through to keep its connection
MORE = -1  # answer_length: the header is not complete yet
HEADER_END = b"\r\n\r\n"


def status_of(head):
    """(status, None) when ``head`` starts with a status line, (None, None) while it may still
    become one, (None, why not) when it cannot."""
    match = STATUS_LINE_RE.match(head)
    if match:
        return int(match.group(1)), None
    if b"\n" in head or len(head) >= MAX_HEAD or not b"HTTP/1.".startswith(head[:7]):
        return None, "not an HTTP/1 answer"
    return None, None


def answer_length(head):
    """Bytes of the whole answer that starts ``head`` when its connection can be kept after it
    (HTTP/1.1, not ``Connection: close``, a ``Content-Length`` of at most MAX_KEPT_BODY, no
    ``Transfer-Encoding``); MORE while its header is not complete; None when it cannot be kept."""
    end = head.find(HEADER_END)
    if end < 0:
        return MORE if len(head) < MAX_HEAD else None
    lines = head[:end].split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 ") or lines[0][9:10] == b"1":
        return None  # HTTP/1.0 closes by default; a 1xx is followed by another answer
    length = None
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if not colon or name == b"transfer-encoding":
            return None
        if name == b"connection" and b"close" in value:
            return None
        if name == b"content-length":
            if not value.isdigit() or (length is not None and int(value) != length):
                return None
            length = int(value)
    if lines[0][9:12] in (b"204", b"304"):
        length = 0  # no body, whatever the header says
    if length is None or length > MAX_KEPT_BODY:
        return None
    return end + len(HEADER_END) + length
