# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process helper for the setup_nginx test role (run with ansible.builtin.script).

  procs.py ports COUNT NAME...               distinct free loopback TCP ports: COUNT for rules and
                                             one per backend NAME, as JSON {ports, backends}
  procs.py spawn PIDFILE LOGFILE -- ARGV...  start ARGV detached (own session), write its pid
  procs.py stop PIDFILE...                   SIGTERM each live pid, wait until it is gone (SIGKILL
                                             after 10 s), remove the pid file; missing files are fine
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import socket
import subprocess
import sys
import time


def free_ports(count):
    sockets = []
    try:
        for dummy in range(count):  # all bound at once, so the ports are distinct
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def plan_ports(count, names):
    ports = free_ports(count + len(names))
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
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of ours counts as gone
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (IOError, OSError, IndexError):
        return True


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
        result = plan_ports(int(args[0]), args[1:])
    elif command == "spawn":
        result = spawn(args[0], args[1], args[3:] if args[2] == "--" else args[2:])
    elif command == "stop":
        result = stop(args)
    else:
        raise SystemExit("unknown command %s" % command)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv)
