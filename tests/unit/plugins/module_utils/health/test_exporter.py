"""The metrics endpoint's allow-list and answers (health/exporter.py); serving on a real agent:
tests/functional/test_health_metrics.py."""
import ipaddress
import socket

from ansible_collections.antsle.antman.plugins.module_utils.health.exporter import allowed, response, split_listen


def test_the_allow_list_matches_addresses_networks_and_ipv4_clients_of_a_dual_stack_listener():
    networks = [ipaddress.ip_network(n) for n in ("127.0.0.1", "10.1.0.0/16", "2001:db8::/32")]
    assert allowed(networks, "127.0.0.1") and allowed(networks, "10.1.200.3") and allowed(networks, "2001:db8::5")
    assert allowed(networks, "::ffff:10.1.0.9")
    assert not allowed(networks, "127.0.0.2") and not allowed(networks, "10.2.0.1") and not allowed(networks, "::1")
    assert allowed(None, "192.0.2.1")


def test_listen_addresses_and_answers():
    assert split_listen("[::]:9146") == (socket.AF_INET6, ("::", 9146))
    assert split_listen("127.0.0.1:9146") == (socket.AF_INET, ("127.0.0.1", 9146))
    assert response(404, "Not Found", b"x", head=True).endswith(b"Content-Length: 1\r\nConnection: close\r\n\r\n")
