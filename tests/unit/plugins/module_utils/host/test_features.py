"""What the host offers that a rule's text depends on: IPv6 (the [::] listeners) and nginx's version."""
import socket

from ansible_collections.antsle.antman.plugins.module_utils.host import features
from ansible_collections.antsle.antman.plugins.module_utils.host.features import has_ipv6, host_features


def test_ipv6_is_what_a_bind_to_the_any_address_says(monkeypatch):
    expected = True
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::", 0))
    except OSError:
        expected = False
    assert has_ipv6() is expected

    class NoIPv6:
        def __init__(self, *args):
            raise OSError(97, "Address family not supported by protocol")
    monkeypatch.setattr(features.socket, "socket", NoIPv6)
    assert has_ipv6() is False and host_features(lambda: (1, 22, 1)).ipv6 is False


def test_the_version_is_asked_once_and_only_when_needed():
    asked = []
    found = host_features(lambda: asked.append(1) or (1, 25, 1))
    assert asked == []
    assert found.http2_directive() and found.http2_directive() and asked == [1]
    assert not host_features(lambda: None).http2_directive()  # unknown: the syntax every version takes
