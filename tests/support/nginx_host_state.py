"""The state of the system nginx of the machine this runs on, as JSON (standard library only).

  nginx_host_state.py files    {path: sha256 of its content, or "-> target" for a link} under /etc/nginx
                               (but the health agent's status file, which it rewrites every second)
  nginx_host_state.py pids     {"master": pid or null, "workers": [pids]} (master from /run/nginx.pid)
  nginx_host_state.py state    {"files": ..., "pids": ...} in one go

The molecule scenarios run it on an antsle host container (ansible.builtin.script: one file,
copied there, so it imports nothing of the collection), to prove that check mode and refused
changes touch nothing and that a reload keeps the master. Stage 80 and the demo run it on the
machine itself, before and after, to prove that the machine's own nginx was left alone.
"""
import hashlib
import json
import os
import sys

ETC = "/etc/nginx"
PID_FILE = "/run/nginx.pid"
# The health agent's status file beside a rules directory (.<rules dir>.health.json): what it sees
# now, rewritten every second, not configuration.
STATUS_SUFFIX = ".health.json"


def nginx_pid(pid):
    """``pid`` while it is a live nginx process, else None: /proc/PID/exe names the binary of a
    running process and cannot be read for a zombie or a process that is gone."""
    try:
        return pid if pid > 0 and os.path.basename(os.readlink("/proc/%d/exe" % pid)) == "nginx" else None
    except OSError:
        return None


def master_pid():
    """The live nginx master named by the pid file, or None (an empty or stale pid file, which
    `nginx -t` leaves behind, means not running)."""
    try:
        with open(PID_FILE) as handle:
            return nginx_pid(int(handle.read().strip() or 0))
    except (IOError, OSError, ValueError):
        return None


def worker_pids(master):
    with open("/proc/%d/task/%d/children" % (master, master)) as handle:
        return sorted(pid for pid in map(int, handle.read().split()) if nginx_pid(pid))


def pids():
    master = master_pid()
    return {"master": master, "workers": worker_pids(master) if master else []}


def files(root=ETC):
    """Every file and link under ``root`` (hidden generation directories included) and its content."""
    result = {}
    for directory, dirs, names in os.walk(root):
        for name in sorted(dirs + names):
            path = os.path.join(directory, name)
            if directory == root and name.startswith(".") and name.endswith(STATUS_SUFFIX):
                continue
            if os.path.islink(path):
                result[path] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    result[path] = hashlib.sha256(handle.read()).hexdigest()
    return result


def main(argv):
    commands = {"files": files, "pids": pids, "state": lambda: {"files": files(), "pids": pids()}}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: nginx_host_state.py files | pids | state", file=sys.stderr)
        return 2
    print(json.dumps(commands[argv[0]](), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
