"""Helpers for fault tests: run applies and modules in processes of their own, record the state of
a directory tree, and make a directory unwritable in ways that stop root too."""
import contextlib
import json
import os
import subprocess
import sys

from ansible_collections.antsle.antman.tests.support.paths import child_env, tool


def run_apply(spec, wait=True):
    """apply_runner.py in a new process: (returncode, its JSON answer or None); or the Popen."""
    proc = subprocess.Popen(tool("tests.support.apply_runner", json.dumps(spec)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True, env=child_env())
    if not wait:
        return proc
    return finish(proc)


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    answer = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
    if proc.returncode not in (0, -9):
        raise AssertionError("apply_runner failed (%s): %s" % (proc.returncode, err))
    return proc.returncode, answer


def run_module(module, args, env=None):
    """A collection module run as Ansible runs it on a host: a python process reading its args
    from a JSON file. Returns its JSON result."""
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "antman-args-%d-%d.json" % (os.getpid(), id(args)))
    with open(path, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    try:
        environment = child_env()
        environment.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "ansible_collections.antsle.antman.plugins.modules.%s" % module,
                               path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=environment, timeout=120, check=False)
    finally:
        os.unlink(path)
    return json.loads(proc.stdout)


def tree(root, skip_logs=False):
    """Every path under ``root``: its kind, mode, owner and content (or link target). nginx writes
    its access log after answering, so a test that just made requests may want ``skip_logs``."""
    state = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            if skip_logs and name.endswith(".log"):
                continue
            info = os.lstat(path)
            if os.path.islink(path):
                state[path] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                state[path] = ("dir", info.st_mode, info.st_uid)
            else:
                with open(path, "rb") as handle:
                    state[path] = ("file", info.st_mode, info.st_uid, handle.read())
    return state


@contextlib.contextmanager
def immutable(path):
    """``chattr +i``: nothing can be created, removed or renamed in ``path``, not even by root."""
    subprocess.run(["chattr", "+i", path], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", path], check=True)


@contextlib.contextmanager
def tmpfs(path, options="size=8m"):
    """A private tmpfs on ``path``, unmounted afterwards (``remount(path, "ro")`` makes it read-only)."""
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "%s,mode=0755" % options, "antman-hostile", path], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=False)


def remount(path, mode):
    subprocess.run(["mount", "-o", "remount,%s" % mode, path], check=True)


def fill_inodes(directory, leave):
    """Create empty files in ``directory`` until only ``leave`` inodes are free; returns them."""
    made = []
    while os.statvfs(directory).f_ffree > leave:
        path = os.path.join(directory, "filler-%d" % len(made))
        with open(path, "w"):
            pass
        made.append(path)
    return made
