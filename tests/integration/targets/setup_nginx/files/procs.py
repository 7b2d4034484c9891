# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process helper for the setup_nginx test role (run with ansible.builtin.script).

  procs.py ports FIRST:LAST COUNT NAME...    distinct free loopback ports between FIRST and LAST (0:
                                             up to the ephemeral range): COUNT for rules and one per
                                             backend NAME, as JSON {ports, backends}
  procs.py spawn PIDFILE LOGFILE -- ARGV...  start ARGV detached (own session), write its pid
  procs.py stop PIDFILE...                   SIGTERM each live pid, wait until it is gone (SIGKILL
                                             after 10 s), remove the pid file; missing files are fine
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time


def ephemeral_from():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            return int(handle.read().split()[0])
    except (IOError, OSError, ValueError, IndexError):
        return 32768


def bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        sock = socket.socket(socket.AF_INET, kind)
        try:
            sock.bind(("0.0.0.0", port))
        except (IOError, OSError):
            return False
        finally:
            sock.close()
    return True


def free_ports(first, last, count):
    """Distinct ports free on every address, below the kernel's ephemeral range: a bind(0) port
    comes from that range, where outgoing connections take theirs, and may be held by a client
    by the time nginx binds it."""
    last = min(last or ephemeral_from(), ephemeral_from()) - 1
    ports = []
    for port in random.sample(range(first, last + 1), min(200 + count, last + 1 - first)):
        if len(ports) == count:
            break
        if bindable(port):
            ports.append(port)
    if len(ports) < count:
        raise SystemExit("procs.py: fewer than %d free ports in %d-%d" % (count, first, last))
    return ports


def plan_ports(port_range, count, names):
    first, _sep, last = port_range.partition(":")
    ports = free_ports(int(first), int(last or 0), count + len(names))
    backends = [dict(name=name, port=port, address="127.0.0.1:%d" % port) for name, port in zip(names, ports[count:])]
    return dict(ports=ports[:count], backends=backends)


def spawn(pid_file, log_file, argv):
    with open(os.devnull, "rb") as stdin, open(log_file, "ab") as log:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with open(pid_file, "w") as handle:
        handle.write("%d\n" % proc.pid)
    return proc.pid


def read_pid(pid_file):
    try:
        with open(pid_file) as handle:
            return int(handle.read().strip() or 0) or None
    except (IOError, OSError, ValueError):
        return None


def alive(pid):
    """/proc/PID/exe can be read while the process runs; not for a zombie, not once it is gone.
    (This file runs alone, copied by ansible.builtin.script: the collection's own reader,
    plugins/module_utils/nginx/control.py, cannot be imported here.)"""
    try:
        return bool(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return False


def stop(pid_files):
    stopped = []
    for pid_file in pid_files:
        pid = read_pid(pid_file)
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
            stopped.append(pid)
        try:
            os.remove(pid_file)
        except OSError:  # never written, or nginx removed its own
            pass
    return stopped


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "ports":
        result = plan_ports(args[0], int(args[1]), args[2:])
    elif command == "spawn":
        result = spawn(args[0], args[1], args[3:] if args[2] == "--" else args[2:])
    elif command == "stop":
        result = stop(args)
    else:
        raise SystemExit("unknown command %s" % command)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
