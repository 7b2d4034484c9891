"""nginx's connections to an address counted from /proc: the kernel's address format, a fake /proc
tree (sockets owned or not, states, IPv6, UDP), real sockets of this process, and the wait."""
import os
import socket

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host import connections
from ansible_collections.antsle.antman.plugins.module_utils.host.connections import (
    ConnectionCounter, ConnectionsError, endpoints, proc_form, process_socket_inodes, remote_socket_inodes, wait_drained)

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def test_proc_form_is_the_kernels():
    """/proc/net/tcp prints each 32-bit word of the address as the CPU holds it (x86: little-endian)."""
    if socket.htonl(1) == 1:
        pytest.skip("big-endian machine")
    assert proc_form("127.0.0.1", 80) == "0100007F:0050"
    assert proc_form("10.1.1.102", 8080) == "6601010A:1F90"
    assert proc_form("::1", 443) == "00000000000000000000000001000000:01BB"


def test_endpoints_of_ips_and_names():
    assert endpoints("10.0.0.1:80") == {("10.0.0.1", 80)}
    assert endpoints("[2001:db8::1]:8080") == {("2001:db8::1", 8080)}
    assert ("127.0.0.1", 81) in endpoints("localhost:81")
    with pytest.raises(ConnectionsError) as info:
        endpoints("no-such-host.invalid:80")
    assert "cannot resolve no-such-host.invalid" in str(info.value)


def fake_proc(root, tables, fds):
    """A /proc tree: tables {name: [(remote, inode)]}, fds {pid: [link targets]}."""
    os.makedirs(str(root / "net"))
    for table, lines in tables.items():
        with open(str(root / "net" / table), "w") as handle:
            handle.write(HEADER)
            for index, (remote, inode) in enumerate(lines):
                handle.write("   %d: 0100007F:D431 %s 01 00000000:00000000 00:00000000 00000000     0        0 %s 1 "
                             "0000000000000000 20 4 30 10 -1\n" % (index, remote, inode))
    for pid, targets in fds.items():
        directory = root / str(pid) / "fd"
        os.makedirs(str(directory))
        for index, target in enumerate(targets):
            os.symlink(target, str(directory / str(index)))


def test_remote_sockets_in_every_table_and_owned_sockets(tmp_path):
    target = proc_form("127.0.1.2", 8080)
    fake_proc(tmp_path, {
        "tcp": [(target, "101"), (target, "0"), (proc_form("127.0.1.3", 8080), "102"), (target, "103")],
        "tcp6": [(proc_form("::1", 8080), "104")],
        "udp": [(target, "105")],
    }, {11: ["socket:[101]", "/dev/null", "pipe:[7]"], 12: ["socket:[105]", "socket:[102]"]})
    assert remote_socket_inodes({target}, str(tmp_path)) == {"101", "103", "105"}  # TIME_WAIT (inode 0) excluded
    assert process_socket_inodes(11, str(tmp_path)) == {"101"}
    assert process_socket_inodes(99, str(tmp_path)) == set()  # exited


def test_counter_counts_only_sockets_of_nginx_processes(tmp_path, monkeypatch):
    target = proc_form("127.0.1.2", 8080)
    fake_proc(tmp_path, {"tcp": [(target, "101"), (target, "103"), (target, "107")]},
              {11: ["socket:[101]"], 12: ["socket:[103]"], 50: ["socket:[107]"]})
    monkeypatch.setattr(connections, "child_pids", lambda master: {12} if master == 11 else set())
    counter = ConnectionCounter(11, "127.0.1.2:8080", proc=str(tmp_path))
    assert counter.count() == 2  # 107 belongs to another program (a probe, a client)
    assert ConnectionCounter(11, "127.0.1.9:8080", proc=str(tmp_path)).count() == 0


def test_unreadable_fds_are_an_error_not_zero(tmp_path, monkeypatch):
    def denied(path):
        raise PermissionError(13, "Permission denied", path)
    monkeypatch.setattr(connections.os, "listdir", denied)
    with pytest.raises(ConnectionsError) as info:
        process_socket_inodes(11, str(tmp_path))
    assert "cannot read the sockets of nginx process 11" in str(info.value) and "become: true" in str(info.value)


def test_real_sockets_of_this_process_are_counted():
    """This test process as 'nginx': its connections to a listener count, closing them drains."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    clients = [socket.create_connection(listener.getsockname()) for _index in range(3)]
    accepted = [listener.accept()[0] for _index in range(3)]
    try:
        counter = ConnectionCounter(os.getpid(), address)
        assert counter.count() == 3  # the accepted ends have the clients as remote: not counted
        clients.pop().close()
        assert counter.count() == 2
        for client in clients:
            client.close()
        assert counter.count() == 0
    finally:
        for sock in clients + accepted + [listener]:
            sock.close()


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_drained_returns_when_the_count_reaches_zero():
    clock = FakeClock()
    counts = iter([3, 2, 2, 1, 0, 5])
    assert wait_drained(lambda: next(counts), 10, interval=0.5, clock=clock, sleep=clock.sleep) == (2.0, 0)
    assert clock.sleeps == [0.5] * 4


def test_wait_drained_reports_what_is_left_at_the_timeout():
    clock = FakeClock()
    assert wait_drained(lambda: 2, 1.2, interval=0.5, clock=clock, sleep=clock.sleep) == (None, 2)
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.2])
    assert wait_drained(lambda: 0, 1.0, clock=clock, sleep=clock.sleep) == (0.0, 0)
