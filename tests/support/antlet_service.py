"""An antlet's application as a service that a playbook task can stop and start: the stand-in for
the "deploy" step of a rolling update (tests and the rolling-update benchmark).

  antlet_service.py start NAME HOST PORT --pid-file F [--log L] [--delay S] [--start-after S] [--lifetime S]
                     [--warmup N]
  antlet_service.py stop --pid-file F
  antlet_service.py restart NAME HOST PORT --pid-file F [...]     (stop, then start)

``start`` runs backend.py detached (a session of its own, so it outlives the task that started
it) and returns at once, as ``systemctl start`` of an application that is still starting
(``--start-after``: it listens only after that many seconds; ``--delay``: each answer takes that
long; ``--warmup``: its first N answers are 503); its pid goes to the pid file.
``stop`` sends SIGTERM to the pid in the file, if that process is a backend.py, waits until it has
exited (SIGKILL after 5 s) and removes the file. ``--lifetime`` (default 900 s) makes a backend
exit by itself: a safety net should nothing ever stop it.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import cmdline

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.path.join(HERE, "backend.py")


def read_pid(pid_file):
    try:
        with open(pid_file) as handle:
            return int(handle.read().strip() or 0) or None
    except (IOError, OSError, ValueError):
        return None


def is_backend(pid):
    """Whether ``pid`` is a live backend.py (a pid file may outlive its process, and pids are reused)."""
    return BACKEND in cmdline(pid)


def stop(pid_file):
    pid = read_pid(pid_file)
    if pid and is_backend(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while is_backend(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if is_backend(pid):
            os.kill(pid, signal.SIGKILL)
        while is_backend(pid):
            time.sleep(0.02)
    if os.path.exists(pid_file):
        os.remove(pid_file)


def start(args):
    argv = [sys.executable, BACKEND, args.name, args.host, str(args.port), "--lifetime", str(args.lifetime)]
    if args.log:
        argv += ["--log", args.log]
    if args.start_after:
        argv += ["--start-after", str(args.start_after)]
    if args.delay:
        argv += ["--delay", str(args.delay)]
    if args.warmup:
        argv += ["--warmup", str(args.warmup)]
    with open(os.devnull, "r+b") as null:
        proc = subprocess.Popen(argv, stdin=null, stdout=null, stderr=null, start_new_session=True)
    with open(args.pid_file, "w") as handle:
        handle.write("%d\n" % proc.pid)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "restart"])
    parser.add_argument("name", nargs="?")
    parser.add_argument("host", nargs="?")
    parser.add_argument("port", nargs="?", type=int)
    parser.add_argument("--pid-file", required=True)
    parser.add_argument("--log")
    parser.add_argument("--start-after", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--lifetime", type=float, default=900.0)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command in ("stop", "restart"):
        stop(args.pid_file)
    if args.command in ("start", "restart"):
        if not (args.name and args.host and args.port):
            parser.error("%s needs NAME HOST PORT" % args.command)
        start(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
