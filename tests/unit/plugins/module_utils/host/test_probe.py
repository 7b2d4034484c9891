"""Upstream probes: a TCP connect from the antsle host, all at once."""
import socket

from ansible_collections.antsle.antman.plugins.module_utils.host.probe import probe_addresses, split_address


def test_split_address():
    assert split_address("10.0.0.1:80") == ("10.0.0.1", 80) and split_address("[2001:db8::1]:8080") == ("2001:db8::1", 8080)


def test_open_and_closed_ports():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    open_address = "127.0.0.1:%d" % listener.getsockname()[1]
    closed_address = "127.0.0.1:%d" % closed.getsockname()[1]
    closed.close()
    try:
        results = probe_addresses([open_address, closed_address, open_address], 1.0)
    finally:
        listener.close()
    assert sorted(results) == sorted([open_address, closed_address])
    assert results[open_address]["reachable"] and results[open_address]["connect_ms"] >= 0
    assert not results[closed_address]["reachable"] and "refused" in results[closed_address]["probe_error"].lower()
    assert probe_addresses([], 1.0) == {}
