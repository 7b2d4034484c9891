"""What the prober reads of an http answer: the status line, and the length of an answer whose
connection can carry the next probe (HTTP/1.1, Content-Length, no close, no transfer coding);
everything else is not kept."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.answer import (
    MAX_HEAD, MAX_KEPT_BODY, MORE, answer_length, status_of)


@pytest.mark.parametrize("head, expected", [
    (b"HTTP/1.1 200 OK\r\n", (200, None)),
    (b"HTTP/1.0 503 Busy\r\n", (503, None)),
    (b"HTTP/1.1 20", (None, None)),
    (b"HTTP/1.", (None, None)),
    (b"SSH-2.0-OpenSSH_9.2\r\n", (None, "not an HTTP/1 answer")),
    (b"HTTP/2 200\r\n", (None, "not an HTTP/1 answer")),
    (b"HTTP/1.1 2000 OK\r\n", (None, "not an HTTP/1 answer")),
    (b"x" * MAX_HEAD, (None, "not an HTTP/1 answer")),
])
def test_the_status_line_is_the_verdict(head, expected):
    assert status_of(head) == expected


HEADER = b"HTTP/1.1 200 OK\r\nServer: nginx\r\n"


@pytest.mark.parametrize("head, body", [
    (HEADER + b"Content-Length: 5\r\n\r\n", 5),
    (HEADER + b"content-length:  0 \r\n\r\n", 0),
    (HEADER + b"Content-Length: 5\r\nConnection: keep-alive\r\n\r\n", 5),
    (b"HTTP/1.1 204 No Content\r\n\r\n", 0),
    (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", 0),  # never a body
])
def test_an_answer_that_can_carry_the_next_probe_has_a_known_length(head, body):
    # the length counts from the first byte of the status line, whatever of the body came with it
    assert answer_length(head) == len(head) + body
    assert answer_length(head + b"hel") == len(head) + body


def test_a_header_not_complete_yet_asks_for_more():
    assert answer_length(HEADER + b"Content-Le") == MORE


@pytest.mark.parametrize("head", [
    b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n",  # HTTP/1.0: closed by default
    HEADER + b"Content-Length: 5\r\nConnection: close\r\n\r\n",
    HEADER + b"Connection: Keep-Alive, Close\r\nContent-Length: 5\r\n\r\n",
    HEADER + b"Transfer-Encoding: chunked\r\n\r\n",
    HEADER + b"\r\n",  # no length: read to the end of the connection
    HEADER + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
    HEADER + b"Content-Length: -1\r\n\r\n",
    HEADER + b"Content-Length: %d\r\n\r\n" % (MAX_KEPT_BODY + 1),
    HEADER + b"Content-Length 5\r\n\r\n",  # not a header line
    b"HTTP/1.1 100 Continue\r\n\r\n",
    HEADER + b"X-Filler: " + b"x" * MAX_HEAD,  # no end of the header within MAX_HEAD
])
def test_anything_else_is_not_kept(head):
    assert answer_length(head) is None
