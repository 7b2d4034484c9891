# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's connections to one upstream address, counted from the host's /proc (Linux), and the
wait until there are none (the drain of lb_upstream).

A connection counts when a socket in the kernel's tables (``/proc/net/tcp``, ``tcp6``, ``udp``,
``udp6``) has the address as its remote end and belongs to a process of this nginx (the master or
one of its workers, old ones still finishing their requests after a reload included): the socket's
inode is among the ``socket:[inode]`` links of ``/proc/<pid>/fd``. Sockets nginx has closed
(TIME_WAIT, orphaned FIN_WAIT) belong to no process and do not count; nor do the connections of
other programs, such as the module's own health probes. No command is run (no ``ss``, no shell).

What nginx 1.22 does, which this relies on: after a reload the new workers never pick a ``down``
server, and their upstream keepalive caches start empty; old workers close their idle upstream
keepalive connections as soon as they begin shutting down, and close each busy one when its
request ends. So the count falls to 0 once the requests (or stream sessions) in flight on the
address at the reload have ended.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import socket
import struct
import time

from ansible_collections.antsle.antman.plugins.module_utils.host.probe import split_address
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import child_pids

NET_TABLES = ("tcp", "tcp6", "udp", "udp6")
POLL_INTERVAL = 0.05


class ConnectionsError(Exception):
    """The connections cannot be counted (an unresolvable host name, /proc not readable)."""


def endpoints(address):
    """The (IP, port) pairs nginx may be connected to for a canonical address: its IP, or what a
    host name resolves to (nginx resolved it when it loaded the rule)."""
    host, port = split_address(address)
    try:
        return set([(str(ipaddress.ip_address(host)), port)])
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ConnectionsError("cannot resolve %s to find nginx's connections to it: %s" % (host, error))
    return set((str(ipaddress.ip_address(info[4][0].split("%")[0])), port) for info in infos)


def proc_form(ip, port):
    """How the kernel prints ``ip:port`` in /proc/net/*: each 32-bit word of the address in host
    byte order as 8 hex digits, then the port as 4 (``127.0.0.1:80`` -> ``0100007F:0050`` on x86)."""
    packed = ipaddress.ip_address(ip).packed
    words = struct.unpack("=%dI" % (len(packed) // 4), packed)
    return "%s:%04X" % ("".join("%08X" % word for word in words), port)


def remote_socket_inodes(targets, proc="/proc"):
    """Inodes of the sockets whose remote end is in ``targets`` (proc_form strings), any state."""
    inodes = set()
    for table in NET_TABLES:
        try:
            with open(os.path.join(proc, "net", table)) as handle:
                next(handle, None)  # the header line
                for line in handle:
                    fields = line.split()
                    if len(fields) > 9 and fields[2] in targets and fields[9] != "0":
                        inodes.add(fields[9])
        except (IOError, OSError):
            continue  # no IPv6, or no such table on this kernel
    return inodes


def process_socket_inodes(pid, proc="/proc"):
    """Inodes of the sockets process ``pid`` has open (empty if it has exited)."""
    directory = os.path.join(proc, str(pid), "fd")
    inodes = set()
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return inodes
    except PermissionError:
        raise ConnectionsError("cannot read the sockets of nginx process %d in %s (run as root, become: true)"
                               % (pid, directory))
    for entry in entries:
        try:
            target = os.readlink(os.path.join(directory, entry))
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def nginx_processes(master_pid):
    """The master and its children (workers, old ones shutting down included, cache processes)."""
    return [master_pid] + sorted(child_pids(master_pid))


def check_readable(master_pid, proc="/proc"):
    """Fail (ConnectionsError) unless the sockets of nginx's processes can be read."""
    for pid in nginx_processes(master_pid):
        process_socket_inodes(pid, proc)


class ConnectionCounter:
    """Counts the connections of the nginx whose master is ``master_pid`` to a canonical address."""

    def __init__(self, master_pid, address, proc="/proc"):
        self.master_pid = master_pid
        self.proc = proc
        self.targets = set(proc_form(ip, port) for ip, port in endpoints(address))

    def count(self):
        candidates = remote_socket_inodes(self.targets, self.proc)
        if not candidates:
            return 0  # the usual case once drained: no process's fds need reading
        owned = set()
        for pid in nginx_processes(self.master_pid):
            owned |= process_socket_inodes(pid, self.proc)
        return len(candidates & owned)


def wait_drained(count, timeout, interval=POLL_INTERVAL, clock=time.monotonic, sleep=time.sleep):
    """Call ``count()`` until it returns 0 or ``timeout`` seconds have passed.

    Returns (drained_in, left): the seconds until the count was 0 (None if it never was) and the
    count at the end (0 when drained)."""
    started = clock()
    while True:
        left = count()
        elapsed = clock() - started
        if left == 0:
            return round(elapsed, 3), 0
        if elapsed >= timeout:
            return None, left
        sleep(min(interval, max(timeout - elapsed, 0)))
