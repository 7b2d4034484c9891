# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent on the antsle host: its code and its process, as the role's module
``lb_host_apply`` (its agent part) installs, starts, stops and removes them.

The agent is this collection's code run by the host's Python, with no Ansible on the host: the
module copies the ``module_utils`` files the agent imports (``agent_sources``: followed from
``health/agent.py`` and ``health/exporter.py`` through their imports of the collection, read from wherever this code was loaded,
Ansible's module payload included) under one directory, ``LIB_DIR`` by default, beside the process
script (``roles/load_balancer/files/antman-health``), which Python runs with that directory first
on ``sys.path``. Every package of the copy has an ``__init__.py`` of its own, so no other copy of
the collection on the host can take its place.

On hosts without systemd the module keeps the process running itself (``--daemon``, a pid file),
as the role keeps nginx running there; under systemd the role's unit does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import importlib.util
import os
import shutil
import signal
import time

# Imported so that Ansible's module payload (which carries only what the module imports) holds the
# agent's code for agent_sources to read.
from ansible_collections.antsle.antman.plugins.module_utils.health import agent
from ansible_collections.antsle.antman.plugins.module_utils.health import exporter
from ansible_collections.antsle.antman.plugins.module_utils.health.command import SCRIPT
from ansible_collections.antsle.antman.plugins.module_utils.host.files import fsync_dir, remove_quietly, write_file
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import cmdline, process_alive

LIB_DIR = "/usr/local/lib/antsle-antman"
PACKAGE = "ansible_collections.antsle.antman.plugins.module_utils"
ENTRIES = (agent.__name__, exporter.__name__)  # what the process script imports
STOP_TIMEOUT = 30.0


class InstallError(Exception):
    pass


def _source(name):
    """The source text of module ``name``, from wherever it was loaded (a file, Ansible's payload)."""
    module = importlib.import_module(name)
    loader = getattr(module, "__loader__", None)
    source = None
    try:
        source = loader.get_source(name) if loader is not None else None
    except (ImportError, OSError):
        pass
    if isinstance(source, bytes):  # some loaders (ansible-test's collection loader) give bytes
        source = source.decode("utf-8")
    origin = getattr(module, "__file__", None)
    if source is None and origin and origin.endswith(".py") and os.path.isfile(origin):
        with open(origin, "rb") as handle:
            source = handle.read().decode("utf-8")
    if source is None:
        raise InstallError("cannot read the source of %s (loaded by %r from %s), which the health agent needs"
                           % (name, loader, origin))
    return source


def _is_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # the parent is a module, not a package
        return False


def _imported(source):
    """The collection's module_utils modules a source imports."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE + "."):
            for alias in node.names:
                inner = "%s.%s" % (node.module, alias.name)
                yield inner if _is_module(inner) else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    yield alias.name


def agent_sources():
    """{path relative to the install directory: bytes} of every module the agent imports, and an
    empty ``__init__.py`` in each package above them."""
    sources, pending = {}, list(ENTRIES)
    while pending:
        name = pending.pop()
        if name not in sources:
            sources[name] = _source(name)
            pending.extend(_imported(sources[name]))
    files = {}
    for name, source in sources.items():
        parts = name.split(".")
        files["/".join(parts) + ".py"] = source.encode("utf-8")
        for depth in range(1, len(parts)):
            files.setdefault("/".join(parts[:depth]) + "/__init__.py", b"")
    return files


def _installed(lib_dir):
    """{relative path: bytes} of the files under ``lib_dir`` (Python's caches left out)."""
    found = {}
    for directory, subdirs, names in os.walk(lib_dir):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, lib_dir)] = handle.read()
    return found


def install(lib_dir, script, check_mode=False):
    """Make ``lib_dir`` hold exactly the agent's code and ``script`` (bytes) as ``SCRIPT``. Returns
    the relative paths written or removed (none: it was current)."""
    wanted = agent_sources()
    wanted[SCRIPT] = script
    have = _installed(lib_dir) if os.path.isdir(lib_dir) else {}
    changed = sorted(path for path in set(wanted) | set(have) if wanted.get(path) != have.get(path))
    if check_mode or not changed:
        return changed
    for path in changed:
        target = os.path.join(lib_dir, path)
        if path not in wanted:
            remove_quietly(target)
            continue
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        temporary = "%s.tmp-%d" % (target, os.getpid())
        remove_quietly(temporary)
        write_file(temporary, wanted[path], 0o644)
        os.rename(temporary, target)
        fsync_dir(directory)
    for directory, _subdirs, _names in os.walk(lib_dir, topdown=False):
        if directory != lib_dir and not os.listdir(directory):
            os.rmdir(directory)  # a package the agent no longer imports
    return changed


def uninstall(lib_dir, check_mode=False):
    """Remove ``lib_dir``; whether there was one."""
    if not os.path.lexists(lib_dir):
        return False
    if not check_mode:
        shutil.rmtree(lib_dir)
    return True


def running_command(pid):
    """The argument list process ``pid`` runs (None: no such process)."""
    text = cmdline(pid)
    return text.split("\0")[:-1] if text else None


# -- the process where systemd does not run it ------------------------------------------------------

def running_pid(pid_file):
    """The pid of the agent in ``pid_file`` if that process is alive and is the agent, else None."""
    try:
        with open(pid_file) as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read().split(b"\0")
    except (IOError, OSError, ValueError):
        return None
    if not process_alive(pid) or not any(arg.endswith(b"/" + SCRIPT.encode("ascii")) for arg in cmdline):
        return None
    return pid


def start(run, argv, pid_file, log_file):
    """Start the agent as a daemon; ``run`` returns once it has written its pid file."""
    rc, out, err = run(argv + ["--daemon", "--pid-file", pid_file, "--log-file", log_file])
    if rc != 0:
        raise InstallError("the health agent did not start (rc %d): %s; see %s" % (rc, (err or out).strip()[-500:], log_file))


def stop(pid_file, timeout=STOP_TIMEOUT):
    """Stop the agent of ``pid_file`` (SIGTERM, then SIGKILL after ``timeout`` s); whether one ran."""
    pid = running_pid(pid_file)
    if pid is None:
        remove_quietly(pid_file)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process_alive(pid):
        os.kill(pid, signal.SIGKILL)
    remove_quietly(pid_file)
    return True
