"""Test world on loopback: a private nginx, backends ("antlets") on 127.0.x.y addresses, a client.

Used by tests/functional and by the benchmarks. Nothing here touches the system nginx: every
instance has its own prefix directory, configuration, pid file and logs.
"""
import ctypes
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import child_pids, cmdline, proc_stat, process_alive
from ansible_collections.antsle.antman.tests.support.traffic import get

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.path.join(HERE, "backend.py")
APP_BACKEND = os.path.join(HERE, "app_backend.py")

STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
NGINX_CONF = """\
{load_stream}{user}worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{ worker_connections 4096; }}
http {{
    log_format antman '$remote_addr "$host" "$request" $status upstream=$upstream_addr '
                      'upstream_status=$upstream_status time=$request_time pid=$pid msec=$msec';
    access_log {prefix}/access.log antman;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {rules_dir}/*.conf;
}}
{stream}"""
STREAM_BLOCK = """stream {{
    include {rules_dir}/*.stream;
}}
"""


def run_command(args):
    """The (rc, stdout, stderr) runner module_utils expect, outside Ansible."""
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False)
    return proc.returncode, proc.stdout, proc.stderr


# Ports for the tests' listeners (nginx rules, antlets). Not from bind(0): that hands out ports of
# the kernel's ephemeral range, which every outgoing connection also takes its local port from, and
# a port free when handed out is then held by a client (or by another xdist worker's bind(0)) when
# nginx binds it a moment later ("still could not bind()"). Instead: ports below the ephemeral
# range, a slice of its own for each pytest-xdist worker, handed out in turn, each checked free on
# every address (a rule listens on all of them, TCP and UDP).
PORTS_FROM = 10000
PORT_SLICES = 16
_next_port = {}


def _ephemeral_from():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            return int(handle.read().split()[0])
    except (IOError, OSError, ValueError, IndexError):
        return 32768


def _port_slice():
    """(first, last) of this process's slice: its xdist worker's (gw0, gw1, ...: the first half of
    the slices), else one of the second half chosen by pid (a benchmark, a second pytest run)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    half = PORT_SLICES // 2
    index = int(worker[2:]) % half if worker[:2] == "gw" and worker[2:].isdigit() else half + os.getpid() % half
    size = (_ephemeral_from() - PORTS_FROM) // PORT_SLICES
    first = PORTS_FROM + index * size
    return first, first + size - 1


def _bindable(port):
    kinds = [(socket.AF_INET, "0.0.0.0", socket.SOCK_STREAM), (socket.AF_INET, "0.0.0.0", socket.SOCK_DGRAM)]
    if socket.has_ipv6:
        kinds += [(socket.AF_INET6, "::", socket.SOCK_STREAM), (socket.AF_INET6, "::", socket.SOCK_DGRAM)]
    for family, address, kind in kinds:
        try:
            with socket.socket(family, kind) as sock:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((address, port))
        except OSError as error:
            if family == socket.AF_INET6 and error.errno == errno.EADDRNOTAVAIL:
                continue  # no IPv6 on this machine
            return False
    return True


def free_port(host="127.0.0.1"):
    """A port no socket uses on any address (``host`` is where the caller will listen; the port is
    free on every address, so a rule's wildcard listener and an antlet never collide)."""
    first, last = _port_slice()
    port = _next_port.get((first, last), first + os.getpid() % (last - first + 1))
    for dummy in range(last - first + 1):
        candidate, port = port, first if port >= last else port + 1
        if _bindable(candidate):
            _next_port[(first, last)] = port
            return candidate
    raise RuntimeError("no free port in %d-%d (for %s)" % (first, last, host))


def nginx_master_of(pid, conf):
    """Whether ``pid`` is a live nginx master started with the configuration file ``conf``.

    A pid file names a process: once its master died (a test kills nginx on purpose, or a crash),
    the pid may later belong to anything else (pid_max is 32768 here, and one run of the pytest
    stage alone starts about 10,000 processes, so the pids wrap within a test run); a teardown that
    signalled it would kill another test's nginx or backend."""
    stat = proc_stat(pid) if pid > 0 else None
    if stat is None:
        return False
    if stat[1] == "Z":
        # A master killed a moment ago, not reaped yet: no command line any more, but its name, and
        # its pid cannot be reused before it is reaped; its process group still holds its workers.
        return stat[0] == "nginx"
    command = cmdline(pid).replace("\0", " ")
    # A master writes its pid file before it takes its title ("nginx: master process ..."), so a
    # moment after start it still shows the command that started it ("/usr/sbin/nginx -c CONF"). Its
    # workers start only after the title, so an nginx process with that command is the master.
    master = command.startswith("nginx: master process") or (stat[0] == "nginx" and not command.startswith("nginx: "))
    return master and (" -c %s " % conf) in (command + " ")


def stop_master(pid, workers, how=signal.SIGQUIT, grace=5.0):
    """Stop the nginx master ``pid`` with the signal ``how``; if it still runs after ``grace``
    seconds, SIGKILL it and its ``workers`` (as found before the signal). A master already gone is
    fine."""
    try:
        os.kill(pid, how)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if not process_alive(pid):
        return
    for victim in [pid] + workers:
        try:
            os.kill(victim, signal.SIGKILL)
        except OSError:
            pass


def nginx_binary():
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return "nginx"


def local_features():
    """What the collection renders rules for on this machine (its nginx's version, its IPv6), as a
    module run here would see it."""
    from ansible_collections.antsle.antman.plugins.module_utils.host.features import host_features
    from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import parse_version_output

    def version():
        rc, out, err = run_command([nginx_binary(), "-v"])
        return parse_version_output(out + err)
    return host_features(version)


def parse_rules(raws):
    """({name: canonical rule}, {name: TlsContent}) of raw rules, as the modules parse them."""
    from ansible_collections.antsle.antman.plugins.module_utils.model.rule import parse_rule
    rules, contents = {}, {}
    for raw in raws:
        rule, content = parse_rule(raw)
        rules[rule["name"]] = rule
        if content is not None:
            contents[rule["name"]] = content
    return rules, contents


class NginxInstance:
    """A private nginx whose http context includes ``rules_dir``."""

    def __init__(self, prefix, workers=2, include_rules=True, access_log=True):
        self.prefix = str(prefix)
        self.rules_dir = os.path.join(self.prefix, "antman.d")
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.pid_file = os.path.join(self.prefix, "nginx.pid")
        self.error_log = os.path.join(self.prefix, "error.log")
        self.access_log = os.path.join(self.prefix, "access.log")
        self.binary = nginx_binary()
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        stream = os.path.exists(STREAM_MODULE)
        # Workers of a root master run as "nobody", which cannot enter the test's private temporary
        # directory: request bodies buffered to files (uploads) would fail with 500.
        user = "user root;\n" if os.geteuid() == 0 else ""
        text = NGINX_CONF.format(workers=workers, prefix=self.prefix, rules_dir=self.rules_dir, user=user,
                                 load_stream="load_module %s;\n" % STREAM_MODULE if stream else "",
                                 stream=STREAM_BLOCK.format(rules_dir=self.rules_dir) if stream else "")
        if not include_rules:
            text = text.replace("    include %s/*.conf;\n" % self.rules_dir, "")
        if not access_log:
            # Throughput runs: millions of log lines would measure the disk, not the proxy.
            text = text.replace("    access_log %s antman;\n" % self.access_log, "    access_log off;\n")
        with open(self.conf, "w") as handle:
            handle.write(text)

    def start(self):
        rc, out, err = run_command([self.binary, "-c", self.conf])
        if rc != 0:
            raise RuntimeError("nginx failed to start: %s" % err)
        deadline = time.monotonic() + 5
        while self.master_pid() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def master_pid(self):
        """The pid in the pid file while it is this instance's nginx master, else None (a pid
        file outlives a killed master, and pids are reused)."""
        try:
            with open(self.pid_file) as handle:
                pid = int(handle.read().strip() or 0)
        except (OSError, ValueError):
            return None
        return pid if nginx_master_of(pid, self.conf) else None

    def write_conf(self, name, text):
        """A hand-written file in the rules directory (for instances the collection does not manage)."""
        os.makedirs(self.rules_dir, exist_ok=True)
        with open(os.path.join(self.rules_dir, name), "w") as handle:
            handle.write(text)

    def stop(self, fast=False):
        """Graceful stop (SIGQUIT), or fast (SIGTERM: in-flight requests are cut, for benchmarks
        with stalled connections). Workers still alive after 5 s are killed with their master."""
        pid = self.master_pid()
        if pid:
            stop_master(pid, self.workers(), signal.SIGTERM if fast else signal.SIGQUIT, grace=5)

    def workers(self):
        pid = self.master_pid()
        return sorted(child_pids(pid)) if pid else []

    def kill(self):
        """Stop at once (tests of faults: a teardown needs no graceful stop, and a zombie holds no socket).

        The master goes first, with its whole process group: nginx daemonises into a group of its own
        that its workers share, and a master that outlives one of its workers forks a replacement at
        once (after a reload, too), which a list of workers taken beforehand misses and which then
        runs on as an orphan, listening on the test's ports."""
        master = self.master_pid()
        if master is None:
            return
        pids = self.workers() + [master]
        try:
            group = os.getpgid(master)
        except ProcessLookupError:
            group = None
        if group == master and group != os.getpgrp():
            os.killpg(group, signal.SIGKILL)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.005)

    def apply(self, raws, **kwargs):
        """Apply raw rules (certificate content included) through the transaction, as ``lb_rules``
        with state replaced does; ``kwargs`` go to ``applier``."""
        rules, contents = parse_rules(raws)
        return self.applier(**kwargs).run(lambda snapshot: rules, contents=contents)

    def applier(self, check_mode=False, reload=True, on_step=None, run=None):
        """The collection's transaction for this nginx (what every module uses)."""
        from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import Transaction
        return Transaction(self.rules_dir, self.binary, self.conf, run or run_command, reload=reload,
                           check_mode=check_mode, lock_timeout=30, on_step=on_step)

    def snapshot_files(self):
        """{file name: bytes} of everything in the rules directory now."""
        if not os.path.isdir(self.rules_dir):
            return {}
        result = {}
        for name in sorted(os.listdir(self.rules_dir)):
            with open(os.path.join(self.rules_dir, name), "rb") as handle:
                result[name] = handle.read()
        return result


STATIC_BACKEND_SERVER = """\
server {{
    listen {address};
    location / {{ default_type text/plain; return 200 "{name}\\n"; }}
}}
"""


class StaticBackend:
    """Fast antlet stand-ins for throughput runs: one private nginx answering ``return 200`` with
    the antlet's name on each of several host:port addresses (the Python backend would be the
    bottleneck). ``names`` maps address -> name."""

    def __init__(self, prefix, names, workers=2):
        self.names = dict(names)
        self.nginx = NginxInstance(prefix, workers=workers, access_log=False)
        self.nginx.write_conf("static.conf", "".join(
            STATIC_BACKEND_SERVER.format(address=address, name=name) for address, name in sorted(self.names.items())))

    @property
    def addresses(self):
        return sorted(self.names)

    def start(self):
        self.nginx.start()
        return self

    def stop(self):
        self.nginx.stop(fast=True)


def _die_with_parent():
    """In the child before exec: get SIGKILL when the process that started it dies, so that a
    killed test or benchmark run leaves no backends behind (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Backend:
    """One antlet stand-in process on host:port answering with its name.

    ``wrapper`` is a command prefix, e.g. ``["ip", "netns", "exec", "ns1"]`` to run it in a
    network namespace. ``log``: a file the backend appends its connection and request events to
    (see backend.py; ``events()`` reads them)."""

    def __init__(self, name, host, port, delay=0.0, wrapper=(), log=None, broken=None):
        self.name, self.host, self.port, self.delay = name, host, port, delay
        self.wrapper = list(wrapper)
        self.log = str(log) if log else None
        self.broken = str(broken) if broken else None  # backend.py --broken: while this file exists, 500s
        self.proc = None

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def start(self):
        args = self.wrapper + [sys.executable, BACKEND, self.name, self.host, str(self.port)]
        if self.delay:
            args += ["--delay", str(self.delay)]
        if self.log:
            args += ["--log", self.log]
        if self.broken:
            args += ["--broken", self.broken]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        self.proc.stdout.readline()
        return self

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    def hang(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def break_paths(self, prefix=""):
        """Answer 500 from now on to requests whose path starts with ``prefix`` (needs ``broken``)."""
        with open(self.broken, "w") as handle:
            handle.write(prefix)

    def repair(self):
        os.unlink(self.broken)

    def events(self):
        """[(monotonic time, event, client port, path)] from the ``log`` file, in order."""
        return read_events(self.log)


def read_events(path):
    """The events a backend logged (backend.py ``--log``): [(time, event, client port, path)]."""
    events = []
    try:
        with open(path) as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 3 and line.endswith("\n"):
                    events.append((float(parts[0]), parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    except (IOError, OSError):
        pass
    return events


class AppBackend(Backend):
    """An aiohttp application antlet (tests/support/app_backend.py): WebSockets, uploads, SSE, headers."""

    def start(self):
        self.proc = subprocess.Popen([sys.executable, APP_BACKEND, self.name, self.host, str(self.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        if self.proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("app backend %s did not start" % self.name)
        return self


def distribution(port, host_header, count):
    """Counter of which backend answered ``count`` sequential requests (non-200 counted by status)."""
    seen = Counter()
    for _request in range(count):
        status, body = get(port, host_header)
        seen[body if status == 200 else "status-%d" % status] += 1
    return seen


def counting_nginx(directory):
    """A wrapper around the real nginx that logs each invocation's arguments, one line per call.
    Returns (wrapper path, function returning the logged argument lines)."""
    wrapper = os.path.join(str(directory), "nginx-counting")
    log = os.path.join(str(directory), "nginx-calls.log")
    with open(wrapper, "w") as handle:
        handle.write('#!/bin/sh\necho "$*" >> "%s"\nexec "%s" "$@"\n' % (log, nginx_binary()))
    os.chmod(wrapper, 0o755)

    def calls():
        try:
            with open(log) as handle:
                return handle.read().splitlines()
        except OSError:
            return []
    return wrapper, calls


def run_playbook(playbook_text, directory, extra_args=()):
    """Run ansible-playbook against localhost (connection local). A play's task that registers
    ``result`` (with ``ignore_errors: true``) gets it dumped: returns (CompletedProcess, result dict)."""
    path = os.path.join(str(directory), "playbook.yml")
    dump = os.path.join(str(directory), "result.json")
    if os.path.exists(dump):
        os.unlink(dump)
    with open(path, "w") as handle:
        handle.write(playbook_text)
        handle.write(DUMP_TASK % dump)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", path] + list(extra_args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env, check=False)
    result = None
    if os.path.exists(dump):
        with open(dump) as handle:
            result = json.load(handle)
    return proc, result


# Appended to the last play's tasks: writes the registered result even in check mode.
DUMP_TASK = """
    - name: Dump the registered result for the test
      ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: %s
        mode: "0600"
      check_mode: false
      diff: false
"""


class EchoBackend(Backend):
    """A TCP or UDP echo antlet (tests/support/echo_backend.py)."""

    def __init__(self, name, host, port, kind):
        super(EchoBackend, self).__init__(name, host, port)
        self.kind = kind

    def start(self):
        args = [sys.executable, os.path.join(HERE, "echo_backend.py"), self.name, self.host, str(self.port), self.kind]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.proc.stdout.readline()
        return self


def tcp_hello(port, address="127.0.0.1", timeout=5.0):
    """Connect, read the greeting line of a TCP echo antlet, check the echo; returns its name."""
    with socket.create_connection((address, port), timeout=timeout) as sock:
        stream = sock.makefile("rwb")
        name = stream.readline().decode().strip()
        stream.write(b"ping\n")
        stream.flush()
        assert stream.readline() == b"ping\n"
        return name


def udp_ask(port, payload=b"hello", address="127.0.0.1", timeout=5.0):
    """Send one datagram through a fresh socket; returns the answer text."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, (address, port))
        return sock.recv(4096).decode()


def make_certificate(directory, hostname):
    """A test CA and a certificate for ``hostname`` signed by it (openssl). Returns paths
    {ca, certificate, key}."""
    directory = str(directory)
    paths = dict((k, os.path.join(directory, v)) for k, v in
                 (("ca", "ca.crt"), ("ca_key", "ca.key"), ("certificate", "server.crt"), ("key", "server.key"),
                  ("csr", "server.csr"), ("ext", "server.ext")))
    with open(paths["ext"], "w") as handle:
        handle.write("subjectAltName=DNS:%s\n" % hostname)
    for args in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", paths["ca_key"], "-out", paths["ca"],
         "-days", "2", "-subj", "/CN=antman test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", paths["key"], "-out", paths["csr"], "-subj",
         "/CN=%s" % hostname],
        ["x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"], "-CAcreateserial",
         "-out", paths["certificate"], "-days", "2", "-extfile", paths["ext"]],
    ):
        subprocess.run(["openssl"] + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return paths
