"""The test world's shared resources (tests/support/harness.py): the port allocator (free_port:
ports that neither an outgoing connection nor another pytest-xdist worker can take between handing
out and binding) and pid files (an instance's master only while the pid is still that master)."""
import os
import socket

import pytest

from ansible_collections.antsle.antman.tests.support import harness


def test_ports_are_below_the_ephemeral_range_in_this_workers_slice_and_distinct():
    first, last = harness._port_slice()
    ports = [harness.free_port() for dummy in range(50)]
    assert len(set(ports)) == 50
    assert all(first <= port <= last < harness._ephemeral_from() for port in ports), (first, last, ports)


@pytest.mark.parametrize("kind, address", [(socket.SOCK_STREAM, "127.0.0.5"), (socket.SOCK_DGRAM, "0.0.0.0")])
def test_a_port_in_use_on_any_address_is_skipped(kind, address):
    first, last = harness._port_slice()
    taken = harness.free_port()
    with socket.socket(socket.AF_INET, kind) as holder:
        holder.bind((address, taken))
        if kind == socket.SOCK_STREAM:
            holder.listen(1)
        harness._next_port[(first, last)] = taken  # the allocator's turn comes to the port in use
        given = harness.free_port()
    assert given != taken
    assert given == (taken + 1 if taken < last else first)


def test_xdist_workers_get_slices_that_do_not_overlap(monkeypatch):
    slices = []
    for worker in ("gw0", "gw1", "gw2", "gw3", ""):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(harness._port_slice())
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    others = set()
    for pid in range(1000, 1000 + harness.PORT_SLICES):  # processes outside xdist: by pid
        monkeypatch.setattr(harness.os, "getpid", lambda pid=pid: pid)
        others.add(harness._port_slice())
    assert len(others) == harness.PORT_SLICES // 2 and not others & set(slices[:4])
    covered = [port for first, last in slices for port in range(first, last + 1)]
    assert len(covered) == len(set(covered))
    assert min(covered) >= harness.PORTS_FROM


def test_a_pid_file_counts_only_while_it_names_this_instances_master(tmp_path):
    """After its master died, a pid file names whatever got the pid next: never to be signalled."""
    one = harness.NginxInstance(tmp_path / "one").start()
    two = harness.NginxInstance(tmp_path / "two").start()
    try:
        master, other = one.master_pid(), two.master_pid()
        assert master and other and harness.nginx_master_of(master, one.conf)
        assert not harness.nginx_master_of(master, two.conf)  # another instance's master
        with open(one.pid_file, "w") as handle:  # as if the pid had been reused by this process
            handle.write("%d\n" % os.getpid())
        assert one.master_pid() is None
        with open(one.pid_file, "w") as handle:
            handle.write("%s\n" % other)
        assert one.master_pid() is None
        with open(one.pid_file, "w") as handle:
            handle.write("%s\n" % master)
        assert one.master_pid() == master
    finally:
        one.stop()
        two.stop()
    assert one.master_pid() is None and two.master_pid() is None


@pytest.mark.parametrize("name, command, expected", [
    ("nginx", "nginx: master process /usr/sbin/nginx -c /w/nginx.conf", True),
    ("nginx", "/usr/sbin/nginx\0-c\0/w/nginx.conf\0", True),  # started, its pid file written, no title yet
    ("nginx", "nginx: worker process", False),
    ("nginx", "nginx: master process /usr/sbin/nginx -c /w/other.conf", False),
    ("nginx", "/usr/sbin/nginx\0-c\0/w/nginx.conf.bak\0", False),
    ("python3", "python3\0-c\0/w/nginx.conf\0", False),  # not nginx, whatever its arguments
])
def test_a_master_counts_from_its_pid_file_before_and_after_it_takes_its_title(monkeypatch, name, command, expected):
    monkeypatch.setattr(harness, "proc_stat", lambda pid: (name, "S", 1))
    monkeypatch.setattr(harness, "cmdline", lambda pid: command)
    assert harness.nginx_master_of(4242, "/w/nginx.conf") is expected
