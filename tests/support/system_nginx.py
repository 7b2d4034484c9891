"""Save and restore the system nginx around the demo and the molecule scenarios.

  system_nginx.py save NAME      snapshot /etc/nginx and whether nginx runs (kept if one exists);
                                 waits while another run's snapshot is in place (one run at a time)
  system_nginx.py held NAME      exit 0 if a run from another checkout holds a snapshot NAME
  system_nginx.py restore NAME   put /etc/nginx back byte for byte, and nginx's state: stopped if it
                                 was not running before, otherwise running the restored configuration
  system_nginx.py running        exit 0 if the system nginx runs
  system_nginx.py pids           JSON: {"master": pid or null, "workers": [pids]} of the system nginx
  system_nginx.py fingerprint    JSON: {path: sha256 of content, or "-> target" for links} under /etc/nginx
  system_nginx.py state          JSON: {"files": fingerprint, "pids": pids} in one go

The demo and the scenarios configure the machine's own nginx (/etc/nginx, /run/nginx.pid) with the
collection's role, as a user would. The snapshot makes that reversible: an interrupted run leaves
its snapshot behind, and the next save keeps it (it is the state before the first run), so a later
restore still returns to the original. Snapshots live in /var/lib/antman-test/NAME/.

Only one run at a time may use the system nginx (two would overwrite each other's rules, and the
second would snapshot the first one's configuration as "the original"): ``save`` waits, up to
$ANTMAN_SYSTEM_NGINX_WAIT seconds (default 300), while another run's snapshot exists, i.e. until that
run's ``restore``. Another run is one with another snapshot name, or the same name from another
checkout (each snapshot records the checkout it was taken from: this script's directory), whose
snapshot ``restore`` then leaves alone. A snapshot left by an interrupted run blocks others until it
is restored.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time

ETC = "/etc/nginx"
PID_FILE = "/run/nginx.pid"
ROLE_ACCESS_LOG = "/var/log/nginx/antman_access.log"
SNAPSHOTS = os.environ.get("ANTMAN_SNAPSHOT_DIR", "/var/lib/antman-test")
NAME_RE = re.compile(r"\A[a-z0-9-]{1,32}\Z")
WAIT = float(os.environ.get("ANTMAN_SYSTEM_NGINX_WAIT", "300"))
# Which checkout a snapshot belongs to: two checkouts run scenarios with the same names.
OWNER = os.path.dirname(os.path.realpath(__file__))


def nginx_binary():
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("nginx")


def master_pid():
    """The live system nginx master, or None (an empty or stale pid file means not running)."""
    try:
        with open(PID_FILE) as handle:
            pid = int(handle.read().strip() or 0)
        if pid <= 0:
            return None
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
        if stat[stat.rfind(")") + 2:].split()[0] == "Z":
            return None
        if os.path.basename(os.readlink("/proc/%d/exe" % pid)) != "nginx":
            return None
        return pid
    except (IOError, OSError, ValueError):
        return None


def worker_pids(master):
    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    stat = handle.read()
            except (IOError, OSError):
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if fields[1] == str(master) and fields[0] != "Z":
                workers.append(int(entry))
    return sorted(workers)


def pids():
    master = master_pid()
    return {"master": master, "workers": worker_pids(master) if master else []}


def fingerprint(root=ETC):
    """Every file and link under ``root`` (hidden generation directories included) and its content."""
    result = {}
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            if os.path.islink(path):
                result[path] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    result[path] = hashlib.sha256(handle.read()).hexdigest()
    return result


def stop(timeout=10.0):
    pid = master_pid()
    if pid is None:
        return False
    workers = worker_pids(pid)
    os.kill(pid, signal.SIGQUIT)  # graceful: finish requests in flight
    deadline = time.monotonic() + timeout
    while master_pid() == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if master_pid() == pid:
        # Workers of a killed master would keep the listening sockets: kill them too.
        for victim in [pid] + workers:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return True


def snapshot_state(name):
    try:
        with open(os.path.join(SNAPSHOTS, name, "state.json")) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def held_by_other(name):
    """A snapshot NAME taken by a run from another checkout (snapshots without an owner are older
    than owners, and taken as this checkout's own)."""
    state = snapshot_state(name)
    return state is not None and state.get("owner", OWNER) != OWNER


def other_snapshots(name):
    """Snapshots of other runs: other names, or this name from another checkout."""
    if not os.path.isdir(SNAPSHOTS):
        return []
    return sorted(entry for entry in os.listdir(SNAPSHOTS) if snapshot_state(entry) is not None
                  and (entry != name or held_by_other(entry)))


def save(name, wait=WAIT):
    """Take the snapshot once no other run's snapshot is in place (checked and taken under a lock,
    so two runs that wait never both go ahead)."""
    os.makedirs(SNAPSHOTS, exist_ok=True)
    deadline = time.monotonic() + wait
    told = False
    while True:
        with open(os.path.join(SNAPSHOTS, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            others = other_snapshots(name)
            if not others:
                return save_now(name)
        if time.monotonic() >= deadline:
            owner = snapshot_state(others[0]) or {}
            print("system nginx: another run's snapshot is still in place (%s): it is using the system nginx, "
                  "or it was interrupted; then put nginx back with: %s restore %s"
                  % (", ".join(os.path.join(SNAPSHOTS, other) for other in others),
                     os.path.join(owner.get("owner", OWNER), "system_nginx.py"), others[0]), file=sys.stderr)
            return 1
        if not told:
            print("system nginx: waiting for another run to finish (snapshot %s)" % ", ".join(others), flush=True)
            told = True
        time.sleep(1.0)


def save_now(name):
    directory = os.path.join(SNAPSHOTS, name)
    state_file = os.path.join(directory, "state.json")
    if os.path.exists(state_file):
        print("system nginx: snapshot %s kept (taken before an earlier, unfinished run)" % directory)
        return 0
    os.makedirs(directory, exist_ok=True)
    etc_existed = os.path.isdir(ETC)
    if etc_existed:
        with tarfile.open(os.path.join(directory, "etc-nginx.tar"), "w") as archive:
            archive.add(ETC, arcname="nginx")  # symbolic links are stored as links
    state = {"etc_existed": etc_existed, "was_running": master_pid() is not None,
             "access_log_existed": os.path.exists(ROLE_ACCESS_LOG), "owner": OWNER}
    with open(state_file + ".tmp", "w") as handle:
        json.dump(state, handle)
    os.rename(state_file + ".tmp", state_file)
    print("system nginx: saved %s (running: %s) to %s" % (ETC, "yes" if state["was_running"] else "no", directory))
    return 0


def restore(name):
    directory = os.path.join(SNAPSHOTS, name)
    if held_by_other(name):
        print("system nginx: snapshot %s belongs to a run from %s: left alone" % (directory, snapshot_state(name)["owner"]))
        return 0
    try:
        with open(os.path.join(directory, "state.json")) as handle:
            state = json.load(handle)
    except (IOError, OSError, ValueError):
        print("system nginx: no snapshot %s, nothing to restore" % directory)
        return 0
    if not state["was_running"]:
        stop()
    if state["etc_existed"]:
        for entry in os.listdir(ETC):
            path = os.path.join(ETC, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        with tarfile.open(os.path.join(directory, "etc-nginx.tar")) as archive:
            members = [m for m in archive.getmembers() if m.name == "nginx" or m.name.startswith("nginx/")]
            archive.extractall(os.path.dirname(ETC), members=members)
    if not state["access_log_existed"] and os.path.exists(ROLE_ACCESS_LOG):
        os.unlink(ROLE_ACCESS_LOG)
    if state["was_running"]:
        binary = nginx_binary()
        command = [binary, "-s", "reload"] if master_pid() else [binary]
        subprocess.run(command, check=True)
    shutil.rmtree(directory)
    print("system nginx: %s restored, nginx %s" % (ETC, "running" if state["was_running"] else "stopped"))
    return 0


def main(argv):
    if len(argv) == 1 and argv[0] == "running":
        return 0 if master_pid() else 1
    if len(argv) == 1 and argv[0] == "pids":
        print(json.dumps(pids()))
        return 0
    if len(argv) == 1 and argv[0] == "fingerprint":
        print(json.dumps(fingerprint(), sort_keys=True))
        return 0
    if len(argv) == 1 and argv[0] == "state":
        print(json.dumps({"files": fingerprint(), "pids": pids()}, sort_keys=True))
        return 0
    if len(argv) == 2 and argv[0] == "held" and NAME_RE.match(argv[1]):
        return 0 if held_by_other(argv[1]) else 1
    if len(argv) != 2 or argv[0] not in ("save", "restore") or not NAME_RE.match(argv[1]):
        print("usage: system_nginx.py save|restore|held NAME | running | pids | fingerprint | state", file=sys.stderr)
        return 2
    return save(argv[1]) if argv[0] == "save" else restore(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
