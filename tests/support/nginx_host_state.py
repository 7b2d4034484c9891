"""The state of the system nginx of the machine this runs on, as JSON (standard library only).

  nginx_host_state.py files    {path: sha256 of its content, or "-> target" for a link} under /etc/nginx
  nginx_host_state.py pids     {"master": pid or null, "workers": [pids]} (master from /run/nginx.pid)
  nginx_host_state.py state    {"files": ..., "pids": ...} in one go
  nginx_host_state.py state --settled   the same, once no other checkout is using the system nginx

The molecule scenarios run it on an antsle host container (ansible.builtin.script), to prove that
check mode and refused changes touch nothing and that a reload keeps the master. Stage 80 and the
demo run it on the machine itself, before and after, to prove that the machine's own nginx was
left alone. Checkouts from before the Docker scenarios turn the system nginx into their antsle
host while a scenario runs, with a snapshot in /var/lib/antman-test/NAME/ until they restore it:
``--settled`` waits (up to $ANTMAN_SETTLE_WAIT seconds, default 600) until there is none, so that
such a run is not taken for a change made here.
"""
import hashlib
import json
import os
import sys
import time

ETC = "/etc/nginx"
PID_FILE = "/run/nginx.pid"
OTHER_RUNS = "/var/lib/antman-test"
SETTLE_WAIT = float(os.environ.get("ANTMAN_SETTLE_WAIT", "600"))


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (state, ppid, ...), or None."""
    try:
        with open("/proc/%s/stat" % pid) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    return stat[stat.rfind(")") + 2:].split()


def master_pid():
    """The live nginx master named by the pid file, or None (an empty or stale pid file, which
    `nginx -t` leaves behind, means not running)."""
    try:
        with open(PID_FILE) as handle:
            pid = int(handle.read().strip() or 0)
        fields = stat_fields(pid)
        if pid <= 0 or fields is None or fields[0] == "Z":
            return None
        if os.path.basename(os.readlink("/proc/%d/exe" % pid)) != "nginx":
            return None
        return pid
    except (IOError, OSError, ValueError):
        return None


def worker_pids(master):
    workers = []
    for entry in os.listdir("/proc"):
        fields = stat_fields(entry) if entry.isdigit() else None
        if fields and fields[1] == str(master) and fields[0] != "Z":
            workers.append(int(entry))
    return sorted(workers)


def pids():
    master = master_pid()
    return {"master": master, "workers": worker_pids(master) if master else []}


def files(root=ETC):
    """Every file and link under ``root`` (hidden generation directories included) and its content."""
    result = {}
    for directory, dirs, names in os.walk(root):
        for name in sorted(dirs + names):
            path = os.path.join(directory, name)
            if os.path.islink(path):
                result[path] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    result[path] = hashlib.sha256(handle.read()).hexdigest()
    return result


def other_runs():
    """Snapshots of other checkouts' scenario runs that are using the system nginx now."""
    try:
        return sorted(entry for entry in os.listdir(OTHER_RUNS) if os.path.isdir(os.path.join(OTHER_RUNS, entry)))
    except OSError:
        return []


def wait_settled(timeout=SETTLE_WAIT):
    deadline = time.monotonic() + timeout
    told = False
    while other_runs():
        if time.monotonic() > deadline:
            raise RuntimeError("another checkout is still using the system nginx after %d s (snapshots in %s: %s)"
                               % (timeout, OTHER_RUNS, ", ".join(other_runs())))
        if not told:
            print("waiting: another checkout is using the system nginx (%s)" % ", ".join(other_runs()), file=sys.stderr)
            told = True
        time.sleep(1.0)


def main(argv):
    commands = {"files": files, "pids": pids, "state": lambda: {"files": files(), "pids": pids()}}
    settled = argv[1:] == ["--settled"]
    if not (len(argv) == 1 or settled) or argv[0] not in commands:
        print("usage: nginx_host_state.py files | pids | state [--settled]", file=sys.stderr)
        return 2
    if settled:
        try:
            wait_settled()
        except RuntimeError as error:
            print("nginx_host_state: %s" % error, file=sys.stderr)
            return 1
    print(json.dumps(commands[argv[0]](), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
