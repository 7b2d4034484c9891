# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control of the host's nginx: find it, validate its configuration, reload it and confirm.

Commands are always argument lists (no shell), run through the ``run`` callable the caller gives
(AnsibleModule.run_command in modules), which returns ``(rc, stdout, stderr)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

SEARCH_PATH = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin", "/sbin", "/usr/bin", "/usr/local/bin", "/bin")
COMPILED_RE = re.compile(r"--(prefix|pid-path|error-log-path)=(\S+)")
# "... in /etc/nginx/antman.d/web.conf:5", or a certificate: 'cannot load certificate "/.../web.crt"'
RULE_FILE_RE = re.compile(r"in (\S+?\.(?:conf|stream)):\d+|\"(/[^\"]+?\.(?:crt|key))\"")
VERSION_RE = re.compile(r"nginx version: [A-Za-z0-9_.-]*/([0-9]+)\.([0-9]+)\.([0-9]+)")
LOG_PREFIX_RE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: ", re.M)
SYSTEMD_UNIT = "nginx.service"


class NginxError(Exception):
    """nginx is missing, not running, or refused a configuration. ``output`` is nginx's own words."""

    def __init__(self, message, output="", files=()):
        super(NginxError, self).__init__(message)
        self.output = output
        self.files = list(files)


def locate(program, directories=SEARCH_PATH):
    """The path of ``program`` (a path, or a name looked for on PATH and then in ``directories``,
    which a module's PATH may lack: nginx is in /usr/sbin), or None."""
    if "/" in program:
        candidates = [program]
    else:
        candidates = [os.path.join(d, program) for d in os.environ.get("PATH", "").split(os.pathsep) + list(directories) if d]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_binary(binary):
    found = locate(binary)
    if found:
        return found
    raise NginxError("nginx binary %r not found%s; install nginx or set nginx_binary"
                     % (binary, "" if "/" in binary else " in PATH or %s" % ":".join(SEARCH_PATH)))


def parse_version_output(output):
    """(major, minor, patch) from ``nginx -v`` output ("nginx version: nginx/1.22.1"), or None."""
    match = VERSION_RE.search(output)
    return tuple(int(part) for part in match.groups()) if match else None


def files_named_in(output):
    """Configuration files nginx's messages point at (``... in /path/file.conf:12``)."""
    return sorted(set(path for match in RULE_FILE_RE.findall(output) for path in match if path))


def concise(output):
    """nginx's messages without timestamps, pids and the closing "test failed" line."""
    lines = [LOG_PREFIX_RE.sub(r"[\1] ", line) for line in output.splitlines()]
    return "; ".join(line for line in lines if line and "test failed" not in line) or output


def _stat_fields(pid):
    """(command name, the fields after it) of /proc/PID/stat, or None when there is no such process."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    # The name, in parentheses, may hold spaces and ")".
    return stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:].split()


def proc_stat(pid):
    """(command name, state letter, parent pid) of process ``pid`` from /proc/PID/stat, or None when
    there is no such process (or no /proc). With proc_cpu_seconds the one reader of /proc/PID/stat;
    the tests and benchmarks use them too."""
    stat = _stat_fields(pid)
    return None if stat is None else (stat[0], stat[1][0], int(stat[1][1]))


def proc_cpu_seconds(pid):
    """User + system CPU seconds process ``pid`` has used so far (utime + stime), or None."""
    stat = _stat_fields(pid)
    return None if stat is None else (int(stat[1][11]) + int(stat[1][12])) / float(os.sysconf("SC_CLK_TCK"))


def process_alive(pid):
    """Whether ``pid`` runs. A zombie (a crashed nginx its parent has not reaped yet) does not:
    signals to it are lost, so it cannot be reloaded."""
    if pid <= 0:
        return False  # kill(0) and kill(-1) would ask about process groups
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = proc_stat(pid)
    return stat is None or stat[1] != "Z"  # no /proc: kill(0) is all we can know


def child_pids(parent):
    children = set()
    for entry in os.listdir("/proc"):
        stat = proc_stat(int(entry)) if entry.isdigit() else None
        if stat is not None and stat[2] == parent:
            children.add(int(entry))
    return children


def cmdline(pid):
    """The command line of ``pid``, arguments separated by NUL; "" when it is gone."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return ""


def shutting_down_workers(master):
    """The old workers of the nginx master ``master`` still serving connections they had at a reload."""
    return sorted(pid for pid in child_pids(master) if "shutting down" in cmdline(pid))


class Nginx:
    """The host's nginx: its binary, its main configuration file, and the scan of that file
    (``ConfScan``, read once per run by the host reader) for the pid and error log paths."""

    def __init__(self, binary, conf, run, scan):
        self.binary = find_binary(binary)
        self.conf = conf
        self.run = run
        self.scan = scan
        self._compiled = None

    def compiled(self):
        """Compiled-in defaults from ``nginx -V`` (prefix, pid-path, error-log-path)."""
        if self._compiled is None:
            rc, out, err = self.run([self.binary, "-V"])
            self._compiled = dict(COMPILED_RE.findall(out + err))
        return self._compiled

    def version(self):
        """nginx's version from ``nginx -v`` as a tuple (1, 22, 1), or None if it does not say."""
        rc, out, err = self.run([self.binary, "-v"])
        return parse_version_output(out + err)

    def test(self):
        """``nginx -t``; raise NginxError with nginx's message if the configuration is refused."""
        rc, out, err = self.run([self.binary, "-t", "-q", "-c", self.conf])
        if rc != 0:
            output = (err or out).strip()
            raise NginxError("nginx rejected the configuration: %s" % concise(output), output, files_named_in(output))

    def runtime_path(self, directive, compiled_key):
        path = self.scan.main_path(directive)
        if path:
            return path
        compiled = self.compiled().get(compiled_key)
        if not compiled or compiled == "stderr":
            return None
        if not os.path.isabs(compiled):
            compiled = os.path.join(self.compiled().get("prefix", "/"), compiled)
        return compiled

    def pid_file(self):
        return self.runtime_path("pid", "pid-path") or "/run/nginx.pid"

    def master_pid(self):
        """PID of the running nginx master for this configuration, or None."""
        try:
            with open(self.pid_file()) as handle:
                pid = int(handle.read().strip() or 0)
        except (IOError, OSError, ValueError):
            return None
        return pid if pid > 0 and process_alive(pid) else None

    def require_running(self):
        pid = self.master_pid()
        if pid is None:
            raise NginxError("nginx is not running (no live process in pid file %s); start nginx first, or set "
                             "reload: false to only write and validate" % self.pid_file())
        return pid

    def systemd_manages(self, pid):
        if not os.path.isdir("/run/systemd/system"):
            return False
        rc, out, err = self.run(["systemctl", "show", "--property=MainPID", "--value", SYSTEMD_UNIT])
        return rc == 0 and out.strip() == str(pid)

    def reload(self, timeout=30.0):
        """Reload (never restart) and wait until new workers run the new configuration.

        Uses systemd when it manages this nginx, else ``nginx -s reload``. Raises NginxError when
        nginx refuses the configuration at reload time (e.g. a port it cannot bind), which
        ``nginx -t`` does not detect. Returns how it reloaded."""
        pid = self.require_running()
        before = child_pids(pid)
        error_log = self.runtime_path("error_log", "error-log-path")
        offset = _size(error_log)
        if self.systemd_manages(pid):
            how, command = "systemd", ["systemctl", "reload", SYSTEMD_UNIT]
        else:
            how, command = "signal", [self.binary, "-c", self.conf, "-s", "reload"]
        rc, out, err = self.run(command)
        if rc != 0:
            raise NginxError("reloading nginx failed: %s" % (err or out).strip(), (err or out).strip())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process_alive(pid):
                raise NginxError("nginx master process %d exited during reload" % pid)
            if child_pids(pid) - before:
                self._wait_old_workers_stop_accepting(before, deadline)
                return how
            failure = _reload_errors(error_log, offset, pid)
            if failure:
                raise NginxError("nginx refused the new configuration at reload: %s" % concise(failure), failure,
                                 files_named_in(failure))
            time.sleep(0.02)
        raise NginxError("nginx did not start workers with the new configuration within %ss of the reload "
                         "(see its error log%s)" % (timeout, " %s" % error_log if error_log else ""))

    @staticmethod
    def _wait_old_workers_stop_accepting(old_workers, deadline):
        """Return once every old worker has exited or entered graceful shutdown, in which nginx
        closes its listening sockets: from then on only new workers accept connections, so the
        change has taken effect for every new request."""
        while time.monotonic() < deadline:
            if all(not process_alive(worker) or "shutting down" in cmdline(worker) for worker in old_workers):
                return
            time.sleep(0.005)


def _size(path):
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _reload_errors(path, offset, pid):
    """[emerg]/[alert] lines the master wrote to the error log since ``offset``."""
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return ""
    marker = " %d#" % pid
    lines = [line for line in text.splitlines() if marker in line and ("[emerg]" in line or "[alert]" in line)]
    # nginx retries a failed bind() for a few seconds before it gives up ("still could not bind()").
    final = [line for line in lines if "bind() to" not in line or "still could not bind" in line]
    if not final:
        return ""
    bind_failures = [line for line in lines if "bind() to" in line][:1]
    return "; ".join(bind_failures + final[-2:])
